package xds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/freeport"
	"github.com/egctl/egctl/ir"
)

func freePort(t *testing.T) uint32 {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return uint32(p)
}

// echoed is what the test backend answers: what it received.
type echoed struct {
	Path    string
	Host    string
	Headers http.Header
}

// TestEnvoyServesStaticBootstrap runs a real Envoy on a static bootstrap and
// checks the behaviours that are easy to get subtly wrong in Envoy's words:
// element-wise prefixes, prefix rewrites to "/", header filters, the 500 of
// an invalid backend share, direct responses and redirects.
func TestEnvoyServesStaticBootstrap(t *testing.T) {
	bin := envoyBinary(t)
	// /retry-timeout hangs on its first attempt: the per-try timeout must
	// cut it and the retry must answer (HTTPRouteRetryBackendTimeout).
	var timeoutAttempts atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/retry-timeout" && timeoutAttempts.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		w.Header().Set("x-internal", "secret")
		_ = json.NewEncoder(w).Encode(echoed{Path: r.URL.RequestURI(), Host: r.Host, Headers: r.Header})
	}))
	defer backend.Close()
	bport := uint32(backend.Listener.Addr().(*net.TCPAddr).Port)

	be := func(name string) *ir.Backend {
		return &ir.Backend{Name: name, Weight: 1, AddressType: ir.AddressIP, Endpoints: []ir.Endpoint{{Host: "127.0.0.1", Port: bport}}}
	}
	routes := []*ir.HTTPRoute{
		{Name: "rewrite", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/prefix"},
			URLRewrite:      &ir.URLRewrite{Hostname: "rewritten.example", Path: &ir.PathModifier{Type: ir.PrefixMatchReplace, Value: "/"}},
			RequestHeaders:  &ir.HeaderModifier{Set: []ir.Header{{Name: "x-set", Value: "s"}}, Add: []ir.Header{{Name: "x-add", Value: "a"}}, Remove: []string{"x-drop"}},
			ResponseHeaders: &ir.HeaderModifier{Remove: []string{"x-internal"}},
			Destination:     &ir.RouteDestination{Name: "rewrite", Backends: []*ir.Backend{be("rewrite/backend/0")}}},
		{Name: "invalid", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/invalid"},
			Destination: &ir.RouteDestination{Name: "invalid", InvalidWeight: 1}},
		{Name: "direct", Match: ir.HTTPMatch{PathType: ir.PathExact, Path: "/direct"},
			DirectResponse: &ir.DirectResponse{StatusCode: 418, Body: "teapot"}},
		{Name: "redirect", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/old"},
			Redirect: &ir.Redirect{Scheme: "https", Hostname: "new.example", StatusCode: 301, Path: &ir.PathModifier{Type: ir.PrefixMatchReplace, Value: "/new"}}},
		{Name: "empty", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/empty"},
			Destination: &ir.RouteDestination{Name: "empty", Backends: []*ir.Backend{{Name: "empty/backend/0", Weight: 1, AddressType: ir.AddressIP}}}},
		{Name: "retry-timeout", Match: ir.HTTPMatch{PathType: ir.PathExact, Path: "/retry-timeout"},
			Retry: &ir.Retry{Attempts: 1}, Timeout: &ir.Timeout{BackendRequest: 300 * time.Millisecond},
			Destination: &ir.RouteDestination{Name: "retry-timeout", Backends: []*ir.Backend{be("retry-timeout/backend/0")}}},
		{Name: "all", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"},
			Destination: &ir.RouteDestination{Name: "all", Backends: []*ir.Backend{be("all/backend/0")}}},
	}
	port, admin := freePort(t), freePort(t)
	cfg := &ir.Config{Proxies: []*ir.Proxy{{Name: "default/eg", HTTP: []*ir.HTTPListener{{
		Name: "default/eg/http", Address: "127.0.0.1", Port: port,
		VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/http/*", Domains: []string{"*"}, Routes: routes}},
	}}}}}
	res := translateOne(t, cfg)
	bs, err := StaticBootstrap(res, BootstrapOptions{AdminPort: admin})
	if err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(bs, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(path, y, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logs strings.Builder
	cmd := exec.CommandContext(ctx, bin, "-c", path, "--log-level", "warn", "--use-dynamic-base-id", "--concurrency", "1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("envoy output:\n%s", logs.String())
		}
	}()

	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", admin))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("envoy not ready after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	get := func(p string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+p, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	echo := func(p string, hdr ...string) (echoed, *http.Response) {
		t.Helper()
		resp, body := get(p, hdr...)
		var e echoed
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &e) != nil {
			t.Fatalf("GET %s: %d %q", p, resp.StatusCode, body)
		}
		return e, resp
	}

	for in, want := range map[string]string{"/prefix": "/", "/prefix/foo": "/foo", "/prefix/foo/bar?q=1": "/foo/bar?q=1"} {
		e, resp := echo(in, "x-drop", "d", "x-add", "first")
		if e.Path != want {
			t.Errorf("rewrite %s: backend saw %q, want %q", in, e.Path, want)
		}
		if e.Host != "rewritten.example" || e.Headers.Get("x-set") != "s" || e.Headers.Get("x-drop") != "" ||
			strings.Join(e.Headers.Values("x-add"), ",") != "first,a" {
			t.Errorf("rewrite %s: host %q headers %v", in, e.Host, e.Headers)
		}
		if resp.Header.Get("x-internal") != "" {
			t.Errorf("response header x-internal not removed")
		}
	}
	if e, _ := echo("/prefixfoo"); e.Path != "/prefixfoo" {
		t.Errorf("/prefixfoo must not match the element-wise prefix /prefix: backend saw %q", e.Path)
	}
	if resp, _ := get("/invalid"); resp.StatusCode != 500 {
		t.Errorf("invalid backend share: %d, want 500", resp.StatusCode)
	}
	if resp, body := get("/direct"); resp.StatusCode != 418 || body != "teapot" {
		t.Errorf("direct response: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/old/page"); resp.StatusCode != 301 || resp.Header.Get("Location") != "https://new.example/new/page" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get("/empty"); resp.StatusCode != 503 {
		t.Errorf("no endpoints: %d, want 503", resp.StatusCode)
	}
	if resp, body := get("/retry-timeout"); resp.StatusCode != 200 || timeoutAttempts.Load() != 2 {
		t.Errorf("attempt cut by the per-try timeout: %d %q after %d attempts, want 200 after 2", resp.StatusCode, body, timeoutAttempts.Load())
	}
}
