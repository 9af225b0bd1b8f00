package diffcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/diff"
	"github.com/egctl/egctl/diff/difftest"
)

// withPorts rewrites the test manifests' listener port to a free one, so
// parallel tests and other Envoys on the machine do not collide.
func withPorts(t *testing.T, src string, listenerPort int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	s := strings.ReplaceAll(string(b), "port: 18080", fmt.Sprintf("port: %d", listenerPort))
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// A proxy started from egctl's static bootstrap agrees with the manifests
// it was compiled from, and a change to the manifests shows against it.
func TestLiveStaticBootstrap(t *testing.T) {
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	v1 := withPorts(t, "testdata/gateway.yaml", listenerPort)
	v2 := withPorts(t, "testdata/gateway-v2.yaml", listenerPort)
	src, _ := os.ReadFile(v1)
	envoy := difftest.Start(t, difftest.Marshal(t, difftest.StaticBootstrap(t, src, adminPort)), fmt.Sprintf("127.0.0.1:%d", adminPort))
	live := "admin://" + envoy.AdminAddr

	r := runDiff(t, v1, live, "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "No differences") {
		t.Fatalf("manifests vs the proxy compiled from them: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, live, v1, "--exit-code", "-o", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("reverse direction: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	r = runDiff(t, live, v2, "--exit-code")
	if r.code != 1 {
		t.Fatalf("changed manifests: code %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"-      pathSeparatedPrefix: /api\n",
		"+      pathSeparatedPrefix: /api/v2\n",
		"-          portValue: 13002\n",
		"+          portValue: 13003\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.stdout)
		}
	}
}

// A proxy fed over ADS (egctl's dynamic bootstrap and a go-control-plane
// snapshot of the compiled manifests) agrees with the manifests: its
// bootstrap's xds_cluster and the admin listener are not compared.
func TestLiveADS(t *testing.T) {
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	v1 := withPorts(t, "testdata/gateway.yaml", listenerPort)
	v2 := withPorts(t, "testdata/gateway-v2.yaml", listenerPort)

	ads := difftest.StartADS(t)
	push := func(path, version string) {
		t.Helper()
		ads.Push(t, compileFile(t, path)[0], version)
	}
	push(v1, "1")
	envoy := difftest.Start(t, ads.DynamicBootstrap(t, "default/eg", adminPort), fmt.Sprintf("127.0.0.1:%d", adminPort))
	live := "admin://" + envoy.AdminAddr

	// Configuration arrives after LIVE... or not: wait for the version.
	waitDiff := func(manifests string, want int) result {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := runDiff(t, manifests, live, "--exit-code")
			if r.code == want || time.Now().After(deadline) {
				return r
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r := waitDiff(v1, 0)
	if r.code != 0 || !strings.Contains(r.stdout, "No differences: 1 proxy, 6 resources compared.") {
		t.Fatalf("manifests vs the proxy fed their snapshot: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	push(v2, "2")
	r = waitDiff(v2, 0)
	if r.code != 0 {
		t.Fatalf("after pushing v2, the proxy should agree with v2: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, v1, live, "-o", "json")
	var entries []diff.Entry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Type != "route" || entries[1].Type != "endpoint" {
		t.Errorf("v1 manifests vs proxy on v2: %+v", entries)
	}
}
