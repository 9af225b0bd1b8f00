package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBackendTrafficLoadBalancing: each spec.loadBalancer algorithm, seen
// from where Envoy sends requests over three endpoints of one cluster.
func TestBackendTrafficLoadBalancing(t *testing.T) {
	envoyTest(t)
	hold := newGate(t)
	held := make(chan struct{}, 1)
	// pool0 holds "X-Hold" requests open until the test ends: a busy
	// endpoint for least request to avoid.
	pool := startPool(t, "pool", 3, func(name string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if name == "pool0" && r.Header.Get("X-Hold") != "" {
				select {
				case held <- struct{}{}:
				default:
				}
				hold.wait(r.Context())
			}
			return false
		}
	})
	route := func(name, lb string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %[1]s, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [%[1]s.example.com]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: pool}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: %[1]s, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: %[1]s}]
  loadBalancer: %[2]s
`, name, lb)
	}
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
`+poolBackendYAML("pool", pool)+
		route("rr", "{type: RoundRobin}")+
		route("random", "{type: Random}")+
		route("lr", "{type: LeastRequest}")+
		route("header", "{type: ConsistentHash, consistentHash: {type: Headers, headers: [{name: x-user}]}}")+
		route("cookie", "{type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: sticky, ttl: 1h, attributes: {SameSite: Lax}}}}")+
		route("query", "{type: ConsistentHash, consistentHash: {type: QueryParams, queryParams: [{name: user}]}}")+
		route("ip", "{type: ConsistentHash, consistentHash: {type: SourceIP}}"),
		nil)

	t.Run("RoundRobin cycles through every endpoint in turn", func(t *testing.T) {
		var seq []string
		for range 30 {
			seq = append(seq, p.served(t, "rr.example.com", "/"))
		}
		if distinct(seq) != 3 {
			t.Fatalf("round robin reached %d endpoints: %v", distinct(seq), seq)
		}
		for i := range seq {
			if seq[i] != seq[i%3] {
				t.Fatalf("not a strict rotation at request %d: %v", i, seq)
			}
		}
	})

	t.Run("Random reaches every endpoint, in no fixed order", func(t *testing.T) {
		var seq []string
		repeats := 0
		for i := range 60 {
			seq = append(seq, p.served(t, "random.example.com", "/"))
			if i > 0 && seq[i] == seq[i-1] {
				repeats++
			}
		}
		// Missing an endpoint in 60 draws: 3·(2/3)^60 ≈ 1e-10; never two
		// alike in a row: (2/3)^59 ≈ 4e-11 (what a rotation would do).
		if distinct(seq) != 3 || repeats == 0 {
			t.Fatalf("random: %d endpoints, %d repeats in %v", distinct(seq), repeats, seq)
		}
	})

	t.Run("LeastRequest avoids the busy endpoint", func(t *testing.T) {
		// Keep one request in flight on pool0: send X-Hold requests one
		// at a time until one is held there (the others come back at
		// once from pool1 and pool2).
		for i := 0; ; i++ {
			if i == 60 {
				t.Fatal("no held request reached pool0")
			}
			req := p.NewRequest(t, http.MethodGet, "lr.example.com", "/")
			req.Header.Set("X-Hold", "1")
			done := make(chan struct{})
			go func() {
				defer close(done)
				if resp, err := httpClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			select {
			case <-held:
			case <-done:
				continue
			case <-time.After(10 * time.Second):
				t.Fatal("an X-Hold request neither came back nor was held")
			}
			break
		}
		count := map[string]int{}
		for range 90 {
			count[p.served(t, "lr.example.com", "/")]++
		}
		// Two random picks, the less busy wins: pool0 only when both picks
		// are pool0 (1/9, ~10 of 90); round robin or random would give it 30.
		if count["pool0"] > 22 || count["pool1"] < 25 || count["pool2"] < 25 {
			t.Fatalf("least request with pool0 busy: %v", count)
		}
		hold.open()
	})

	t.Run("ConsistentHash on a header sticks per value", func(t *testing.T) {
		all := map[string]bool{}
		for u := range 20 {
			user := fmt.Sprintf("user-%d", u)
			first := p.served(t, "header.example.com", "/", "x-user", user)
			for range 3 {
				if got := p.served(t, "header.example.com", "/", "x-user", user); got != first {
					t.Fatalf("%s went to %s then %s", user, first, got)
				}
			}
			all[first] = true
		}
		if len(all) < 2 {
			t.Fatalf("20 users all hashed to %v", all)
		}
	})

	t.Run("ConsistentHash on a query parameter sticks per value", func(t *testing.T) {
		all := map[string]bool{}
		for u := range 20 {
			path := fmt.Sprintf("/?user=u%d", u)
			first := p.served(t, "query.example.com", path)
			for range 3 {
				if got := p.served(t, "query.example.com", path); got != first {
					t.Fatalf("%s went to %s then %s", path, first, got)
				}
			}
			all[first] = true
		}
		if len(all) < 2 {
			t.Fatalf("20 users all hashed to %v", all)
		}
	})

	t.Run("ConsistentHash on a generated cookie sticks per client", func(t *testing.T) {
		all := map[string]bool{}
		for c := range 10 {
			// A new connection per client: Envoy derives a missing
			// cookie from the client's address and port.
			client := clientFrom("127.0.0.1")
			r := Do(t, client, p.NewRequest(t, http.MethodGet, "cookie.example.com", "/")).ExpectStatus(t, http.StatusOK)
			first := r.Header.Get("X-Backend")
			sc := r.Header.Get("Set-Cookie")
			if !strings.HasPrefix(sc, "sticky=") || !strings.Contains(sc, "Max-Age=3600") || !strings.Contains(sc, "SameSite=Lax") {
				t.Fatalf("client %d: Set-Cookie %q, want sticky=… with Max-Age=3600 and SameSite=Lax", c, sc)
			}
			cookie := strings.SplitN(sc, ";", 2)[0]
			for range 3 {
				req := p.NewRequest(t, http.MethodGet, "cookie.example.com", "/")
				req.Header.Set("Cookie", cookie)
				if got := Do(t, clientFrom("127.0.0.1"), req).ExpectStatus(t, http.StatusOK).Header.Get("X-Backend"); got != first {
					t.Fatalf("client %d (%s) went to %s then %s", c, cookie, first, got)
				}
			}
			all[first] = true
		}
		if len(all) < 2 {
			t.Fatalf("10 cookies all hashed to %v", all)
		}
	})

	t.Run("ConsistentHash on the source IP sticks per client address", func(t *testing.T) {
		all := map[string]bool{}
		for i := 10; i < 30; i++ {
			client := clientFrom(fmt.Sprintf("127.0.0.%d", i))
			var first string
			for n := range 3 {
				got := Do(t, client, p.NewRequest(t, http.MethodGet, "ip.example.com", "/")).ExpectStatus(t, http.StatusOK).Header.Get("X-Backend")
				if n == 0 {
					first = got
				} else if got != first {
					t.Fatalf("client 127.0.0.%d went to %s then %s", i, first, got)
				}
			}
			all[first] = true
		}
		if len(all) < 2 {
			t.Fatalf("20 client addresses all hashed to %v", all)
		}
	})
}

func distinct(s []string) int {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return len(m)
}
