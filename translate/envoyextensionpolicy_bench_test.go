package translate

import (
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/xds"
)

// BenchmarkEEPEveryRoute compiles 10,000 routes (20,000 IR routes) through
// translate and xds, without policies and with one Gateway-level
// EnvoyExtensionPolicy (a Lua script and an external processor) over every
// route: the policy is translated once and its filters built once per
// listener, so the cost per route is the per-route enabling config.
func BenchmarkEEPEveryRoute(b *testing.B) {
	lua := "function envoy_on_request(h) h:headers():add('x', '1') end"
	policy := &egv1a1.EnvoyExtensionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "infra"},
		Spec: egv1a1.EnvoyExtensionPolicySpec{
			PolicyTargetReferences: egv1a1.PolicyTargetReferences{TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{
				LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: "gateway.networking.k8s.io", Kind: "Gateway", Name: "gw"},
			}}},
			Lua: []egv1a1.Lua{{Type: egv1a1.LuaValueTypeInline, Inline: &lua}},
			ExtProc: []egv1a1.ExtProc{{BackendCluster: egv1a1.BackendCluster{BackendRefs: []egv1a1.BackendRef{{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "a", Namespace: ptrTo(gwv1.Namespace("ns-0")), Port: ptrTo(gwv1.PortNumber(80))},
			}}}}},
		},
	}
	for _, c := range []struct {
		name   string
		policy bool
	}{{"none", false}, {"eep", true}} {
		set := genSet(10000)
		if c.policy {
			set.EnvoyExtensionPolicies = []*egv1a1.EnvoyExtensionPolicy{policy}
			set.ReferenceGrants = append(set.ReferenceGrants, &gwv1.ReferenceGrant{
				ObjectMeta: metav1.ObjectMeta{Name: "eep", Namespace: "ns-0"},
				Spec: gwv1.ReferenceGrantSpec{
					From: []gwv1.ReferenceGrantFrom{{Group: "gateway.envoyproxy.io", Kind: "EnvoyExtensionPolicy", Namespace: "infra"}},
					To:   []gwv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
				},
			})
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := Translate(set, Options{SkipStatus: true})
				if err != nil || len(res.Problems) > 0 {
					b.Fatal(err, res.Problems)
				}
				if _, err := xds.Translate(res.IR); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
