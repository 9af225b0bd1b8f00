package egcompat

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/translate"
)

// egOut is the part of EG's out.yaml we compare: input objects with their
// expected status, and a loose view of the xdsIR.
type egOut struct {
	Gateways   []*gwv1.Gateway     `json:"gateways"`
	HTTPRoutes []*gwv1.HTTPRoute   `json:"httpRoutes"`
	GRPCRoutes []*gwv1.GRPCRoute   `json:"grpcRoutes"`
	TLSRoutes  []*gwv1.TLSRoute    `json:"tlsRoutes"`
	TCPRoutes  []*gwv1.TCPRoute    `json:"tcpRoutes"`
	UDPRoutes  []*gwv1.UDPRoute    `json:"udpRoutes"`
	XdsIR      map[string]*egXdsIR `json:"xdsIR"`

	ClientTrafficPolicies  []*egv1a1.ClientTrafficPolicy  `json:"clientTrafficPolicies"`
	BackendTrafficPolicies []*egv1a1.BackendTrafficPolicy `json:"backendTrafficPolicies"`
	SecurityPolicies       []*egv1a1.SecurityPolicy       `json:"securityPolicies"`
	EnvoyExtensionPolicies []*egv1a1.EnvoyExtensionPolicy `json:"envoyExtensionPolicies"`
	EnvoyPatchPolicies     []*egv1a1.EnvoyPatchPolicy     `json:"envoyPatchPolicies"`

	GatewayClass              *gwv1.GatewayClass   `json:"gatewayClass"`
	EnvoyProxyForGatewayClass *egv1a1.EnvoyProxy   `json:"envoyProxyForGatewayClass"`
	EnvoyProxiesForGateways   []*egv1a1.EnvoyProxy `json:"envoyProxiesForGateways"`
}

type egXdsIR struct {
	HTTP []egHTTPListener `json:"http"`
	TCP  []struct {
		Name   string `json:"name"`
		Routes []struct {
			Name        string         `json:"name"`
			Destination *egDestination `json:"destination"`
		} `json:"routes"`
	} `json:"tcp"`
	UDP []struct {
		Name  string `json:"name"`
		Route *struct {
			Name        string         `json:"name"`
			Destination *egDestination `json:"destination"`
		} `json:"route"`
	} `json:"udp"`
}

type egHTTPListener struct {
	Name   string        `json:"name"`
	Routes []egHTTPRoute `json:"routes"`
}

type egHTTPRoute struct {
	Name           string         `json:"name"`
	Hostname       string         `json:"hostname"`
	Destination    *egDestination `json:"destination"`
	DirectResponse *struct {
		StatusCode int `json:"statusCode"`
	} `json:"directResponse"`
	Redirect *struct{} `json:"redirect"`
}

type egDestination struct {
	Name     string `json:"name"`
	Settings []struct {
		Name string `json:"name"`
	} `json:"settings"`
	// BackendClusterRefs name the shared clusters of EnvoyProxy
	// mergeBackends.
	BackendClusterRefs []struct {
		Name string `json:"name"`
	} `json:"backendClusterRefs"`
}

// condView is what we compare of a condition.
type condView struct{ Status, Reason string }

func condMap(cs []metav1.Condition) map[string]condView {
	m := make(map[string]condView, len(cs))
	for _, c := range cs {
		m[c.Type] = condView{string(c.Status), c.Reason}
	}
	return m
}

// diffConds reports, for one status owner `where`, every condition type EG
// writes that egctl writes differently or not at all, and every condition
// egctl adds that says something is wrong (status False for a positive
// condition type, or True for Conflicted). Extra conditions in their normal
// state are allowed by the spec and not reported.
func diffConds(where string, eg, ours []metav1.Condition) []string {
	want, got := condMap(eg), condMap(ours)
	var out []string
	for _, t := range sortedKeys(want) {
		w := want[t]
		g, ok := got[t]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s EG=%s/%s egctl=absent", where, t, w.Status, w.Reason))
		case g != w:
			out = append(out, fmt.Sprintf("%s: %s EG=%s/%s egctl=%s/%s", where, t, w.Status, w.Reason, g.Status, g.Reason))
		}
	}
	for _, t := range sortedKeys(got) {
		if _, ok := want[t]; ok {
			continue
		}
		g := got[t]
		abnormal := g.Status == "False"
		if t == "Conflicted" || t == "PartiallyInvalid" {
			abnormal = g.Status == "True"
		}
		if abnormal {
			out = append(out, fmt.Sprintf("%s: %s EG=absent egctl=%s/%s", where, t, g.Status, g.Reason))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func kindsString(ks []gwv1.RouteGroupKind) string {
	var s []string
	for _, k := range ks {
		g := gwv1.GroupName
		if k.Group != nil {
			g = string(*k.Group)
		}
		s = append(s, g+"/"+string(k.Kind))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// compareGateways compares Gateway conditions (when EG writes any) and
// every listener's conditions, attachedRoutes and supportedKinds.
func compareGateways(eg, ours []*gwv1.Gateway) []string {
	byKey := map[string]*gwv1.Gateway{}
	for _, g := range ours {
		byKey[g.Namespace+"/"+g.Name] = g
	}
	var out []string
	for _, w := range eg {
		key := w.Namespace + "/" + w.Name
		where := "Gateway " + key
		g := byKey[key]
		if g == nil {
			out = append(out, where+": missing in egctl's status output")
			continue
		}
		if len(w.Status.Conditions) > 0 {
			out = append(out, diffConds(where, w.Status.Conditions, g.Status.Conditions)...)
		}
		gl := map[string]gwv1.ListenerStatus{}
		for _, l := range g.Status.Listeners {
			gl[string(l.Name)] = l
		}
		for _, wl := range w.Status.Listeners {
			lw := where + " listener " + string(wl.Name)
			l, ok := gl[string(wl.Name)]
			if !ok {
				out = append(out, lw+": no listener status in egctl")
				continue
			}
			if wl.AttachedRoutes != l.AttachedRoutes {
				out = append(out, fmt.Sprintf("%s: attachedRoutes EG=%d egctl=%d", lw, wl.AttachedRoutes, l.AttachedRoutes))
			}
			if a, b := kindsString(wl.SupportedKinds), kindsString(l.SupportedKinds); a != b {
				out = append(out, fmt.Sprintf("%s: supportedKinds EG=[%s] egctl=[%s]", lw, a, b))
			}
			out = append(out, diffConds(lw, wl.Conditions, l.Conditions)...)
		}
	}
	return out
}

// routeStatus is the common part of every route kind.
type routeStatus struct {
	Kind, Key string
	Parents   []gwv1.RouteParentStatus
}

func parentKey(routeNS string, p gwv1.ParentReference) string {
	ns := routeNS
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	k := ns + "/" + string(p.Name)
	if p.Kind != nil && *p.Kind != "Gateway" {
		k = string(*p.Kind) + ":" + k
	}
	if p.SectionName != nil {
		k += "#" + string(*p.SectionName)
	}
	if p.Port != nil {
		k += fmt.Sprintf(":%d", *p.Port)
	}
	return k
}

func compareRoutes(eg, ours []routeStatus) []string {
	byKey := map[string]routeStatus{}
	for _, r := range ours {
		byKey[r.Kind+" "+r.Key] = r
	}
	var out []string
	for _, w := range eg {
		where := w.Kind + " " + w.Key
		g, ok := byKey[where]
		if !ok {
			out = append(out, where+": missing in egctl's status output")
			continue
		}
		ns := strings.SplitN(w.Key, "/", 2)[0]
		gp := map[string]gwv1.RouteParentStatus{}
		for _, p := range g.Parents {
			gp[parentKey(ns, p.ParentRef)] = p
		}
		seen := map[string]bool{}
		for _, wp := range w.Parents {
			pk := parentKey(ns, wp.ParentRef)
			seen[pk] = true
			p, ok := gp[pk]
			pw := where + " parent " + pk
			if !ok {
				out = append(out, pw+": no parent status in egctl")
				continue
			}
			out = append(out, diffConds(pw, wp.Conditions, p.Conditions)...)
		}
		for _, pk := range sortedKeys(gp) {
			if !seen[pk] {
				out = append(out, where+" parent "+pk+": parent status only in egctl")
			}
		}
	}
	return out
}

func httpRouteStatuses(rs []*gwv1.HTTPRoute) []routeStatus {
	var out []routeStatus
	for _, r := range rs {
		out = append(out, routeStatus{"HTTPRoute", r.Namespace + "/" + r.Name, r.Status.Parents})
	}
	return out
}

func grpcRouteStatuses(rs []*gwv1.GRPCRoute) []routeStatus {
	var out []routeStatus
	for _, r := range rs {
		out = append(out, routeStatus{"GRPCRoute", r.Namespace + "/" + r.Name, r.Status.Parents})
	}
	return out
}

func tlsRouteStatuses(rs []*gwv1.TLSRoute) []routeStatus {
	var out []routeStatus
	for _, r := range rs {
		out = append(out, routeStatus{"TLSRoute", r.Namespace + "/" + r.Name, r.Status.Parents})
	}
	return out
}

func tcpRouteStatuses(rs []*gwv1.TCPRoute) []routeStatus {
	var out []routeStatus
	for _, r := range rs {
		out = append(out, routeStatus{"TCPRoute", r.Namespace + "/" + r.Name, r.Status.Parents})
	}
	return out
}

func udpRouteStatuses(rs []*gwv1.UDPRoute) []routeStatus {
	var out []routeStatus
	for _, r := range rs {
		out = append(out, routeStatus{"UDPRoute", r.Namespace + "/" + r.Name, r.Status.Parents})
	}
	return out
}

// compareStatus compares every status EG's out.yaml holds.
func compareStatus(want *egOut, res *translate.Result) []string {
	out := compareGateways(want.Gateways, res.Status.Gateways)
	var eg, ours []routeStatus
	eg = append(eg, httpRouteStatuses(want.HTTPRoutes)...)
	eg = append(eg, grpcRouteStatuses(want.GRPCRoutes)...)
	eg = append(eg, tlsRouteStatuses(want.TLSRoutes)...)
	eg = append(eg, tcpRouteStatuses(want.TCPRoutes)...)
	eg = append(eg, udpRouteStatuses(want.UDPRoutes)...)
	ours = append(ours, httpRouteStatuses(res.Status.HTTPRoutes)...)
	ours = append(ours, grpcRouteStatuses(res.Status.GRPCRoutes)...)
	ours = append(ours, tlsRouteStatuses(res.Status.TLSRoutes)...)
	ours = append(ours, tcpRouteStatuses(res.Status.TCPRoutes)...)
	ours = append(ours, udpRouteStatuses(res.Status.UDPRoutes)...)
	out = append(out, compareRoutes(eg, ours)...)
	out = append(out, compareEnvoyProxies(want, res)...) // kind_envoyproxy_test.go
	return append(out, comparePolicies(policyStatuses(want.ClientTrafficPolicies, want.BackendTrafficPolicies,
		want.SecurityPolicies, want.EnvoyExtensionPolicies, want.EnvoyPatchPolicies),
		policyStatuses(res.Status.ClientTrafficPolicies, res.Status.BackendTrafficPolicies,
			res.Status.SecurityPolicies, res.Status.EnvoyExtensionPolicies, res.Status.EnvoyPatchPolicies))...)
}

// kindComparers are extra comparisons a policy kind adds in its own file
// (kind_*_test.go): what its settings became, beside statuses and routes.
// Each returns mismatch lines, as the other comparisons do.
var kindComparers []func(c *egCase, res *translate.Result) []string

// policyStatus is one policy's status, whatever its kind.
type policyStatus struct {
	Kind, Key string
	Ancestors []gwv1.PolicyAncestorStatus
}

func policyStatuses(ctp []*egv1a1.ClientTrafficPolicy, btp []*egv1a1.BackendTrafficPolicy, sp []*egv1a1.SecurityPolicy,
	eep []*egv1a1.EnvoyExtensionPolicy, epp []*egv1a1.EnvoyPatchPolicy) []policyStatus {
	var out []policyStatus
	for _, p := range ctp {
		out = append(out, policyStatus{"ClientTrafficPolicy", p.Namespace + "/" + p.Name, p.Status.Ancestors})
	}
	for _, p := range btp {
		out = append(out, policyStatus{"BackendTrafficPolicy", p.Namespace + "/" + p.Name, p.Status.Ancestors})
	}
	for _, p := range sp {
		out = append(out, policyStatus{"SecurityPolicy", p.Namespace + "/" + p.Name, p.Status.Ancestors})
	}
	for _, p := range eep {
		out = append(out, policyStatus{"EnvoyExtensionPolicy", p.Namespace + "/" + p.Name, p.Status.Ancestors})
	}
	for _, p := range epp {
		out = append(out, policyStatus{"EnvoyPatchPolicy", p.Namespace + "/" + p.Name, p.Status.Ancestors})
	}
	return out
}

// comparePolicies compares, per policy and ancestor, the conditions EG
// writes (type, status, reason), as for route parents.
func comparePolicies(eg, ours []policyStatus) []string {
	byKey := map[string]policyStatus{}
	for _, p := range ours {
		byKey[p.Kind+" "+p.Key] = p
	}
	var out []string
	for _, w := range eg {
		where := w.Kind + " " + w.Key
		g, ok := byKey[where]
		if !ok {
			out = append(out, where+": missing in egctl's status output")
			continue
		}
		ns := strings.SplitN(w.Key, "/", 2)[0]
		ga := map[string]gwv1.PolicyAncestorStatus{}
		for _, a := range g.Ancestors {
			ga[parentKey(ns, a.AncestorRef)] = a
		}
		seen := map[string]bool{}
		for _, wa := range w.Ancestors {
			ak := parentKey(ns, wa.AncestorRef)
			seen[ak] = true
			pw := where + " ancestor " + ak
			a, ok := ga[ak]
			if !ok {
				out = append(out, pw+": no ancestor status in egctl")
				continue
			}
			out = append(out, diffConds(pw, wa.Conditions, a.Conditions)...)
		}
		for _, ak := range sortedKeys(ga) {
			if !seen[ak] {
				out = append(out, where+" ancestor "+ak+": ancestor status only in egctl")
			}
		}
	}
	return out
}

// routeView is the loose shape of one route: what it does, and where to.
type routeView struct {
	Host   string
	Action string
}

func destString(name string, backends []string) string {
	sort.Strings(backends)
	return "dest " + name + " [" + strings.Join(backends, ",") + "]"
}

func egDest(d *egDestination) string {
	if d == nil {
		return "no destination"
	}
	var bs []string
	for _, s := range d.Settings {
		bs = append(bs, s.Name)
	}
	for _, r := range d.BackendClusterRefs {
		bs = append(bs, "shared "+r.Name)
	}
	return destString(d.Name, bs)
}

func ourDest(d *ir.RouteDestination) string {
	if d == nil {
		return "no destination"
	}
	var bs []string
	for _, b := range d.Backends {
		if b.Merged {
			bs = append(bs, "shared "+b.Name)
			continue
		}
		bs = append(bs, b.Name)
	}
	return destString(d.Name, bs)
}

// listenerView is the loose shape of one IR listener: its routes by name and
// the route order per hostname.
type listenerView struct {
	Routes map[string]routeView
	Order  map[string][]string // hostname → route names in match order
}

func newListenerView() *listenerView {
	return &listenerView{Routes: map[string]routeView{}, Order: map[string][]string{}}
}

func (v *listenerView) add(name, host, action string) {
	v.Routes[name] = routeView{host, action}
	v.Order[host] = append(v.Order[host], name)
}

func egIRView(x map[string]*egXdsIR) map[string]map[string]*listenerView {
	out := map[string]map[string]*listenerView{}
	for proxy, p := range x {
		ls := map[string]*listenerView{}
		out[proxy] = ls
		for _, l := range p.HTTP {
			v := newListenerView()
			ls["http "+l.Name] = v
			for _, r := range l.Routes {
				a := egDest(r.Destination)
				switch {
				case r.DirectResponse != nil:
					a = fmt.Sprintf("direct %d", r.DirectResponse.StatusCode)
				case r.Redirect != nil:
					a = "redirect"
				}
				v.add(r.Name, r.Hostname, a)
			}
		}
		for _, l := range p.TCP {
			v := newListenerView()
			ls["tcp "+l.Name] = v
			for _, r := range l.Routes {
				v.add(r.Name, "", egDest(r.Destination))
			}
		}
		for _, l := range p.UDP {
			v := newListenerView()
			ls["udp "+l.Name] = v
			if r := l.Route; r != nil {
				v.add(r.Name, "", egDest(r.Destination))
			}
		}
	}
	return out
}

func ourIRView(c *ir.Config) map[string]map[string]*listenerView {
	out := map[string]map[string]*listenerView{}
	if c == nil {
		return out
	}
	for _, p := range c.Proxies {
		ls := map[string]*listenerView{}
		out[p.Name] = ls
		for _, l := range p.HTTP {
			v := newListenerView()
			ls["http "+l.Name] = v
			for _, vh := range l.VirtualHosts {
				host := "*"
				if len(vh.Domains) > 0 {
					host = vh.Domains[0]
				}
				for _, r := range vh.Routes {
					a := ourDest(r.Destination)
					switch {
					case r.DirectResponse != nil:
						a = fmt.Sprintf("direct %d", r.DirectResponse.StatusCode)
					case r.Redirect != nil:
						a = "redirect"
					}
					v.add(r.Name, host, a)
				}
			}
		}
		for _, l := range p.TCP {
			v := newListenerView()
			ls["tcp "+l.Name] = v
			for _, r := range l.Routes {
				v.add(r.Name, "", ourDest(r.Destination))
			}
		}
		for _, l := range p.UDP {
			v := newListenerView()
			ls["udp "+l.Name] = v
			if r := l.Route; r != nil {
				v.add(r.Name, "", ourDest(r.Destination))
			}
		}
	}
	return out
}

// compareIR compares the route structure loosely: which proxies and
// listeners exist, which routes each has, what each route does, and the
// relative order of the routes both have for each hostname.
func compareIR(eg map[string]*egXdsIR, ours *ir.Config) []string {
	want, got := egIRView(eg), ourIRView(ours)
	var out []string
	for _, p := range sortedKeys(want) {
		gp, ok := got[p]
		if !ok {
			// EG keeps an empty xdsIR for a Gateway with nothing programmed.
			if n := countRoutes(want[p]); n > 0 {
				out = append(out, fmt.Sprintf("IR proxy %s: missing in egctl (EG has %d routes)", p, n))
			}
			continue
		}
		for _, l := range sortedKeys(want[p]) {
			wl := want[p][l]
			gl, ok := gp[l]
			if !ok {
				if len(wl.Routes) > 0 {
					out = append(out, fmt.Sprintf("IR %s: listener missing in egctl (EG has %d routes)", l, len(wl.Routes)))
				}
				continue
			}
			out = append(out, compareListener("IR "+l, wl, gl)...)
		}
		for _, l := range sortedKeys(gp) {
			if _, ok := want[p][l]; !ok && len(gp[l].Routes) > 0 {
				out = append(out, fmt.Sprintf("IR %s: listener only in egctl", l))
			}
		}
	}
	for _, p := range sortedKeys(got) {
		if _, ok := want[p]; !ok {
			out = append(out, fmt.Sprintf("IR proxy %s: only in egctl", p))
		}
	}
	return out
}

func countRoutes(ls map[string]*listenerView) int {
	n := 0
	for _, l := range ls {
		n += len(l.Routes)
	}
	return n
}

func compareListener(where string, want, got *listenerView) []string {
	var out []string
	for _, n := range sortedKeys(want.Routes) {
		g, ok := got.Routes[n]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: route %s missing in egctl (EG: %s)", where, n, want.Routes[n].Action))
		case g.Action != want.Routes[n].Action:
			out = append(out, fmt.Sprintf("%s: route %s EG=%s egctl=%s", where, n, want.Routes[n].Action, g.Action))
		}
	}
	for _, n := range sortedKeys(got.Routes) {
		if _, ok := want.Routes[n]; !ok {
			out = append(out, fmt.Sprintf("%s: route %s only in egctl (%s)", where, n, got.Routes[n].Action))
		}
	}
	for _, h := range sortedKeys(want.Order) {
		a := common(want.Order[h], got.Routes)
		b := common(got.Order[h], want.Routes)
		if strings.Join(a, " ") != strings.Join(b, " ") {
			out = append(out, fmt.Sprintf("%s host %s: route order EG=[%s] egctl=[%s]", where, h, strings.Join(a, " "), strings.Join(b, " ")))
		}
	}
	return out
}

// common keeps the names that the other side also has, in order.
func common(names []string, other map[string]routeView) []string {
	var out []string
	for _, n := range names {
		if _, ok := other[n]; ok {
			out = append(out, n)
		}
	}
	return out
}
