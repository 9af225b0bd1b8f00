package diffcmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickstartMatchesEnvoyGateway compares egctl's xDS for Envoy
// Gateway's quickstart with what Envoy Gateway's own egctl v1.9.1 prints for
// it (testdata/egparity/quickstart.envoy-gateway.json, written by `make
// egparity`): egctl x diff must find no difference, defaults included.
//
// One gap is pending and allowed here, and only it: Envoy Gateway's
// default access log (JSON to stdout on the listener, for requests no route
// matched, and in the HCM), which comes with EnvoyProxy telemetry (branch
// envoyproxy) through the same translate.Options.EnvoyGatewayDefaults. The
// test fails once that gap closes, so that the allowance goes.
func TestQuickstartMatchesEnvoyGateway(t *testing.T) {
	const (
		manifests = "../../testdata/egparity/quickstart.yaml"
		theirs    = "../../testdata/egparity/quickstart.envoy-gateway.json"
	)
	whole := execute(t, NewCmd, nil, theirs, manifests, "--exit-code")
	if whole.code == 0 {
		if !strings.Contains(whole.stdout, "No differences") {
			t.Fatalf("exit 0 without \"No differences\":\n%s", whole.stdout)
		}
		t.Fatalf("egctl now matches Envoy Gateway's quickstart access log too: drop the access log allowance of this test\n%s", whole.stdout)
	}

	raw, err := os.ReadFile(theirs)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if n := dropKey(doc, "accessLog"); n != 3 {
		t.Fatalf("Envoy Gateway's quickstart has %d access logs, want 3 (the bootstrap admin's, which diff does not compare, the listener's and the HCM's)", n)
	}
	stripped := filepath.Join(t.TempDir(), "quickstart.envoy-gateway.no-access-log.json")
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(stripped, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := execute(t, NewCmd, nil, stripped, manifests, "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "No differences: 1 proxy, 6 resources compared.") {
		t.Fatalf("egctl differs from Envoy Gateway's quickstart beyond the default access log: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// dropKey deletes key from every object in v and says how often.
func dropKey(v any, key string) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v[key]; ok {
			delete(v, key)
			n++
		}
		for _, e := range v {
			n += dropKey(e, key)
		}
	case []any:
		for _, e := range v {
			n += dropKey(e, key)
		}
	}
	return n
}
