package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Resource types compared, in report order. The bootstrap is reported on
// its own: egctl's --to xds carries a representative ADS bootstrap, Envoy
// Gateway's the one its Deployment runs; neither is what the goals count.
var resourceTypes = []string{"listener", "route", "cluster", "endpoint", "secret"}

// resource is one xDS resource of one proxy as canonical JSON.
type resource struct {
	canon []byte
	value any
}

// proxyResources are the resources of one output: proxy → type → name.
type proxyResources map[string]map[string]map[string]*resource

// has reports whether the output's dump of proxy had a section of type t.
func (r proxyResources) has(proxy, t string) bool {
	_, ok := r[proxy][t]
	return ok
}

// parseOutput reads `x translate --to xds -t all -o json` output (both
// egctls print {"xds": {"ns/gateway": {"configs": [...]}}}).
func parseOutput(b []byte) (proxyResources, error) {
	var top struct {
		XDS map[string]struct {
			Configs []map[string]any `json:"configs"`
		} `json:"xds"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, err
	}
	out := proxyResources{}
	for proxy, dump := range top.XDS {
		byType := map[string]map[string]*resource{}
		section := func(typ string) {
			if byType[typ] == nil {
				byType[typ] = map[string]*resource{}
			}
		}
		put := func(typ string, v any, nameKey string) {
			section(typ)
			m, _ := v.(map[string]any)
			if m == nil {
				return
			}
			for _, k := range ignoredKeys {
				dropKey(m, k)
			}
			delete(m, "@type")
			name, _ := m[nameKey].(string)
			byType[typ][name] = &resource{canon: canonical(m), value: m}
		}
		for _, c := range dump.Configs {
			switch c["@type"] {
			case "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump":
				put("bootstrap", c["bootstrap"], "")
			case "type.googleapis.com/envoy.admin.v3.ListenersConfigDump":
				section("listener")
				for _, l := range list(c["dynamicListeners"]) {
					put("listener", get(l, "activeState", "listener"), "name")
				}
			case "type.googleapis.com/envoy.admin.v3.RoutesConfigDump":
				section("route")
				for _, r := range list(c["dynamicRouteConfigs"]) {
					put("route", get(r, "routeConfig"), "name")
				}
			case "type.googleapis.com/envoy.admin.v3.ClustersConfigDump":
				section("cluster")
				// Static clusters are the bootstrap's, reported with it.
				for _, r := range list(c["dynamicActiveClusters"]) {
					put("cluster", get(r, "cluster"), "name")
				}
			case "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump":
				section("endpoint")
				for _, r := range list(c["dynamicEndpointConfigs"]) {
					put("endpoint", get(r, "endpointConfig"), "clusterName")
				}
			case "type.googleapis.com/envoy.admin.v3.SecretsConfigDump":
				section("secret")
				for _, r := range list(c["dynamicActiveSecrets"]) {
					put("secret", get(r, "secret"), "name")
				}
			}
		}
		out[proxy] = byType
	}
	return out, nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		if m == nil {
			return nil
		}
		v = m[p]
	}
	return v
}

// canonical is v as compact JSON with object keys sorted (encoding/json
// sorts map keys); numbers keep their text.
func canonical(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// diffPaths appends to out the field paths where a and b differ. List
// elements are paired by "name" when every element of both lists has a
// distinct one (filters, filter chains, routes), else by position; a
// path shows a paired name only when it is a type name (no "/"), so that
// paths of different inputs aggregate.
func diffPaths(prefix string, a, b any, out map[string]bool) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			out[prefix+" (type)"] = true
			return
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for k := range keys {
			seg := k
			if k == "typedConfig" || k == "typed_config" {
				if t, _ := get(av, k, "@type").(string); t != "" {
					seg = k + "<" + t[strings.LastIndex(t, ".")+1:] + ">"
				} else if t, _ := get(bv, k, "@type").(string); t != "" {
					seg = k + "<" + t[strings.LastIndex(t, ".")+1:] + ">"
				}
			}
			p := join(prefix, seg)
			x, inA := av[k]
			y, inB := bv[k]
			switch {
			case !inA:
				out[p+" (only egctl)"] = true
			case !inB:
				out[p+" (only Envoy Gateway)"] = true
			default:
				diffPaths(p, x, y, out)
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok {
			out[prefix+" (type)"] = true
			return
		}
		if an, bn, ok := names(av), names(bv), true; an != nil && bn != nil && ok {
			all := map[string]bool{}
			for n := range an {
				all[n] = true
			}
			for n := range bn {
				all[n] = true
			}
			for n := range all {
				seg := "[]"
				if !strings.Contains(n, "/") {
					seg = "[" + n + "]"
				}
				x, inA := an[n]
				y, inB := bn[n]
				switch {
				case !inA:
					out[prefix+seg+" (only egctl)"] = true
				case !inB:
					out[prefix+seg+" (only Envoy Gateway)"] = true
				default:
					diffPaths(prefix+seg, x, y, out)
				}
			}
			if len(an) == len(bn) && !sameOrder(av, bv) {
				out[prefix+"[] (order)"] = true
			}
			return
		}
		if len(av) != len(bv) {
			out[prefix+"[] (length)"] = true
		}
		for i := 0; i < len(av) && i < len(bv); i++ {
			diffPaths(prefix+"[]", av[i], bv[i], out)
		}
	default:
		if !bytes.Equal(canonical(a), canonical(b)) {
			out[prefix] = true
		}
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// names maps each element's "name" to it, or nil when some element has
// none or two share one.
func names(l []any) map[string]any {
	if len(l) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, e := range l {
		m, _ := e.(map[string]any)
		n, _ := m["name"].(string)
		if n == "" {
			return nil
		}
		if _, dup := out[n]; dup {
			return nil
		}
		out[n] = e
	}
	return out
}

func sameOrder(a, b []any) bool {
	for i := range a {
		if get(a[i], "name") != get(b[i], "name") {
			return false
		}
	}
	return true
}

// caseResult is the comparison of one case.
type caseResult struct {
	Name, Kind string
	// EGOK: Envoy Gateway's egctl printed xDS (exit 0, parseable). OursOK:
	// egctl printed xDS (exit 0 or 1: 1 says some object is not accepted).
	EGOK, OursOK bool
	// OursClean: egctl exited 0, every input object accepted (the inputs
	// egctl fully supports).
	OursClean      bool
	EGErr, OursErr string
	// Per type: resources on either side, on both, byte-equal.
	Union, Both, Equal map[string]int
	NamesEqual         bool
	// Paths maps a type and field path to the resources that differ there.
	Paths map[string]int
	// Missing and Extra are the resources only Envoy Gateway, or only
	// egctl, has, per type.
	Missing, Extra map[string]int
	BootstrapEqual bool
	// diffs keeps the differing resources, for -show.
	diffs []string
}

func compareOutputs(eg, ours proxyResources, r *caseResult) {
	r.Union, r.Both, r.Equal = map[string]int{}, map[string]int{}, map[string]int{}
	r.Missing, r.Extra, r.Paths = map[string]int{}, map[string]int{}, map[string]int{}
	r.NamesEqual = true
	proxies := map[string]bool{}
	for p := range eg {
		proxies[p] = true
	}
	for p := range ours {
		proxies[p] = true
	}
	for p := range proxies {
		for _, t := range resourceTypes {
			if t == "secret" && !eg.has(p, t) {
				// Envoy Gateway's egctl prints no secrets at all (its
				// xDS server sends them): nothing to compare with, as
				// egctl x diff says of a section absent from a dump.
				continue
			}
			a, b := eg[p][t], ours[p][t]
			all := map[string]bool{}
			for n := range a {
				all[n] = true
			}
			for n := range b {
				all[n] = true
			}
			ns := make([]string, 0, len(all))
			for n := range all {
				ns = append(ns, n)
			}
			sort.Strings(ns)
			for _, n := range ns {
				r.Union[t]++
				x, y := a[n], b[n]
				switch {
				case x == nil:
					r.NamesEqual = false
					r.Extra[t]++
					r.diffs = append(r.diffs, fmt.Sprintf("%s %s %q: only egctl", p, t, n))
				case y == nil:
					r.NamesEqual = false
					r.Missing[t]++
					r.diffs = append(r.diffs, fmt.Sprintf("%s %s %q: only Envoy Gateway", p, t, n))
				default:
					r.Both[t]++
					if bytes.Equal(x.canon, y.canon) {
						r.Equal[t]++
						continue
					}
					paths := map[string]bool{}
					// a is Envoy Gateway's: "only egctl" means b has it.
					diffPaths("", x.value, y.value, paths)
					ps := make([]string, 0, len(paths))
					for q := range paths {
						r.Paths[t+": "+q]++
						ps = append(ps, q)
					}
					sort.Strings(ps)
					r.diffs = append(r.diffs, fmt.Sprintf("%s %s %q differs at: %s", p, t, n, strings.Join(ps, ", ")))
				}
			}
		}
		if eg[p] != nil && ours[p] != nil {
			x, y := eg[p]["bootstrap"][""], ours[p]["bootstrap"][""]
			r.BootstrapEqual = x != nil && y != nil && bytes.Equal(x.canon, y.canon)
		}
	}
}

// ignoredKeys are dropped from every resource before comparing (-ignore).
var ignoredKeys []string

func dropKey(v any, key string) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, key)
		for _, e := range v {
			dropKey(e, key)
		}
	case []any:
		for _, e := range v {
			dropKey(e, key)
		}
	}
}
