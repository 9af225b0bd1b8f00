package translate

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

// Envoy Gateway's own cases (test/egcompat) cover its rules; these cover
// what egctl does beyond them.

const mbBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: merge, namespace: infra}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: merge, namespace: infra}
spec:
  mergeBackends: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
  - {name: one, protocol: HTTP, port: 80}
  - {name: two, protocol: HTTP, port: 81}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec:
  clusterIP: 10.96.0.1
  ports: [{name: http, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`

// destinationsByListener names, per listener, where route r sends: the
// shared cluster ("shared NAME") or its own cluster.
func destinationsByListener(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range proxy(t, res, "infra/gw").HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				d := r.Destination
				if d == nil {
					t.Fatalf("%s: no destination", r.Name)
				}
				if len(d.Backends) == 1 && d.Backends[0].Merged {
					out[l.Name] = "shared " + d.Backends[0].Name
				} else {
					out[l.Name] = d.Name
				}
			}
		}
	}
	return out
}

func TestMergeBackendsListenerPolicyWithoutClusterFields(t *testing.T) {
	// Envoy Gateway shares the cluster on listener one too (its policy
	// sets no cluster field) and so gives one's routes the Gateway's
	// circuit breaker, which one's policy replaced.
	res := runBTPWith(t, mbBase+`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: gateway, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  circuitBreaker: {maxConnections: 10}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: one, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: one}]
  faultInjection: {abort: {httpStatus: 503, percentage: 1}}
`, manifest.Options{})
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	got := destinationsByListener(t, res)
	want := map[string]string{"infra/gw/one": "httproute/infra/r/rule/0", "infra/gw/two": "shared service/infra/web/80/http"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("destinations %v, want %v", got, want)
	}
	p := proxy(t, res, "infra/gw")
	if len(p.BackendClusters) != 1 || p.BackendClusters[0].Cluster.GetCircuitBreaker().MaxConnections != 10 {
		t.Fatalf("backend clusters %+v, want one with the Gateway policy's circuit breaker", p.BackendClusters)
	}
	if md := p.BackendClusters[0].Metadata; md == nil || *md != (ir.Metadata{Kind: "Service", Namespace: "infra", Name: "web", SectionName: "80"}) {
		t.Fatalf("shared cluster metadata %+v, want the Service's", md)
	}
}

// TestMergeBackendsListenerPolicyOnly: a route on two listeners, a
// circuit breaker on one of them only (Envoy Gateway's
// mergebackends-http-demerge-listener-btp-divergence cases). Listener one
// keeps the rule's own cluster with the breaker; two shares the Service's
// cluster. The rule's destination name then stands for two settings, but
// two's has no cluster of its own, so the IR is valid (it once failed
// validation as an internal error).
func TestMergeBackendsListenerPolicyOnly(t *testing.T) {
	res := runBTPWith(t, mbBase+`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: one, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: one}]
  circuitBreaker: {maxConnections: 1024}
`, manifest.Options{})
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	got := destinationsByListener(t, res)
	want := map[string]string{"infra/gw/one": "httproute/infra/r/rule/0", "infra/gw/two": "shared service/infra/web/80/http"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("destinations %v, want %v", got, want)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatalf("IR invalid: %v", err)
	}
}

func TestMergeBackendsRoutingType(t *testing.T) {
	// A listener policy with routingType Service: its routes reach the
	// cluster IP, the others the endpoints; each keeps what it asked for.
	res := runBTPWith(t, mbBase+`---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: infra, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.7], conditions: {ready: true}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: one, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: one}]
  routingType: Service
`, manifest.Options{})
	got := destinationsByListener(t, res)
	want := map[string]string{"infra/gw/one": "httproute/infra/r/rule/0", "infra/gw/two": "shared service/infra/web/80/http"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("destinations %v, want %v", got, want)
	}
	p := proxy(t, res, "infra/gw")
	if eps := p.BackendClusters[0].Backends[0].Endpoints; len(eps) != 1 || eps[0].Host != "10.0.0.7" {
		t.Fatalf("shared cluster endpoints %v, want the EndpointSlice's", eps)
	}
}

func TestMergeBackendsSelector(t *testing.T) {
	in := strings.Replace(mbBase, "mergeBackends: {}", "mergeBackends: {selector: {matchLabels: {shared: \"yes\"}}}", 1)
	if got := destinationsByListener(t, runBTPWith(t, in, manifest.Options{})); got["infra/gw/one"] != "httproute/infra/r/rule/0" {
		t.Fatalf("an unlabelled Service was merged: %v", got)
	}
	in = strings.Replace(in, "metadata: {name: web, namespace: infra}", "metadata: {name: web, namespace: infra, labels: {shared: \"yes\"}}", 1)
	if got := destinationsByListener(t, runBTPWith(t, in, manifest.Options{})); got["infra/gw/one"] != "shared service/infra/web/80/http" {
		t.Fatalf("a selected Service was not merged: %v", got)
	}
}

// BenchmarkTranslateMergeBackends is BenchmarkTranslate with every route's
// backends merged (the weighted rules' filters keep one backend apart).
func BenchmarkTranslateMergeBackends(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		set := genSet(n)
		set.EnvoyProxies = append(set.EnvoyProxies, &egv1a1.EnvoyProxy{
			ObjectMeta: metav1.ObjectMeta{Name: "merge", Namespace: "infra"},
			Spec:       egv1a1.EnvoyProxySpec{MergeBackends: &egv1a1.MergeBackendsConfig{}},
		})
		ns := gwv1.Namespace("infra")
		set.GatewayClasses[0].Spec.ParametersRef = &gwv1.ParametersReference{Group: "gateway.envoyproxy.io", Kind: "EnvoyProxy", Name: "merge", Namespace: &ns}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := Translate(set, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.IR.Proxies) != 1 || len(res.IR.Proxies[0].BackendClusters) == 0 {
					var names []string
					for _, p := range res.IR.Proxies {
						names = append(names, p.Name)
					}
					sort.Strings(names)
					b.Fatalf("proxies %v: nothing merged", names)
				}
			}
		})
	}
}

// TestSameBackendFields: sameBackend decides which route backends may share
// a cluster field by field. A new field of ir.Backend must be weighed
// there (or listed here as not telling backends apart) before it can
// silently merge backends that differ in it.
func TestSameBackendFields(t *testing.T) {
	known := map[string]bool{
		// Compared.
		"AddressType": true, "Endpoints": true, "Protocol": true, "Metadata": true, "TLS": true,
		// Per route, never on a merged backend.
		"RequestHeaders": true, "ResponseHeaders": true, "CredentialInjection": true,
		// The route's own: name, share, priority and the merge mark.
		"Name": true, "Weight": true, "Priority": true, "Merged": true,
	}
	rt := reflect.TypeOf(ir.Backend{})
	for i := range rt.NumField() {
		if f := rt.Field(i); !known[f.Name] {
			t.Errorf("ir.Backend.%s is new: make sameBackend (mergebackends.go) compare it, then list it here", f.Name)
		}
	}
	tls := &ir.BackendTLS{SNI: "a.example.com"}
	base := ir.Backend{Name: "x", Weight: 1, AddressType: ir.AddressIP, Protocol: ir.ProtocolHTTP1,
		Endpoints: []ir.Endpoint{{Host: "10.0.0.1", Port: 80}}, Metadata: &ir.Metadata{Kind: "Service", Name: "web"}, TLS: tls}
	other := base
	other.Name, other.Weight, other.Endpoints = "y", 7, []ir.Endpoint{{Host: "10.0.0.1", Port: 80}}
	other.Metadata = &ir.Metadata{Kind: "Service", Name: "web"}
	if !sameBackend(&base, &other) {
		t.Error("backends equal but for name and weight differ")
	}
	for name, change := range map[string]func(*ir.Backend){
		"endpoints": func(b *ir.Backend) { b.Endpoints = []ir.Endpoint{{Host: "10.0.0.2", Port: 80}} },
		"protocol":  func(b *ir.Backend) { b.Protocol = ir.ProtocolHTTP2 },
		"TLS":       func(b *ir.Backend) { b.TLS = &ir.BackendTLS{SNI: "b.example.com"} },
		"metadata":  func(b *ir.Backend) { b.Metadata = &ir.Metadata{Kind: "Service", Name: "web", SectionName: "81"} },
		"headers":   func(b *ir.Backend) { b.RequestHeaders = &ir.HeaderModifier{} },
	} {
		o := other
		change(&o)
		if sameBackend(&base, &o) {
			t.Errorf("backends differing in %s compare equal", name)
		}
	}
}

// TestMergeBackendsPruned: a route an EnvoyExtensionPolicy fails closed
// after the merge (which runs with BackendTrafficPolicies) leaves no
// shared cluster behind.
func TestMergeBackendsPruned(t *testing.T) {
	res := runBTPWith(t, mbBase+`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: gateway, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  circuitBreaker: {maxConnections: 10}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: broken, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
  lua: [{type: Inline, inline: "function envoy_on_request(h) this is not lua end"}]
`, manifest.Options{})
	p := proxy(t, res, "infra/gw")
	for _, l := range p.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
					t.Fatalf("%s: want the route failed closed by the invalid policy", r.Name)
				}
			}
		}
	}
	if len(p.BackendClusters) != 0 {
		t.Fatalf("shared clusters %v left with no route", p.BackendClusters)
	}
}
