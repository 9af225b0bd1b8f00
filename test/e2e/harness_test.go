package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestHarnessStaticBootstrap proves the harness (Envoy lookup, validate,
// start, readiness, echo-basic, request helpers) on a hand-written
// bootstrap, so a failure elsewhere points at egctl, not at the harness.
func TestHarnessStaticBootstrap(t *testing.T) {
	envoyTest(t)
	echo := StartEchoBasic(t, "harness-pod")
	tmpl, err := os.ReadFile(filepath.Join("testdata", "static-bootstrap.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	admin := FreePort(t)
	data := map[string]any{"Admin": admin, "Port": FreePort(t), "Echo": echo.Port}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, []byte(RenderManifests(t, string(tmpl), data)), 0o644); err != nil {
		t.Fatal(err)
	}
	ValidateBootstrap(t, path)
	e := StartEnvoy(t, path, "127.0.0.1:"+strconv.Itoa(admin))
	p := &Proxy{Envoy: e, Port: data["Port"].(int)}

	if got := string(p.ExpectStatus(t, 200, "harness.example.com", "/direct").Body); got != "direct" {
		t.Errorf("direct response body %q, want %q", got, "direct")
	}
	seen := p.ExpectPod(t, "harness-pod", "harness.example.com", "/some/path?x=1", "X-Probe", "1")
	if seen.Path != "/some/path?x=1" || seen.Method != "GET" || seen.Namespace != Namespace {
		t.Errorf("echo-basic saw %+v", seen)
	}
	if v := seen.Header("x-probe"); len(v) != 1 || v[0] != "1" {
		t.Errorf("echo-basic saw X-Probe %v, want [1]", v)
	}
	p.ExpectStatus(t, 404, "unknown.example.com", "/")
}
