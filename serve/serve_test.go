package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/egctl/egctl/serve/servetest"
)

const gatewayYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
`

func routeYAML(host, backend string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [` + host + `]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: ` + backend + `}]
`
}

// syncBuffer is a log the server writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	dir string
	s   *Server
	log *syncBuffer
}

func start(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	for n, c := range files {
		write(t, filepath.Join(dir, n), c)
	}
	log := &syncBuffer{}
	s, err := New(Options{
		CompileOptions: CompileOptions{Files: []string{dir}},
		XDSAddress:     "127.0.0.1:0", StatusAddress: "127.0.0.1:0",
		Debounce: 20 * time.Millisecond, Watch: true, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", log)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve not ready after 10s")
	}
	return &fixture{dir: dir, s: s, log: log}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	// Written beside and renamed over, as editors do: the watcher must see
	// the finished file.
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func domains(t *testing.T, c *servetest.Client) []string {
	t.Helper()
	a := c.Resource(resource.RouteType, "default/eg/http")
	if a == nil {
		return nil
	}
	rc := &routev3.RouteConfiguration{}
	if err := a.UnmarshalTo(rc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, vh := range rc.GetVirtualHosts() {
		out = append(out, vh.GetDomains()...)
	}
	return out
}

func hasDomain(t *testing.T, host string) func(*servetest.Client) bool {
	return func(c *servetest.Client) bool {
		for _, d := range domains(t, c) {
			if d == host {
				return true
			}
		}
		return false
	}
}

func TestServePushesChangesAndHoldsBadOnes(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"gw.yaml": gatewayYAML, "route.yaml": routeYAML("a.example.com", "be")})
	sotw, err := servetest.Dial(f.s.XDSAddr().String(), "envoy-1", "default/eg", false)
	if err != nil {
		t.Fatal(err)
	}
	defer sotw.Close()
	delta, err := servetest.Dial(f.s.XDSAddr().String(), "envoy-2", "default/eg", true)
	if err != nil {
		t.Fatal(err)
	}
	defer delta.Close()
	for _, c := range []*servetest.Client{sotw, delta} {
		if err := c.Wait(10*time.Second, hasDomain(t, "a.example.com")); err != nil {
			t.Fatalf("delta=%v: first configuration: %v", c.Delta, err)
		}
		if l := c.Resource(resource.ListenerType, "default/eg/http"); l == nil || l.MessageIs(&listenerv3.Listener{}) == false {
			t.Fatalf("delta=%v: no listener default/eg/http", c.Delta)
		}
	}

	// A good change reaches both kinds of stream.
	write(t, filepath.Join(f.dir, "route.yaml"), routeYAML("b.example.com", "be"))
	for _, c := range []*servetest.Client{sotw, delta} {
		if err := c.Wait(10*time.Second, hasDomain(t, "b.example.com")); err != nil {
			t.Fatalf("delta=%v: change not pushed: %v", c.Delta, err)
		}
	}
	good := f.s.Status()
	if len(good.Proxies) != 2 || !good.Proxies[0].InSync || !good.Proxies[1].InSync {
		waitFor(t, func() bool {
			st := f.s.Status()
			return len(st.Proxies) == 2 && st.Proxies[0].InSync && st.Proxies[1].InSync
		}, "both proxies in sync", f)
		good = f.s.Status()
	}

	// A change that does not load is held back.
	write(t, filepath.Join(f.dir, "route.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r\n")
	waitFor(t, func() bool { return len(f.s.Status().HeldBack) > 0 }, "the broken file held back")
	st := f.s.Status()
	if !strings.Contains(strings.Join(st.HeldBack, "\n"), "route.yaml") || st.Gateways["default/eg"] != good.Gateways["default/eg"] {
		t.Fatalf("broken edit: held back %q, version %s (was %s)", st.HeldBack, st.Gateways["default/eg"], good.Gateways["default/eg"])
	}

	// So is one that brings a new problem (a backend that does not exist).
	write(t, filepath.Join(f.dir, "route.yaml"), routeYAML("c.example.com", "missing"))
	waitFor(t, func() bool {
		return strings.Contains(strings.Join(f.s.Status().HeldBack, "\n"), "Backend default/missing")
	}, "the new problem held back")
	if hasDomain(t, "c.example.com")(sotw) {
		t.Fatal("a change with a new problem reached the proxy")
	}

	// Fixing it applies it.
	write(t, filepath.Join(f.dir, "route.yaml"), routeYAML("c.example.com", "be"))
	for _, c := range []*servetest.Client{sotw, delta} {
		if err := c.Wait(10*time.Second, hasDomain(t, "c.example.com")); err != nil {
			t.Fatalf("delta=%v: fixed change not pushed: %v", c.Delta, err)
		}
	}
	if hb := f.s.Status().HeldBack; len(hb) != 0 {
		t.Fatalf("still held back after the fix: %q", hb)
	}
}

// The route change must not resend what did not change: clusters and
// listeners keep their versions.
func TestServeVersionsPerType(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"gw.yaml": gatewayYAML, "route.yaml": routeYAML("a.example.com", "be")})
	c, err := servetest.Dial(f.s.XDSAddr().String(), "envoy", "default/eg", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Wait(10*time.Second, hasDomain(t, "a.example.com")); err != nil {
		t.Fatal(err)
	}
	before := c.Versions()
	write(t, filepath.Join(f.dir, "route.yaml"), routeYAML("b.example.com", "be"))
	if err := c.Wait(10*time.Second, hasDomain(t, "b.example.com")); err != nil {
		t.Fatal(err)
	}
	after := c.Versions()
	if before[resource.ClusterType] != after[resource.ClusterType] || before[resource.ListenerType] != after[resource.ListenerType] {
		t.Errorf("unchanged types got new versions: before %v after %v", before, after)
	}
	if before[resource.RouteType] == after[resource.RouteType] {
		t.Errorf("route version did not change: %v", after)
	}
}

func TestServeUnknownGatewayIsLogged(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"gw.yaml": gatewayYAML})
	c, err := servetest.Dial(f.s.XDSAddr().String(), "stray", "default/nope", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, func() bool { return strings.Contains(f.log.String(), `asks for Gateway "default/nope"`) }, "the unknown Gateway logged")
}

func waitFor(t *testing.T, cond func() bool, what string, show ...*fixture) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, f := range show {
				b, _ := json.MarshalIndent(f.s.Status(), "", "  ")
				t.Logf("status:\n%s", b)
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
