package validate

import (
	"fmt"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsjson "sigs.k8s.io/json"
)

// benchRoute is test/bench's route shape, as the loader's JSON.
func benchRoute(i int) []byte {
	return fmt.Appendf(nil, `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"route-%d","namespace":"ns-%d"},"spec":{"parentRefs":[{"name":"eg","namespace":"default"}],"hostnames":["route-%d.example.com"],"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/api"},"headers":[{"name":"x-env","value":"prod"}]}],"filters":[{"type":"RequestHeaderModifier","requestHeaderModifier":{"set":[{"name":"x-route","value":"route-%d"}]}}],"backendRefs":[{"name":"svc-a","port":8080,"weight":90},{"name":"svc-b","port":8080,"weight":10}]},{"matches":[{"path":{"type":"Exact","value":"/health"}}],"backendRefs":[{"name":"svc-a","port":8080}]}]}}`, i, i%20, i, i)
}

// BenchmarkValidateRoute is the per-object cost once schemas and rules
// are compiled, on routes that differ in names, hostnames and a header
// value, each seen once by a Session (as the loader sees them): every
// n objects the Session starts afresh.
func BenchmarkValidateRoute(b *testing.B) {
	const n = 10000
	objs := make([]Object, n)
	for i := range objs {
		js := benchRoute(i)
		r := &gwv1.HTTPRoute{}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, r); err != nil {
			b.Fatal(err)
		}
		objs[i] = Object{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute", JSON: js, Typed: r}
	}
	s := NewSession()
	if errs := s.Validate(objs[0]); len(errs) > 0 { // compiles what is needed
		b.Fatal(errs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%n == 0 {
			s = NewSession()
		}
		s.Validate(objs[i%n])
	}
}
