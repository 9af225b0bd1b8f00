package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvoyProxy mergeBackends through the real Envoy: routes to one Service
// share one cluster (and its counters), answer from the right backend,
// keep their weights and fail-closed shares; a rule with its own cluster
// settings keeps its own cluster, whose circuit breaker applies to it and
// to nothing else.

const mergeBackendsManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: merge, namespace: default}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: merge, namespace: default}
spec:
  mergeBackends: {}
---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
{{ service "other" .Other }}---
{{ service "busy" .Busy }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [merge.example.com]
  rules: [{matches: [{path: {value: /a}}], backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [merge.example.com]
  rules: [{matches: [{path: {value: /b}}], backendRefs: [{name: app, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mixed, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [merge.example.com]
  rules:
  - matches: [{path: {value: /mixed}}]
    backendRefs:
    - {name: app, port: 8080, weight: 1}
    - name: other
      port: 8080
      weight: 1
      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-leg, value: other}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: fail, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [merge.example.com]
  rules:
  - matches: [{path: {value: /fail}}]
    backendRefs:
    - {name: app, port: 8080, weight: 1}
    - {name: missing, port: 8080, weight: 1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: busy, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [merge.example.com]
  rules:
  - matches: [{path: {value: /busy}}]
    backendRefs: [{name: busy, port: 8080}]
  - name: limited
    matches: [{path: {value: /limited}}]
    backendRefs: [{name: busy, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: limited, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: busy, sectionName: limited}]
  circuitBreaker: {maxConnections: 1, maxPendingRequests: 1, maxParallelRequests: 1}
`

func TestMergeBackends(t *testing.T) {
	envoyTest(t)
	app := StartEchoBasic(t, "app")
	other := StartEchoBasic(t, "other")
	hold := newGate(t)
	busy := StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/hold") {
			hold.wait(r.Context())
		}
		_, _ = io.WriteString(w, "busy answered "+r.URL.Path)
	}))
	// The missing Service of /fail is reported (exit 1); the rest compiles.
	p := DeployWith(t, DeployOptions{ExitCodes: []int{1}}, mergeBackendsManifests,
		map[string]any{"App": app.Port, "Other": other.Port, "Busy": busy.Port})
	const host = "merge.example.com"

	t.Run("routes to one Service share one cluster", func(t *testing.T) {
		clusters := clusterNames(t, p)
		for _, want := range []string{"service/default/app/8080/http", "service/default/busy/8080/http",
			"httproute/default/busy/rule/1", "httproute/default/mixed/rule/0/backend/1"} {
			if !clusters[want] {
				t.Errorf("cluster %s missing; Envoy has %v", want, clusters)
			}
		}
		for _, gone := range []string{"httproute/default/a/rule/0", "httproute/default/b/rule/0", "httproute/default/busy/rule/0",
			"httproute/default/mixed/rule/0", "httproute/default/mixed/rule/0/backend/0"} {
			if clusters[gone] {
				t.Errorf("cluster %s exists: its backend should be in the shared cluster", gone)
			}
		}
		before := upstreamRequests(t, p, "service/default/app/8080/http")
		for range 3 {
			p.ExpectPod(t, "app", host, "/a")
		}
		for range 2 {
			p.ExpectPod(t, "app", host, "/b")
		}
		Eventually(t, 5*time.Second, func() error {
			if got := upstreamRequests(t, p, "service/default/app/8080/http") - before; got != 5 {
				return fmt.Errorf("shared cluster counted %d requests, want the 5 sent through /a and /b", got)
			}
			return nil
		})
	})

	t.Run("a weighted rule keeps its weights and its filtered backend's header", func(t *testing.T) {
		seen := map[string]int{}
		for i := range 40 {
			e := p.Get(t, host, "/mixed?i="+strconv.Itoa(i)).ExpectStatus(t, http.StatusOK).Echo(t)
			seen[e.Pod]++
			leg := e.Header("X-Leg")
			switch e.Pod {
			case "other":
				if len(leg) != 1 || leg[0] != "other" {
					t.Fatalf("request to other carries x-leg %q, want its backendRef filter's \"other\"", leg)
				}
			case "app":
				if len(leg) != 0 {
					t.Fatalf("request to app (shared cluster) carries x-leg %q: the other backendRef's filter leaked", leg)
				}
			default:
				t.Fatalf("answered by pod %q", e.Pod)
			}
		}
		if seen["app"] == 0 || seen["other"] == 0 {
			t.Errorf("40 requests at weights 1:1 reached %v, want both backends", seen)
		}
	})

	t.Run("an unresolved backendRef's share still fails closed", func(t *testing.T) {
		codes := map[int]int{}
		for i := range 40 {
			r := p.Get(t, host, "/fail?i="+strconv.Itoa(i))
			codes[r.Status]++
			if r.Status == http.StatusOK {
				if pod := r.Echo(t).Pod; pod != "app" {
					t.Fatalf("200 from pod %q, want app", pod)
				}
			}
		}
		if codes[http.StatusOK] == 0 || codes[http.StatusInternalServerError] == 0 || codes[http.StatusOK]+codes[http.StatusInternalServerError] != 40 {
			t.Errorf("40 requests at weights 1:1 (app, missing) answered %v, want both 200 and 500 and nothing else", codes)
		}
	})

	t.Run("a rule with its own circuit breaker keeps its cluster; the shared one is not limited", func(t *testing.T) {
		type result struct {
			status int
			body   string
			err    error
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		held := make(chan result, 2)
		for range 2 { // one active on the one connection, one pending
			go func() {
				req := p.NewRequest(t, http.MethodGet, host, "/limited/hold").WithContext(ctx)
				resp, err := httpClient.Do(req)
				if err != nil {
					held <- result{err: err}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				held <- result{status: resp.StatusCode, body: string(b)}
			}()
		}
		// Both are held once the backend has one and Envoy queues the other.
		busy.WaitHits(t, 1, 10*time.Second, func(h Hit) bool { return h.Path == "/limited/hold" })
		Eventually(t, 10*time.Second, func() error {
			if st := clusterStat(t, p, "httproute/default/busy/rule/1", "upstream_rq_pending_active"); st != 1 {
				return fmt.Errorf("%d requests pending on the limited rule's cluster, want 1", st)
			}
			return nil
		})
		r := p.Get(t, host, "/limited/quick")
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "overflow") {
			t.Fatalf("the limited rule answered %s while full, want a 503 overflow", r)
		}
		// The same Service through the shared cluster: no breaker there,
		// and the limited cluster's requests do not count against it.
		for range 3 {
			r := p.ExpectStatus(t, http.StatusOK, host, "/busy/quick")
			if !strings.Contains(string(r.Body), "busy answered /busy/quick") {
				t.Fatalf("shared route answered %s", r)
			}
		}
		hold.open()
		for range 2 {
			select {
			case r := <-held:
				if r.err != nil || r.status != http.StatusOK {
					t.Fatalf("held request: %d %q %v, want 200 once released", r.status, r.body, r.err)
				}
			case <-ctx.Done():
				t.Fatal("held requests did not finish after the gate opened")
			}
		}
		if n := clusterStat(t, p, "service/default/busy/8080/http", "upstream_rq_pending_overflow"); n != 0 {
			t.Errorf("the shared cluster overflowed %d times", n)
		}
	})
}

// clusterNames lists the clusters Envoy has.
func clusterNames(t *testing.T, p *Proxy) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(p.Admin(t, "/clusters"), "\n") {
		if name, _, ok := strings.Cut(line, "::"); ok {
			out[name] = true
		}
	}
	return out
}

// upstreamRequests is a cluster's upstream_rq_total.
func upstreamRequests(t *testing.T, p *Proxy, cluster string) int {
	t.Helper()
	return clusterStat(t, p, cluster, "upstream_rq_total")
}

// clusterStat reads one counter or gauge of a cluster from Envoy's admin.
func clusterStat(t *testing.T, p *Proxy, cluster, stat string) int {
	t.Helper()
	re := "^cluster\\." + regexp.QuoteMeta(cluster) + "\\." + stat + "$"
	st := p.Admin(t, "/stats?filter="+url.QueryEscape(re))
	m := regexp.MustCompile(regexp.QuoteMeta(stat) + `: (\d+)`).FindStringSubmatch(st)
	if m == nil {
		t.Fatalf("no %s for cluster %s: %q", stat, cluster, st)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
