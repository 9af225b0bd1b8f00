package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoopbackBootstrapMovesOnlyWildcardListeners(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	out := filepath.Join(dir, "out.json")
	if err := os.WriteFile(in, []byte(`admin:
  address: {socketAddress: {address: 0.0.0.0, portValue: 19000}}
staticResources:
  listeners:
  - name: v4
    address: {socketAddress: {address: 0.0.0.0, portValue: 8080}}
  - name: v6
    address: {socket_address: {address: "::", port_value: 8443, ipv4_compat: true}}
  - name: fixed
    address: {socketAddress: {address: 127.0.0.2, portValue: 9000}}
  clusters:
  - name: c
    maxRequests: 18446744073709551615
    loadAssignment: {endpoints: [{lbEndpoints: [{endpoint: {address: {socketAddress: {address: 0.0.0.0, portValue: 1}}}}]}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LoopbackBootstrap(in, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"address": "127.0.0.1",
            "portValue": 8080`,
		`"address": "127.0.0.1",
            "port_value": 8443`,
		`"address": "127.0.0.2"`,
		// Not a listener: left alone, as is a number too big for float64.
		`"address": "0.0.0.0",
        "portValue": 19000`,
		`18446744073709551615`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ipv4_compat") {
		t.Errorf("ipv4_compat kept on a listener moved to 127.0.0.1:\n%s", got)
	}
	if strings.Count(got, `"0.0.0.0"`) != 2 {
		t.Errorf("want the admin and cluster 0.0.0.0 untouched, got:\n%s", got)
	}
}
