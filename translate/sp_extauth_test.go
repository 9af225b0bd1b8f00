package translate

import (
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

func TestExtAuthService(t *testing.T) {
	b := spBuilder(t, Options{}, `---
apiVersion: v1
kind: ConfigMap
metadata: {name: ctx, namespace: default}
data: {region: eu}
`)
	tests := []struct {
		name, spec string
		check      func(t *testing.T, a *ir.ExtAuth)
	}{
		{"grpc service", `extAuth: {grpc: {backendRefs: [{name: authz, port: 9000}]}}`, func(t *testing.T, a *ir.ExtAuth) {
			if !a.GRPC || a.Authority != "authz.default:9000" || a.Destination.Backends[0].Protocol != ir.ProtocolHTTP2 {
				t.Fatalf("grpc %v authority %q protocol %s", a.GRPC, a.Authority, a.Destination.Backends[0].Protocol)
			}
		}},
		{"fqdn backend", `extAuth: {http: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: authz-fqdn}]}}`, func(t *testing.T, a *ir.ExtAuth) {
			if a.Authority != "authz.example.net:9001" || a.Destination.Backends[0].AddressType != ir.AddressFQDN || a.HTTP == nil {
				t.Fatalf("authority %q backends %+v", a.Authority, a.Destination.Backends)
			}
		}},
		{"context extensions sorted, ConfigMap read", `extAuth:
  http: {backendRefs: [{name: authz, port: 9000}]}
  contextExtensions: [{name: z, type: Value, value: last}, {name: a, type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: ctx, key: region}}]`,
			func(t *testing.T, a *ir.ExtAuth) {
				if len(a.ContextExtensions) != 2 || a.ContextExtensions[0] != (ir.ContextExtension{Name: "a", Value: "eu"}) || a.ContextExtensions[1].Name != "z" {
					t.Fatalf("context %+v", a.ContextExtensions)
				}
			}},
		{"weights", `extAuth: {http: {backendRefs: [{name: authz, port: 9000, weight: 0}, {group: gateway.envoyproxy.io, kind: Backend, name: authz-fqdn, weight: 2}]}}`,
			func(t *testing.T, a *ir.ExtAuth) {
				// A weight-0 backend is left out (Envoy Gateway does too), so
				// the FQDN one is alone and the types do not mix.
				if len(a.Destination.Backends) != 1 || a.Destination.Backends[0].Name != "securitypolicy/default/weights/extauth/0/backend/1" ||
					a.Destination.Backends[0].Weight != 2 {
					t.Fatalf("backends %+v", a.Destination.Backends)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := spPolicy(t, "default", strings.Fields(tt.name)[0], tt.spec)
			a, err := b.spExtAuth(effective{policy: p}, p.spec.(*egv1a1.SecurityPolicySpec))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

// TestExtAuthContextOwners: merged context extensions resolve their
// references in the namespace of the policy that set each one.
func TestExtAuthContextOwners(t *testing.T) {
	b := spBuilder(t, Options{}, `---
apiVersion: v1
kind: Secret
metadata: {name: ctx, namespace: gw-ns}
stringData: {k: from-gateway-namespace}
---
apiVersion: v1
kind: Secret
metadata: {name: ctx, namespace: default}
stringData: {k: from-route-namespace}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: authz, namespace: gw-ns}
spec: {endpoints: [{fqdn: {hostname: authz.gw.example.net, port: 9001}}]}
`)
	parent := spPolicy(t, "gw-ns", "gw", `extAuth:
  http: {backendRefs: [{name: authz, namespace: default, port: 9000}]}
  contextExtensions: [{name: p, type: ValueRef, valueRef: {group: "", kind: Secret, name: ctx, key: k}}]`)
	child := spPolicy(t, "default", "route", `extAuth:
  contextExtensions: [{name: c, type: ValueRef, valueRef: {group: "", kind: Secret, name: ctx, key: k}}]`)
	mt := egv1a1.StrategicMerge
	child.mergeType = &mt
	merged, err := mergeSpecs(parent.spec.(*egv1a1.SecurityPolicySpec), child.spec.(*egv1a1.SecurityPolicySpec), mt)
	if err != nil {
		t.Fatal(err)
	}
	// The backendRef is the parent's: resolving it from the parent's
	// namespace needs a grant for default/authz; give none and expect the
	// refusal to name the parent's view of it.
	_, err = b.spExtAuth(effective{policy: child, parent: parent}, merged)
	if err == nil || !strings.Contains(err.Error(), "Service default/authz is in another namespace") {
		t.Fatalf("backendRef resolved from the route policy's namespace: %v", err)
	}
	parent = spPolicy(t, "gw-ns", "gw2", `extAuth:
  http: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: authz}]}
  contextExtensions: [{name: p, type: ValueRef, valueRef: {group: "", kind: Secret, name: ctx, key: k}}]`)
	merged, err = mergeSpecs(parent.spec.(*egv1a1.SecurityPolicySpec), child.spec.(*egv1a1.SecurityPolicySpec), mt)
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.spExtAuth(effective{policy: child, parent: parent}, merged)
	if err != nil {
		t.Fatal(err)
	}
	want := []ir.ContextExtension{{Name: "c", Value: "from-route-namespace", Secret: true}, {Name: "p", Value: "from-gateway-namespace", Secret: true}}
	if len(a.ContextExtensions) != 2 || a.ContextExtensions[0] != want[0] || a.ContextExtensions[1] != want[1] {
		t.Fatalf("context %+v, want %+v", a.ContextExtensions, want)
	}
	if a.Destination.Name != "securitypolicy/gw-ns/gw2/extauth/0" || a.Name != "securitypolicy/default/route" {
		t.Fatalf("names: filter %s cluster %s; want the route policy's filter and the parent's cluster (it owns the backendRefs)", a.Name, a.Destination.Name)
	}
}
