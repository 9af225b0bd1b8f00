package configcmd

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/admin/admintest"
)

// TestRealEnvoyListener dumps the hand-written bootstrap's listener from a
// running Envoy 1.40 and finds it by name.
func TestRealEnvoyListener(t *testing.T) {
	e := admintest.Start(t, "127.0.0.1:9")

	out, errOut, code := run(t, "", "envoy-proxy", "listener", "--admin", e.AdminAddr, "--name", "egctl_test_*")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Type   string `json:"@type"`
		Static []struct {
			Listener struct {
				Name    string `json:"name"`
				Address struct {
					SocketAddress struct {
						Address string `json:"address"`
					} `json:"socketAddress"`
				} `json:"address"`
			} `json:"listener"`
		} `json:"staticListeners"`
	}
	if err := yaml.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v.Type != "type.googleapis.com/envoy.admin.v3.ListenersConfigDump" || len(v.Static) != 1 ||
		v.Static[0].Listener.Name != admintest.ListenerName || v.Static[0].Listener.Address.SocketAddress.Address != "127.0.0.1" {
		t.Fatalf("listener not found in dump:\n%s", out)
	}

	out, _, code = run(t, "", "dump", "listener", "--admin", e.AdminAddr, "--name", "other")
	if code != 0 || strings.Contains(out, admintest.ListenerName) {
		t.Errorf("--name other still shows the listener (exit %d)", code)
	}

	// The static secret never shows, even asked for: Envoy redacts it
	// itself, and egctl's redaction leaves no trace either way.
	for _, extra := range [][]string{nil, {"--show-secrets"}} {
		out, errOut, code = run(t, "", append([]string{"dump", "secret", "--admin", e.AdminAddr}, extra...)...)
		if code != 0 || !strings.Contains(out, admintest.SecretName) || strings.Contains(out, admintest.SecretValue) {
			t.Errorf("secret dump %v: exit %d %s\n%s", extra, code, errOut, out)
		}
	}

	out, errOut, code = run(t, "", "dump", "endpoint", "--admin", e.AdminAddr, "-o", "json")
	if code != 0 || !strings.Contains(out, `"clusterName": "`+admintest.ClusterName+`"`) {
		t.Errorf("endpoint dump: exit %d %s\n%s", code, errOut, out)
	}
}
