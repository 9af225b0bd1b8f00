package e2e

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/internal/envoytest"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip, so Envoy sees another client address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Timeout:       requestTimeout,
		Transport:     &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// expectStatuses sends GET host+path n times (headers as name/value pairs)
// through client and wants the statuses in order.
func expectStatuses(t *testing.T, p *Proxy, client *http.Client, host, path string, want []int, headerKV ...string) {
	t.Helper()
	for i, w := range want {
		req := p.NewRequest(t, http.MethodGet, host, path)
		setHeaders(t, req, headerKV)
		r := Do(t, client, req)
		if r.Status != w {
			t.Fatalf("request %d of %d to %s%s %v: want %d, got %s", i+1, len(want), host, path, headerKV, w, r)
		}
	}
}

// TestLocalRateLimit: Envoy's local rate limit, per route and per client.
// Every limit counts per minute, so no bucket refills during the test.
func TestLocalRateLimit(t *testing.T) {
	envoyTest(t)
	const ok, limited = http.StatusOK, http.StatusTooManyRequests
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}
{{ range $r := .Routes }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: {{ $r }}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [{{ $r }}.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
{{ end }}---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: route, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route}]
  rateLimit:
    local:
      rules:
      - limit: {requests: 3, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: cost, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cost}]
  rateLimit:
    local:
      rules:
      - clientSelectors: [{path: {value: /}}]
        limit: {requests: 5, unit: Minute}
        cost: {request: {from: Number, number: 2}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: user, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: user}]
  rateLimit:
    local:
      rules:
      - clientSelectors: [{headers: [{name: x-user, type: Distinct}]}]
        limit: {requests: 2, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: sources, namespace: default}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: perip}
  rateLimit:
    local:
      rules:
      - clientSelectors: [{sourceCIDR: {type: Distinct, value: 127.0.0.0/8}}]
        limit: {requests: 2, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: range, namespace: default}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: range}
  rateLimit:
    local:
      rules:
      - clientSelectors: [{sourceCIDR: {value: 127.0.0.0/8}}]
        limit: {requests: 2, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: shadow, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shadow}]
  rateLimit:
    local:
      rules:
      - clientSelectors: [{path: {value: /}}]
        limit: {requests: 1, unit: Minute}
        shadowMode: true
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: quiet, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: quiet}]
  rateLimit:
    local:
      rules:
      - limit: {requests: 1, unit: Minute}
        xRateLimitHeaders: "Off"
      - clientSelectors: [{queryParams: [{name: key, type: Distinct}]}]
        limit: {requests: 1, unit: Minute}
`, map[string]any{"App": StartEchoBasic(t, "app").Port, "Routes": []string{"route", "cost", "user", "perip", "range", "free", "shadow", "quiet"}})

	t.Run("route bucket", func(t *testing.T) {
		expectStatuses(t, p, httpClient, "route.example.com", "/", []int{ok, ok, ok, limited, limited})
		r := p.Get(t, "route.example.com", "/")
		if r.Status != limited || r.Header.Get("X-Ratelimit-Limit") == "" {
			t.Fatalf("want 429 with X-RateLimit-Limit (draft 03 headers, as Envoy Gateway), got %s", r)
		}
		// Another route has buckets of its own.
		expectStatuses(t, p, httpClient, "free.example.com", "/", []int{ok, ok, ok, ok, ok})
	})
	t.Run("cost", func(t *testing.T) {
		// 5 a minute at 2 a request: two pass, the third finds 1 left.
		expectStatuses(t, p, httpClient, "cost.example.com", "/", []int{ok, ok, limited})
	})
	t.Run("distinct header", func(t *testing.T) {
		expectStatuses(t, p, httpClient, "user.example.com", "/", []int{ok, ok, limited}, "x-user", "alice")
		expectStatuses(t, p, httpClient, "user.example.com", "/", []int{ok, ok, limited}, "x-user", "bob")
		// No x-user: no descriptor; the route's own bucket is unlimited.
		expectStatuses(t, p, httpClient, "user.example.com", "/", []int{ok, ok, ok, ok})
	})
	t.Run("distinct source", func(t *testing.T) {
		a, b := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
		expectStatuses(t, p, a, "perip.example.com", "/", []int{ok, ok, limited})
		expectStatuses(t, p, b, "perip.example.com", "/", []int{ok, ok, limited})
	})
	t.Run("shadow mode", func(t *testing.T) {
		// Counted, never refused.
		expectStatuses(t, p, httpClient, "shadow.example.com", "/", []int{ok, ok, ok})
	})
	t.Run("headers off and distinct query", func(t *testing.T) {
		expectStatuses(t, p, httpClient, "quiet.example.com", "/", []int{ok})
		r := p.Get(t, "quiet.example.com", "/")
		if r.Status != limited || r.Header.Get("X-Ratelimit-Limit") != "" {
			t.Fatalf("want 429 without X-RateLimit-* headers, got %s", r)
		}
		expectStatuses(t, p, httpClient, "quiet.example.com", "/?key=a", []int{ok, limited})
		expectStatuses(t, p, httpClient, "quiet.example.com", "/?key=b", []int{ok, limited})
	})
	t.Run("source range", func(t *testing.T) {
		// One bucket for the whole range.
		expectStatuses(t, p, clientFrom("127.0.0.1"), "range.example.com", "/", []int{ok})
		expectStatuses(t, p, clientFrom("127.0.0.2"), "range.example.com", "/", []int{ok})
		expectStatuses(t, p, clientFrom("127.0.0.3"), "range.example.com", "/", []int{limited})
	})
}

// rateLimitedEnvoy is one Envoy of a Gateway whose global limits the
// rate-limit service counts.
type rateLimitedEnvoy struct {
	*Proxy
	// OutputDir is egctl's --output-dir: the bootstrap and ratelimit/config.
	OutputDir string
}

// startRateLimitedEnvoy compiles tmpl (data["Port"] set to a free port)
// with `egctl x translate --to bootstrap,ratelimit --output-dir` and the
// rate-limit service at rlsAddr, and starts Envoy on the bootstrap.
func startRateLimitedEnvoy(t *testing.T, tmpl string, data map[string]any, rlsAddr string, flags ...string) *rateLimitedEnvoy {
	t.Helper()
	data["Port"] = FreePort(t)
	dir := WriteManifests(t, tmpl, data)
	out := t.TempDir()
	adminAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	args := append([]string{"x", "translate", "-f", dir, "--to", "bootstrap,ratelimit", "--output-dir", out,
		"--admin-address", adminAddr, "--ratelimit-service", rlsAddr}, flags...)
	res := RunEgctl(t, append(args, DefaultListenerPorts(t, args)...)...)
	if res.Code != 0 {
		t.Fatalf("egctl failed:\n%s", res)
	}
	bootstrap := filepath.Join(out, "default_gw.yaml")
	ValidateBootstrap(t, bootstrap)
	runnable := filepath.Join(t.TempDir(), "envoy-loopback.json")
	if err := LoopbackBootstrap(bootstrap, runnable); err != nil {
		t.Fatal(err)
	}
	e := StartEnvoy(t, runnable, adminAddr)
	port := data["Port"].(int)
	if err := WaitTCP("127.0.0.1:"+strconv.Itoa(port), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return &rateLimitedEnvoy{Proxy: &Proxy{Envoy: e, Port: port, Translate: res, Bootstrap: bootstrap}, OutputDir: out}
}

const globalLimitManifests = `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}
{{ range $r := .Routes }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: {{ $r }}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [{{ $r }}.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
{{ end }}---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: route, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route}]
  rateLimit:
    global:
      rules:
      - limit: {requests: 4, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: user, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: user}]
  rateLimit:
    global:
      rules:
      - clientSelectors: [{headers: [{name: x-user, type: Distinct}], methods: [{value: GET}]}]
        limit: {requests: 2, unit: Minute}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: cost, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cost}]
  rateLimit:
    global:
      rules:
      - limit: {requests: 5, unit: Minute}
        cost: {request: {from: Number, number: 2}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: shared, namespace: default}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: b}
  rateLimit:
    global:
      rules:
      - clientSelectors: [{sourceCIDR: {value: 127.0.0.0/8}}]
        limit: {requests: 3, unit: Minute}
        shared: true
`

// allRoutes are the routes globalLimitManifests' policies target.
var allRoutes = []string{"route", "user", "cost", "a", "b"}

// TestGlobalRateLimit: two Envoys of one Gateway count against the same
// limits through the real rate-limit service and Redis, which load the
// configuration egctl wrote.
func TestGlobalRateLimit(t *testing.T) {
	envoyTest(t)
	rlsBin, redisBin := requireRateLimitStack(t)
	const ok, limited = http.StatusOK, http.StatusTooManyRequests
	redis := startRedis(t, redisBin)
	grpcPort := FreePort(t)
	rlsAddr := "127.0.0.1:" + strconv.Itoa(grpcPort)
	data := func() map[string]any {
		return map[string]any{"App": 0, "Routes": allRoutes}
	}
	app := StartEchoBasic(t, "app").Port
	d1, d2 := data(), data()
	d1["App"], d2["App"] = app, app
	// Two proxies of one Gateway: the same manifests on two ports.
	// Envoy's 20ms default lets a request through uncounted when the
	// service answers late, which a loaded CI machine makes happen: the
	// counts below must be exact, so wait long and fail closed.
	exact := []string{"--ratelimit-timeout", "10s", "--ratelimit-fail-closed"}
	e1 := startRateLimitedEnvoy(t, globalLimitManifests, d1, rlsAddr, exact...)
	e2 := startRateLimitedEnvoy(t, globalLimitManifests, d2, rlsAddr, exact...)

	// Both runs wrote the same service configuration; the service loads
	// the first as written.
	cfg1, cfg2 := readDir(t, filepath.Join(e1.OutputDir, "ratelimit", "config")), readDir(t, filepath.Join(e2.OutputDir, "ratelimit", "config"))
	if len(cfg1) != 2 || !equalFiles(cfg1, cfg2) {
		t.Fatalf("want the same two domain files from both runs, got %v and %v", keys(cfg1), keys(cfg2))
	}
	rls := startRateLimitService(t, rlsBin, redis, e1.OutputDir, grpcPort, []string{"default/gw/http", "default/shared"})
	if cfg, _ := rls.loadedConfig(); !strings.Contains(cfg, "default/gw/http.httproute/default/route/rule/0/match/0/route_example_com_httproute/default/route/rule/0/match/0/route_example_com.rule-0-match--1_rule-0-match--1: unit=MINUTE requests_per_unit=4") {
		t.Fatalf("the service did not load the route's limit as egctl wrote it:\n%s", cfg)
	}

	t.Run("shared by two Envoys", func(t *testing.T) {
		for i, e := range []*rateLimitedEnvoy{e1, e2, e1, e2} {
			r := e.Get(t, "route.example.com", "/")
			if r.Status != ok {
				t.Fatalf("request %d (Envoy %d): want 200, got %s", i+1, i%2+1, r)
			}
		}
		expectStatuses(t, e1.Proxy, httpClient, "route.example.com", "/", []int{limited})
		expectStatuses(t, e2.Proxy, httpClient, "route.example.com", "/", []int{limited})
	})
	t.Run("distinct header", func(t *testing.T) {
		expectStatuses(t, e1.Proxy, httpClient, "user.example.com", "/", []int{ok}, "x-user", "alice")
		expectStatuses(t, e2.Proxy, httpClient, "user.example.com", "/", []int{ok, limited}, "x-user", "alice")
		expectStatuses(t, e2.Proxy, httpClient, "user.example.com", "/", []int{ok, ok, limited}, "x-user", "bob")
		// A POST is not selected: never counted.
		for range 3 {
			req := e1.NewRequest(t, http.MethodPost, "user.example.com", "/")
			req.Header.Set("x-user", "alice")
			Do(t, httpClient, req).ExpectStatus(t, ok)
		}
	})
	t.Run("cost", func(t *testing.T) {
		// 5 a minute at 2 a request: the third takes the count to 6.
		expectStatuses(t, e1.Proxy, httpClient, "cost.example.com", "/", []int{ok})
		expectStatuses(t, e2.Proxy, httpClient, "cost.example.com", "/", []int{ok})
		expectStatuses(t, e1.Proxy, httpClient, "cost.example.com", "/", []int{limited})
	})
	t.Run("shared by two routes", func(t *testing.T) {
		expectStatuses(t, e1.Proxy, httpClient, "a.example.com", "/", []int{ok})
		expectStatuses(t, e2.Proxy, httpClient, "b.example.com", "/", []int{ok})
		expectStatuses(t, e1.Proxy, httpClient, "b.example.com", "/", []int{ok})
		expectStatuses(t, e2.Proxy, httpClient, "a.example.com", "/", []int{limited})
	})
}

// TestGlobalRateLimitServiceDown: when the rate-limit service cannot be
// reached, requests pass unless --ratelimit-fail-closed (Envoy Gateway's
// rateLimit.failClosed) asks for 500.
func TestGlobalRateLimitServiceDown(t *testing.T) {
	envoyTest(t)
	// A port nothing listens on.
	dead := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	app := StartEchoBasic(t, "app").Port
	open := startRateLimitedEnvoy(t, globalLimitManifests, map[string]any{"App": app, "Routes": allRoutes}, dead, "--ratelimit-timeout", "200ms")
	closed := startRateLimitedEnvoy(t, globalLimitManifests, map[string]any{"App": app, "Routes": allRoutes}, dead, "--ratelimit-fail-closed")
	expectStatuses(t, open.Proxy, httpClient, "route.example.com", "/", []int{http.StatusOK, http.StatusOK})
	expectStatuses(t, closed.Proxy, httpClient, "route.example.com", "/", []int{http.StatusInternalServerError, http.StatusInternalServerError})
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestGoldenRateLimitConfigsLoad: the rate-limit service loads the
// configuration of every rate limit golden input as egctl writes it
// (every unit, nested distinct entries, shadow mode, shared domains).
func TestGoldenRateLimitConfigsLoad(t *testing.T) {
	envoyTest(t)
	rlsBin, redisBin := requireRateLimitStack(t)
	redis := startRedis(t, redisBin)
	ins, err := filepath.Glob(filepath.Join(envoytest.RepoRoot(), "testdata", "translate", "in", "ratelimit-*.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no rate limit golden inputs: %v", err)
	}
	loaded := 0
	for _, in := range ins {
		out := t.TempDir()
		res := RunEgctl(t, "x", "translate", "-f", in, "--to", "ratelimit", "--output-dir", out)
		if res.Code == 2 {
			t.Fatalf("egctl failed:\n%s", res)
		}
		files := readDir(t, filepath.Join(out, "ratelimit", "config"))
		if len(files) == 0 {
			continue
		}
		var domains []string
		for name, b := range files {
			var d struct{ Domain string }
			if err := yaml.Unmarshal(b, &d); err != nil || d.Domain == "" {
				t.Fatalf("%s: %s has no domain: %v", in, name, err)
			}
			domains = append(domains, d.Domain)
		}
		startRateLimitService(t, rlsBin, redis, out, FreePort(t), domains)
		loaded++
	}
	if loaded < 2 {
		t.Fatalf("only %d golden inputs have global rate limits; want the local-only ones to be the exception", loaded)
	}
}
