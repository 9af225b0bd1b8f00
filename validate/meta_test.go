package validate

import (
	"math/rand"
	"strings"
	"testing"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestPlainMetaAgrees: whatever plainMeta accepts, the API server's
// ObjectMeta validation accepts too; and it accepts the usual names.
func TestPlainMetaAgrees(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := "abz09-.A_ /"
	names := []string{"", "a", "route-1", "ns-0", "1abc", "a.b", "a..b", "-a", "a-", "A", "a_b",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 253), strings.Repeat("a", 254),
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a"}
	for i := 0; i < 3000; i++ {
		n := rng.Intn(12)
		if rng.Intn(20) == 0 {
			n = 60 + rng.Intn(200)
		}
		var b strings.Builder
		for j := 0; j < n; j++ {
			b.WriteByte(alphabet[rng.Intn(len(alphabet))])
		}
		names = append(names, b.String())
	}
	kinds := []struct{ group, kind string }{{"", "Namespace"}, {"", "Service"}, {"", "ConfigMap"}, {"gateway.networking.k8s.io", "HTTPRoute"}}
	accepted := 0
	for i, name := range names {
		for _, k := range kinds {
			for _, namespaced := range []bool{true, false} {
				m := &metav1.ObjectMeta{Name: name}
				if namespaced {
					m.Namespace = names[(i*7+3)%len(names)]
					if i%3 == 0 {
						m.Namespace = "ns-0"
					}
				}
				if !plainMeta(m, k.group, k.kind, namespaced) {
					continue
				}
				accepted++
				errs := apivalidation.ValidateObjectMetaAccessor(m, namespaced, nameRule(k.group, k.kind), field.NewPath("metadata"))
				if len(errs) > 0 {
					t.Errorf("%s %q in %q: plainMeta accepts what the API server refuses: %v", k.kind, name, m.Namespace, errs)
				}
			}
		}
	}
	if accepted < 1000 {
		t.Errorf("plainMeta accepted only %d cases", accepted)
	}
	for _, m := range []*metav1.ObjectMeta{
		{Name: "x", Namespace: "ns", Labels: map[string]string{"a": "b"}},
		{Name: "x", Namespace: "ns", GenerateName: "x-"},
		{Name: "x", Namespace: "ns", Finalizers: []string{"a/b"}},
		{Name: "x", Namespace: "ns", Generation: -1},
	} {
		if plainMeta(m, "", "ConfigMap", true) {
			t.Errorf("%+v: plainMeta must leave it to the API server's validation", m)
		}
	}
}
