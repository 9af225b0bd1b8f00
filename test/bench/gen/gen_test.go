package gen

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

func generate(t *testing.T, routes int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, routes); err != nil {
		t.Fatalf("Write(%d): %v", routes, err)
	}
	return buf.Bytes()
}

// documents splits multi-document YAML on "---" lines.
func documents(data []byte) []string {
	var docs []string
	for _, d := range strings.Split("\n"+string(data), "\n---\n") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// TestWriteDecodes decodes every document strictly into its typed API object
// (an unknown or misspelled field fails) and checks the counts and the shape
// the issue describes.
func TestWriteDecodes(t *testing.T) {
	const n = 5
	counts := map[string]int{}
	var routes []*gwv1.HTTPRoute
	var gw *gwv1.Gateway
	var slices []*discoveryv1.EndpointSlice
	for i, doc := range documents(generate(t, n)) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "gateway.networking.k8s.io/v1 GatewayClass":
			obj = &gwv1.GatewayClass{}
		case "gateway.networking.k8s.io/v1 Gateway":
			gw = &gwv1.Gateway{}
			obj = gw
		case "gateway.networking.k8s.io/v1 HTTPRoute":
			r := &gwv1.HTTPRoute{}
			routes = append(routes, r)
			obj = r
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "discovery.k8s.io/v1 EndpointSlice":
			es := &discoveryv1.EndpointSlice{}
			slices = append(slices, es)
			obj = es
		default:
			t.Fatalf("document %d: unexpected %s %s", i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): %v\n%s", i, meta.Kind, err, doc)
		}
		counts[meta.Kind]++
	}
	want := map[string]int{
		"GatewayClass":  1,
		"Gateway":       1,
		"Namespace":     Namespaces,
		"Service":       Namespaces * len(ServicesPerNamespace),
		"EndpointSlice": Namespaces * len(ServicesPerNamespace),
		"HTTPRoute":     n,
	}
	for k, c := range want {
		if counts[k] != c {
			t.Errorf("%s: got %d, want %d", k, counts[k], c)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("kinds: got %v, want %v", counts, want)
	}
	t.Run("gateway", func(t *testing.T) {
		l := gw.Spec.Listeners
		if gw.Namespace != "default" || gw.Name != "eg" || len(l) != 1 || l[0].Port != 80 || l[0].Protocol != gwv1.HTTPProtocolType ||
			l[0].AllowedRoutes == nil || *l[0].AllowedRoutes.Namespaces.From != gwv1.NamespacesFromAll {
			t.Errorf("gateway: %+v", gw)
		}
	})
	t.Run("routes", func(t *testing.T) {
		for i, r := range routes {
			checkRoute(t, i, r)
		}
	})
	t.Run("endpointslices", func(t *testing.T) {
		perService := map[string]int{}
		for _, es := range slices {
			perService[es.Namespace+"/"+es.Labels[discoveryv1.LabelServiceName]]++
			ready := 0
			for _, e := range es.Endpoints {
				if deref(e.Conditions.Ready, false) && len(e.Addresses) == 1 {
					ready++
				}
			}
			if ready != EndpointsPerService || len(es.Ports) != 1 || deref(es.Ports[0].Port, 0) != ServicePort {
				t.Errorf("EndpointSlice %s/%s: want %d ready endpoints on port %d, got %+v %+v", es.Namespace, es.Name, EndpointsPerService, ServicePort, es.Endpoints, es.Ports)
			}
		}
		for ns := 0; ns < Namespaces; ns++ {
			for _, svc := range ServicesPerNamespace {
				if k := fmt.Sprintf("ns-%d/%s", ns, svc); perService[k] != 1 {
					t.Errorf("%s: %d EndpointSlices, want 1", k, perService[k])
				}
			}
		}
	})
}

func checkRoute(t *testing.T, i int, r *gwv1.HTTPRoute) {
	t.Helper()
	name := fmt.Sprintf("route-%d", i)
	ns := fmt.Sprintf("ns-%d", i%Namespaces)
	if r.Name != name || r.Namespace != ns {
		t.Errorf("route %d: got %s/%s, want %s/%s", i, r.Namespace, r.Name, ns, name)
	}
	if len(r.Spec.Hostnames) != 1 || string(r.Spec.Hostnames[0]) != name+".example.com" {
		t.Errorf("%s: hostnames %v", name, r.Spec.Hostnames)
	}
	if len(r.Spec.ParentRefs) != 1 || r.Spec.ParentRefs[0].Name != "eg" || deref(r.Spec.ParentRefs[0].Namespace, "") != "default" {
		t.Errorf("%s: parentRefs %+v", name, r.Spec.ParentRefs)
	}
	if len(r.Spec.Rules) != 2 {
		t.Fatalf("%s: %d rules, want 2", name, len(r.Spec.Rules))
	}
	r0, r1 := r.Spec.Rules[0], r.Spec.Rules[1]
	if len(r0.Matches) != 1 || *r0.Matches[0].Path.Type != gwv1.PathMatchPathPrefix || *r0.Matches[0].Path.Value != "/api" ||
		len(r0.Matches[0].Headers) != 1 || r0.Matches[0].Headers[0].Name != "x-env" || r0.Matches[0].Headers[0].Value != "prod" {
		t.Errorf("%s: rule 0 matches %+v", name, r0.Matches)
	}
	if got := backends(r0.BackendRefs); got != "svc-a:8080/90 svc-b:8080/10" {
		t.Errorf("%s: rule 0 backends %q", name, got)
	}
	if len(r0.Filters) != 1 || r0.Filters[0].Type != gwv1.HTTPRouteFilterRequestHeaderModifier ||
		len(r0.Filters[0].RequestHeaderModifier.Set) != 1 || r0.Filters[0].RequestHeaderModifier.Set[0].Name != "x-route" ||
		r0.Filters[0].RequestHeaderModifier.Set[0].Value != name {
		t.Errorf("%s: rule 0 filters %+v", name, r0.Filters)
	}
	if len(r1.Matches) != 1 || *r1.Matches[0].Path.Type != gwv1.PathMatchExact || *r1.Matches[0].Path.Value != "/health" || len(r1.Filters) != 0 {
		t.Errorf("%s: rule 1 %+v", name, r1)
	}
	if got := backends(r1.BackendRefs); got != "svc-a:8080/1" {
		t.Errorf("%s: rule 1 backends %q", name, got)
	}
}

// backends renders refs as "name:port/weight ..." (weight 1 when unset, the
// API default).
func backends(refs []gwv1.HTTPBackendRef) string {
	var parts []string
	for _, b := range refs {
		parts = append(parts, fmt.Sprintf("%s:%d/%d", b.Name, deref(b.Port, 0), deref(b.Weight, 1)))
	}
	return strings.Join(parts, " ")
}

func TestWriteDeterministic(t *testing.T) {
	a, b := generate(t, 50), generate(t, 50)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of Write(50) differ")
	}
	// Output for N routes is a prefix-extension of the output for fewer:
	// the fixed part comes first and routes are appended in index order.
	if small := generate(t, 3); !bytes.HasPrefix(a, small) {
		t.Error("Write(3) is not a prefix of Write(50)")
	}
}

func TestWriteNegative(t *testing.T) {
	if err := Write(&bytes.Buffer{}, -1); err == nil {
		t.Fatal("Write(-1): want an error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteReportsWriterError(t *testing.T) {
	if err := Write(failWriter{}, 10); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write to a failing writer: got %v, want the writer's error", err)
	}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
