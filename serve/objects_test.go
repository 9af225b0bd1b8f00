package serve

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestObjectsFollowTheFiles checks which compilation /status/objects
// reports: the latest, held back or not (what `x status -f` says of the
// files as they are), and the applied one while the latest does not load.
func TestObjectsFollowTheFiles(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"gw.yaml": gatewayYAML, "route.yaml": routeYAML("a.example.com", "be")})
	routeOK := func(o *Objects) bool {
		set, _, err := o.Set()
		if err != nil {
			t.Fatal(err)
		}
		if len(set.HTTPRoutes) != 1 || len(set.HTTPRoutes[0].Status.Parents) != 1 {
			t.Fatalf("routes: %+v", set.HTTPRoutes)
		}
		for _, c := range set.HTTPRoutes[0].Status.Parents[0].Conditions {
			if c.Type == "ResolvedRefs" {
				return c.Status == "True"
			}
		}
		t.Fatal("no ResolvedRefs condition")
		return false
	}
	o, err := f.s.Objects()
	if err != nil {
		t.Fatal(err)
	}
	if o.Compilation != "latest" || !routeOK(o) {
		t.Fatalf("first compilation: %s, route OK %v", o.Compilation, routeOK(o))
	}
	// Policies, Gateways and GatewayClasses are there, with origins.
	var kinds []string
	for _, e := range o.Objects {
		kinds = append(kinds, e.Kind)
		if e.File == "" || e.Line == 0 {
			t.Errorf("%s %s has no origin", e.Kind, e.Name)
		}
	}
	for _, k := range []string{"GatewayClass", "Gateway", "HTTPRoute", "Backend"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s in %v", k, kinds)
		}
	}

	// A new problem is held back; the objects are the latest's.
	write(t, filepath.Join(f.dir, "route.yaml"), routeYAML("a.example.com", "missing"))
	waitFor(t, func() bool { return len(f.s.Status().HeldBack) > 0 }, "the new problem held back", f)
	if o, err = f.s.Objects(); err != nil || o.Compilation != "latest" || routeOK(o) {
		t.Fatalf("held back: %v %+v", err, o)
	}
	found := false
	for _, p := range o.Problems {
		found = found || p.Kind == "HTTPRoute" && p.Name == "r" && filepath.Base(p.File) == "route.yaml" && p.Line == 1
	}
	if !found {
		t.Errorf("no problem of HTTPRoute r at route.yaml:1 in %+v", o.Problems)
	}

	// A file that does not load: the applied compilation's objects.
	write(t, filepath.Join(f.dir, "route.yaml"), "kind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\nmetadata: {name: r\n")
	waitFor(t, func() bool { st := f.s.Status(); return st.Latest != nil && st.Latest.Error != "" }, "the broken file", f)
	if o, err = f.s.Objects(); err != nil || o.Compilation != "applied" || !routeOK(o) {
		t.Fatalf("broken file: %v %+v", err, o)
	}
}
