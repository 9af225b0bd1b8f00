package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/egctl/egctl/validate/internal/crdgen"
)

// TestCRDsUpToDate fails when crds/ is not what `go generate ./validate/`
// writes from the modules go.mod pins: after a Gateway API or Envoy
// Gateway upgrade, regenerate.
func TestCRDsUpToDate(t *testing.T) {
	want, err := crdgen.Generate()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("cannot regenerate (module cache unavailable?): %v", err)
	}
	have, err := filepath.Glob(filepath.Join("crds", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(have)
	seen := map[string]bool{}
	for _, p := range have {
		name := filepath.Base(p)
		seen[name] = true
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("crds/%s is no longer generated; run go generate ./validate/", name)
		case !bytes.Equal(got, w):
			t.Errorf("crds/%s is stale; run go generate ./validate/", name)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("crds/%s is missing; run go generate ./validate/", name)
		}
	}
}

// TestEveryKindHasASchema: each Gateway API and Envoy Gateway kind the
// loader accepts is validated against a CRD (the loader passes the
// versions the CRDs no longer serve as their stored version).
func TestEveryKindHasASchema(t *testing.T) {
	for _, k := range []struct{ group, version, kind string }{
		{"gateway.networking.k8s.io", "v1", "GatewayClass"},
		{"gateway.networking.k8s.io", "v1", "Gateway"},
		{"gateway.networking.k8s.io", "v1", "ListenerSet"},
		{"gateway.networking.k8s.io", "v1", "HTTPRoute"},
		{"gateway.networking.k8s.io", "v1", "GRPCRoute"},
		{"gateway.networking.k8s.io", "v1", "TLSRoute"},
		{"gateway.networking.k8s.io", "v1", "TCPRoute"},
		{"gateway.networking.k8s.io", "v1", "UDPRoute"},
		{"gateway.networking.k8s.io", "v1", "ReferenceGrant"},
		{"gateway.networking.k8s.io", "v1", "BackendTLSPolicy"},
		{"gateway.networking.k8s.io", "v1beta1", "HTTPRoute"},
		{"gateway.networking.k8s.io", "v1alpha2", "TLSRoute"},
		{"gateway.networking.k8s.io", "v1alpha3", "BackendTLSPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "EnvoyProxy"},
		{"gateway.envoyproxy.io", "v1alpha1", "Backend"},
		{"gateway.envoyproxy.io", "v1alpha1", "ClientTrafficPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "BackendTrafficPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "SecurityPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "EnvoyExtensionPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "EnvoyPatchPolicy"},
		{"gateway.envoyproxy.io", "v1alpha1", "HTTPRouteFilter"},
	} {
		n, err := schemaFor(k.group, k.version, k.kind)
		if err != nil || n == nil {
			t.Errorf("%s/%s %s: schema %v, err %v", k.group, k.version, k.kind, n, err)
		}
	}
}
