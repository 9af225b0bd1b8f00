package statuscmd

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/cli/diffcmd"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// `egctl x status TYPE` prints Envoy Gateway's `egctl x status TYPE`
// tables from manifests: per object (and per route parent, per policy
// ancestor) one row per condition, newest first; -q keeps the first, -v
// adds the message, observed generation and last transition time, -A
// adds a NAMESPACE column and lists every namespace (without it, only
// -n's).

// statusType is one kind `x status TYPE` lists.
type statusType struct {
	kind    string
	aliases []string
}

var (
	routeTypes = []statusType{
		{"HTTPRoute", []string{"httproute", "httproutes"}},
		{"GRPCRoute", []string{"grpcroute", "grpcroutes"}},
		{"TCPRoute", []string{"tcproute", "tcproutes"}},
		{"UDPRoute", []string{"udproute", "udproutes"}},
		{"TLSRoute", []string{"tlsroute", "tlsroutes"}},
	}
	policyTypes = []statusType{
		{"BackendTLSPolicy", []string{"backendtlspolicy", "btlspolicy"}},
		{"BackendTrafficPolicy", []string{"backendtrafficpolicy", "btp"}},
		{"ClientTrafficPolicy", []string{"clienttrafficpolicy", "ctp"}},
		{"SecurityPolicy", []string{"securitypolicy", "sp"}},
		{"EnvoyPatchPolicy", []string{"envoypatchpolicy", "epp"}},
		{"EnvoyExtensionPolicy", []string{"envoyextensionpolicy", "eep"}},
	}
	// Envoy Gateway's order for "all"; ListenerSet and Backend are
	// egctl's additions (Envoy Gateway's egctl does not list them).
	allTypes = slices.Concat(
		[]statusType{
			{"GatewayClass", []string{"gatewayclass", "gatewayclasses", "gc"}},
			{"Gateway", []string{"gateway", "gateways", "gtw"}},
			{"ListenerSet", []string{"listenerset", "listenersets", "ls"}},
		},
		routeTypes,
		[]statusType{{"Backend", []string{"backend", "backends"}}},
		policyTypes,
	)
)

// TypeNames are the TYPE arguments, for help and completion.
func TypeNames() []string {
	out := []string{"all", "xroute", "xpolicy"}
	for _, t := range allTypes {
		out = append(out, t.aliases[0])
	}
	return out
}

// parseType resolves TYPE to the kinds it lists, and whether names are
// written "kind/name" (several kinds in one run, as Envoy Gateway does).
func parseType(arg string) ([]statusType, bool, error) {
	a := strings.ToLower(arg)
	switch a {
	case "all":
		return allTypes, true, nil
	case "xroute":
		return routeTypes, true, nil
	case "xpolicy":
		return policyTypes, true, nil
	}
	for _, t := range allTypes {
		if slices.Contains(t.aliases, a) {
			return []statusType{t}, false, nil
		}
	}
	return nil, false, fmt.Errorf("unknown input resource type: %s, supported input types are: %s", arg, strings.Join(TypeNames(), ", "))
}

// condRow is one row before formatting.
type condRow struct {
	namespace, name, parent string
	cond                    metav1.Condition
	// unserved rows have no condition: a problem no status carries.
	unserved bool
}

// typeTable is one kind's rows.
type typeTable struct {
	kind string
	rows []condRow
	// hidden counts the objects of other namespaces left out without -A.
	hidden int
}

type tableOptions struct {
	namespace     string
	allNamespaces bool
	quiet         bool
	verbose       bool
	typedName     bool
}

// conditionTables collects the rows of each kind.
func conditionTables(s *resource.Set, problems []translate.Problem, types []statusType, o tableOptions) []typeTable {
	var out []typeTable
	for _, t := range types {
		tab := typeTable{kind: t.kind}
		add := func(ns, name, parent string, conds []metav1.Condition) {
			if !o.allNamespaces && t.kind != "GatewayClass" && ns != o.namespace {
				tab.hidden++
				return
			}
			// Newest first, as Envoy Gateway prints them.
			for i := len(conds) - 1; i >= 0; i-- {
				tab.rows = append(tab.rows, condRow{namespace: ns, name: name, parent: parent, cond: conds[i]})
				if o.quiet {
					break
				}
			}
		}
		forEachStatus(s, t.kind, add)
		for _, p := range problems {
			if p.Condition != "" || p.Key.Kind != t.kind {
				continue
			}
			if !o.allNamespaces && t.kind != "GatewayClass" && p.Key.Namespace != o.namespace {
				tab.hidden++
				continue
			}
			tab.rows = append(tab.rows, condRow{namespace: p.Key.Namespace, name: p.Key.Name, parent: parentKindName(p.Parent),
				cond: metav1.Condition{Reason: p.Reason, Message: p.Message}, unserved: true})
		}
		// A problem's row goes with its object's rows.
		sort.SliceStable(tab.rows, func(i, j int) bool {
			a, b := tab.rows[i], tab.rows[j]
			if a.namespace != b.namespace {
				return a.namespace < b.namespace
			}
			return a.name < b.name
		})
		out = append(out, tab)
	}
	return out
}

// parentKindName writes "Gateway ns/name" as Envoy Gateway's
// "gateway/name".
func parentKindName(p string) string {
	if p == "" {
		return ""
	}
	kind, ref, ok := strings.Cut(p, " ")
	if !ok {
		return p
	}
	_, name, _ := strings.Cut(ref, "/")
	return strings.ToLower(kind) + "/" + name
}

func refKindName(kind *gwv1.Kind, name gwv1.ObjectName) string {
	k := "Gateway"
	if kind != nil && *kind != "" {
		k = string(*kind)
	}
	return strings.ToLower(k) + "/" + string(name)
}

// forEachStatus calls add for every object of kind with a status: its
// conditions, per parent or ancestor for routes and policies.
func forEachStatus(s *resource.Set, kind string, add func(ns, name, parent string, conds []metav1.Condition)) {
	route := func(ns, name string, parents []gwv1.RouteParentStatus) {
		for _, p := range parents {
			add(ns, name, refKindName(p.ParentRef.Kind, p.ParentRef.Name), p.Conditions)
		}
	}
	policy := func(ns, name string, st gwv1.PolicyStatus) {
		for _, a := range st.Ancestors {
			add(ns, name, refKindName(a.AncestorRef.Kind, a.AncestorRef.Name), a.Conditions)
		}
	}
	switch kind {
	case "GatewayClass":
		for _, o := range sorted(s.GatewayClasses) {
			add("", o.Name, "", o.Status.Conditions)
		}
	case "Gateway":
		for _, o := range sorted(s.Gateways) {
			add(o.Namespace, o.Name, "", o.Status.Conditions)
		}
	case "ListenerSet":
		for _, o := range sorted(s.ListenerSets) {
			add(o.Namespace, o.Name, "", o.Status.Conditions)
		}
	case "HTTPRoute":
		for _, o := range sorted(s.HTTPRoutes) {
			route(o.Namespace, o.Name, o.Status.Parents)
		}
	case "GRPCRoute":
		for _, o := range sorted(s.GRPCRoutes) {
			route(o.Namespace, o.Name, o.Status.Parents)
		}
	case "TCPRoute":
		for _, o := range sorted(s.TCPRoutes) {
			route(o.Namespace, o.Name, o.Status.Parents)
		}
	case "UDPRoute":
		for _, o := range sorted(s.UDPRoutes) {
			route(o.Namespace, o.Name, o.Status.Parents)
		}
	case "TLSRoute":
		for _, o := range sorted(s.TLSRoutes) {
			route(o.Namespace, o.Name, o.Status.Parents)
		}
	case "Backend":
		for _, o := range sorted(s.Backends) {
			add(o.Namespace, o.Name, "", o.Status.Conditions)
		}
	case "BackendTLSPolicy":
		for _, o := range sorted(s.BackendTLSPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	case "BackendTrafficPolicy":
		for _, o := range sorted(s.BackendTrafficPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	case "ClientTrafficPolicy":
		for _, o := range sorted(s.ClientTrafficPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	case "SecurityPolicy":
		for _, o := range sorted(s.SecurityPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	case "EnvoyPatchPolicy":
		for _, o := range sorted(s.EnvoyPatchPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	case "EnvoyExtensionPolicy":
		for _, o := range sorted(s.EnvoyExtensionPolicies) {
			policy(o.Namespace, o.Name, o.Status)
		}
	}
}

// writeTypeTables prints the tables as Envoy Gateway's egctl does: one
// per kind, separated by a blank line when several kinds are listed,
// empty ones left out then.
func writeTypeTables(w io.Writer, tables []typeTable, o tableOptions) {
	for _, t := range tables {
		if o.typedName && len(t.rows) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 10, 0, 3, ' ', 0)
		namespaced := o.allNamespaces && t.kind != "GatewayClass"
		fmt.Fprintln(tw, strings.Join(typeHeader(t.kind, namespaced, o.verbose), "\t"))
		var lastNS, lastName, lastParent string
		for i, r := range t.rows {
			name := r.name
			if o.typedName {
				name = strings.ToLower(t.kind) + "/" + r.name
			}
			first := i == 0 || r.namespace != lastNS || r.name != lastName
			var cells []string
			if namespaced {
				cells = append(cells, blankUnless(first, r.namespace))
			}
			cells = append(cells, blankUnless(first, name))
			if hasParent(t.kind) {
				cells = append(cells, blankUnless(first || r.parent != lastParent, r.parent))
			}
			typ, status := r.cond.Type, string(r.cond.Status)
			if r.unserved {
				typ, status = "-", "-"
			}
			cells = append(cells, typ, status, r.cond.Reason)
			if o.verbose {
				gen, at := strconv.FormatInt(r.cond.ObservedGeneration, 10), r.cond.LastTransitionTime.String()
				if r.unserved {
					gen, at = "-", "-"
				}
				cells = append(cells, oneLine(r.cond.Message), gen, at)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
			lastNS, lastName, lastParent = r.namespace, r.name, r.parent
		}
		_ = tw.Flush()
		if o.typedName {
			fmt.Fprintln(w)
		}
	}
}

func blankUnless(show bool, s string) string {
	if show {
		return s
	}
	return ""
}

func hasParent(kind string) bool {
	return strings.HasSuffix(kind, "Route") || strings.HasSuffix(kind, "Policy")
}

func typeHeader(kind string, namespaced, verbose bool) []string {
	h := []string{"NAME", "TYPE", "STATUS", "REASON"}
	switch {
	case strings.HasSuffix(kind, "Route"):
		h = []string{"NAME", "PARENT", "TYPE", "STATUS", "REASON"}
	case strings.HasSuffix(kind, "Policy"):
		h = []string{"NAME", "ANCESTOR REFERENCE", "TYPE", "STATUS", "REASON"}
	}
	if namespaced {
		h = append([]string{"NAMESPACE"}, h...)
	}
	if verbose {
		h = append(h, "MESSAGE", "OBSERVED GENERATION", "LAST TRANSITION TIME")
	}
	return h
}

// typeFilter keeps the rows of -o json|yaml that TYPE, -n and -A select.
func typeFilter(rows []ObjectStatus, types []statusType, o tableOptions) []ObjectStatus {
	out := []ObjectStatus{}
	for _, r := range rows {
		kind := r.Kind
		if kind == "Listener" {
			kind = "Gateway"
		}
		if !slices.ContainsFunc(types, func(t statusType) bool { return t.kind == kind }) {
			continue
		}
		if !o.allNamespaces && kind != "GatewayClass" && r.Namespace != o.namespace {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (o *Options) tableOptions() tableOptions {
	return tableOptions{namespace: o.Namespace, allNamespaces: o.AllNamespaces, quiet: o.IO.Quiet, verbose: o.IO.Verbose, typedName: o.typedName}
}

// writeTypes prints the TYPE tables, then the proxies, and says so on
// stderr when nothing matched (kubectl's words), naming what -A would
// show.
func (o *Options) writeTypes(rep *Report, in *diffcmd.Input) error {
	var sb strings.Builder
	rows := o.typeTables(&sb, in.Status, in.Problems)
	for i, p := range rep.Proxies {
		if i > 0 || rows > 0 {
			sb.WriteString("\n")
		}
		writeProxy(&sb, p)
	}
	if _, err := io.WriteString(o.IO.Out, sb.String()); err != nil {
		return err
	}
	o.noRows(rows)
	return verdict(o.IO, rep)
}

// typeTables writes TYPE's tables for a translated set and returns the
// number of rows; hidden counts those of other namespaces left out.
func (o *Options) typeTables(w io.Writer, set *resource.Set, problems []translate.Problem) (rows int) {
	opts := o.tableOptions()
	tables := conditionTables(set, problems, o.types, opts)
	for _, t := range tables {
		rows += len(t.rows)
		o.hidden += t.hidden
	}
	if rows > 0 {
		writeTypeTables(w, tables, opts)
	}
	return rows
}

// noRows says on stderr that TYPE matched nothing, in kubectl's words,
// naming what -A would show.
func (o *Options) noRows(rows int) {
	if rows > 0 {
		return
	}
	msg := fmt.Sprintf("No resources found in %s namespace.", o.Namespace)
	if o.AllNamespaces {
		msg = "No resources found."
	}
	if o.hidden > 0 {
		msg += fmt.Sprintf(" %s in other namespaces: -A lists them.", plural(o.hidden, "object is", "objects are"))
	}
	fmt.Fprintln(o.IO.ErrOut, msg)
}
