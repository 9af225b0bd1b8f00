package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/admin"
)

// marshalOpts renders protos as Envoy and Envoy Gateway print them
// (camelCase names), resolving Any types the admin client decoded as
// placeholders.
var marshalOpts = protojson.MarshalOptions{Resolver: admin.Resolver}

// tree is a resource as a generic JSON value, ready to normalise.
type tree = any

// toTree renders m as a generic JSON tree. Numbers stay json.Number so
// that large integers survive unchanged.
func toTree(m proto.Message) (tree, error) {
	raw, err := marshalOpts.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// canonicalize removes order Envoy does not act on, in place:
//   - virtual hosts of a route configuration (Envoy picks one by domain),
//     also inside HCMs that carry their route configuration inline;
//   - filter chains of a listener when every chain has a distinct name
//     (Envoy picks one by its filter_chain_match, never by position).
//
// Routes inside a virtual host, HTTP and network filters keep their order:
// Envoy evaluates them first to last.
func canonicalize(v tree) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			canonicalize(c)
			switch k {
			case "virtualHosts":
				sortByName(c, false)
			case "filterChains":
				sortByName(c, true)
			}
		}
	case []any:
		for _, c := range x {
			canonicalize(c)
		}
	}
}

// sortByName sorts a list of objects by their "name". With strict, the
// list is left alone unless every element has a distinct, non-empty name.
func sortByName(v tree, strict bool) {
	list, ok := v.([]any)
	if !ok {
		return
	}
	names := make([]string, len(list))
	seen := map[string]bool{}
	for i, e := range list {
		m, _ := e.(map[string]any)
		n, _ := m["name"].(string)
		if strict && (n == "" || seen[n]) {
			return
		}
		seen[n] = true
		names[i] = n
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
	sorted := make([]any, len(list))
	for i, j := range idx {
		sorted[i] = list[j]
	}
	copy(list, sorted)
}

// toYAML renders a normalised tree with sorted keys.
func toYAML(v tree) (string, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		return "", err
	}
	return string(y), nil
}

// resource is one named resource of one proxy, normalised.
type resource struct {
	typ, name string
	tree      tree
}

// resources lists a snapshot's resources with their names. Two resources
// of one type with the same name cannot both be served by Envoy; the
// later one is reported under a suffixed name so neither is lost.
func resources(s *Snapshot, reportedEndpoints bool) ([]resource, error) {
	if s == nil {
		return nil, nil
	}
	var out []resource
	add := func(typ, name string, m proto.Message) error {
		t, err := toTree(m)
		if err != nil {
			return fmt.Errorf("%s %q: %w", typ, name, err)
		}
		canonicalize(t)
		out = append(out, resource{typ: typ, name: name, tree: t})
		return nil
	}
	for _, m := range s.Listeners {
		if err := add(TypeListener, m.GetName(), m); err != nil {
			return nil, err
		}
		for _, rc := range extractInlineRoutes(out[len(out)-1].tree) {
			out = append(out, resource{typ: TypeRoute, name: rc.name, tree: rc.tree})
		}
	}
	for _, m := range s.Routes {
		if err := add(TypeRoute, m.GetName(), m); err != nil {
			return nil, err
		}
	}
	for _, m := range s.Clusters {
		if err := add(TypeCluster, m.GetName(), m); err != nil {
			return nil, err
		}
		if cla := extractLoadAssignment(out[len(out)-1].tree, m.GetName()); cla != nil {
			out = append(out, resource{typ: TypeEndpoint, name: m.GetName(), tree: cla})
		}
	}
	for _, m := range s.Endpoints {
		if err := add(TypeEndpoint, m.GetClusterName(), m); err != nil {
			return nil, err
		}
		if reportedEndpoints {
			asReported(out[len(out)-1].tree)
		}
	}
	for _, m := range s.Secrets {
		if err := add(TypeSecret, m.GetName(), m); err != nil {
			return nil, err
		}
	}
	return dedupe(out), nil
}

// dedupe renames the second and later resources of one type and name
// ("name (duplicate 2)"): Envoy cannot serve both, and neither may be lost.
func dedupe(list []resource) []resource {
	seen := map[string]int{}
	for i := range list {
		key := list[i].typ + "\x00" + list[i].name
		seen[key]++
		if n := seen[key]; n > 1 {
			list[i].name = fmt.Sprintf("%s (duplicate %d)", list[i].name, n)
		}
	}
	return list
}

const hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

// extractInlineRoutes takes the route configurations a listener's HCMs
// carry inline (a static bootstrap's) out of the listener tree, leaving
// their name in place, so that a route change reads as a change of that
// route configuration rather than of the whole listener, as it does for
// RDS.
func extractInlineRoutes(v tree) []resource {
	var out []resource
	var walk func(v tree)
	walk = func(v tree) {
		switch x := v.(type) {
		case map[string]any:
			if x["@type"] == hcmType {
				if rc, ok := x["routeConfig"].(map[string]any); ok {
					name, _ := rc["name"].(string)
					out = append(out, resource{typ: TypeRoute, name: name, tree: rc})
					x["routeConfig"] = map[string]any{"name": name}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// extractLoadAssignment does the same for a cluster's inline endpoints,
// which become an endpoint resource named after the cluster.
func extractLoadAssignment(v tree, cluster string) tree {
	x, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	cla, ok := x["loadAssignment"].(map[string]any)
	if !ok {
		return nil
	}
	x["loadAssignment"] = map[string]any{"clusterName": cla["clusterName"]}
	return cla
}

// defaultOverprovisioning is Envoy's overprovisioning factor when the
// assignment sets none; its endpoint reports always carry the value.
const defaultOverprovisioning = "140"

// asReported reduces a ClusterLoadAssignment tree to what Envoy's endpoint
// report shows: no locality metadata, no default overprovisioning factor,
// no empty health-check config, and no health status at all. The report's
// health status is the host's current health (an active health check that
// fails turns it UNHEALTHY), not what the assignment said; health is what
// `egctl x status` reports, and a diff must not change with it.
func asReported(v tree) {
	cla, ok := v.(map[string]any)
	if !ok {
		return
	}
	if pol, ok := cla["policy"].(map[string]any); ok {
		if f, ok := pol["overprovisioningFactor"].(json.Number); ok && f.String() == defaultOverprovisioning {
			delete(pol, "overprovisioningFactor")
		}
		if len(pol) == 0 {
			delete(cla, "policy")
		}
	}
	localities, _ := cla["endpoints"].([]any)
	for _, l := range localities {
		loc, ok := l.(map[string]any)
		if !ok {
			continue
		}
		delete(loc, "metadata")
		eps, _ := loc["lbEndpoints"].([]any)
		for _, e := range eps {
			lb, ok := e.(map[string]any)
			if !ok {
				continue
			}
			delete(lb, "healthStatus")
			if ep, ok := lb["endpoint"].(map[string]any); ok {
				if hc, ok := ep["healthCheckConfig"].(map[string]any); ok && len(hc) == 0 {
					delete(ep, "healthCheckConfig")
				}
			}
		}
	}
}
