package diffcmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestQuickstartMatchesEnvoyGateway compares egctl's xDS for Envoy
// Gateway's quickstart with what Envoy Gateway's own egctl v1.9.1 prints for
// it (testdata/egparity/quickstart.envoy-gateway.json, written by `make
// egparity`): egctl x diff must find no difference, defaults included —
// the readiness listener, the default cluster and listener settings, and
// the default access log (JSON to stdout on the listener, for requests no
// route matched, and in the HCM) that EnvoyProxy telemetry brings through
// the same translate.Options.EnvoyGatewayDefaults.
func TestQuickstartMatchesEnvoyGateway(t *testing.T) {
	const (
		manifests = "../../testdata/egparity/quickstart.yaml"
		theirs    = "../../testdata/egparity/quickstart.envoy-gateway.json"
	)
	// The comparison covers the access logs only if Envoy Gateway's side
	// has them: the bootstrap admin's (which diff does not compare), the
	// listener's and the HCM's.
	raw, err := os.ReadFile(theirs)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if n := countKey(doc, "accessLog"); n != 3 {
		t.Fatalf("Envoy Gateway's quickstart has %d access logs, want 3 (the bootstrap admin's, the listener's and the HCM's)", n)
	}
	r := execute(t, NewCmd, nil, theirs, manifests, "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "No differences: 1 proxy, 6 resources compared.") {
		t.Fatalf("egctl differs from Envoy Gateway's quickstart: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// countKey says how many objects in v have key.
func countKey(v any, key string) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v[key]; ok {
			n++
		}
		for _, e := range v {
			n += countKey(e, key)
		}
	case []any:
		for _, e := range v {
			n += countKey(e, key)
		}
	}
	return n
}
