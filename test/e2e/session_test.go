package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// sessionRoute deploys three echo-basic pods behind rules keeping sessions
// by cookie (/cookie, a session cookie; /permanent, one with Max-Age) and
// by header (/header).
func sessionProxy(t *testing.T) *Proxy {
	t.Helper()
	return Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "a" .A }}---
{{ service "b" .B }}---
{{ service "c" .C }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: sticky, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [sticky.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cookie}}]
    sessionPersistence: {sessionName: sticky-session}
    backendRefs: [{name: a, port: 8080}, {name: b, port: 8080}, {name: c, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /permanent}}]
    sessionPersistence:
      sessionName: sticky-permanent
      absoluteTimeout: 1h
      cookieConfig: {lifetimeType: Permanent}
    backendRefs: [{name: a, port: 8080}, {name: b, port: 8080}, {name: c, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /header}}]
    sessionPersistence: {sessionName: x-session, type: Header}
    backendRefs: [{name: a, port: 8080}, {name: b, port: 8080}, {name: c, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /plain}}]
    backendRefs: [{name: a, port: 8080}, {name: b, port: 8080}, {name: c, port: 8080}]
`, map[string]any{"A": StartEchoBasic(t, "a").Port, "B": StartEchoBasic(t, "b").Port, "C": StartEchoBasic(t, "c").Port})
}

const stickyHost = "sticky.example.com"

// spread sends n requests without session state and returns the pods
// that answered: proof that stickiness is not just a single backend.
func spread(t *testing.T, p *Proxy, path string, n int) map[string]int {
	t.Helper()
	pods := map[string]int{}
	for range n {
		pods[p.Get(t, stickyHost, path).Echo(t).Pod]++
	}
	return pods
}

// setCookie returns the Set-Cookie header of resp for cookie name.
func setCookie(t *testing.T, r *Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %s", name, r)
	return nil
}

// TestSessionPersistenceCookie: the first answer sets the session cookie;
// every request that sends it back reaches the same pod, while requests
// without it are spread over all three.
func TestSessionPersistenceCookie(t *testing.T) {
	envoyTest(t)
	p := sessionProxy(t)
	if pods := spread(t, p, "/plain", 30); len(pods) < 2 {
		t.Fatalf("without sessions 30 requests reached only %v", pods)
	}
	for _, tc := range []struct {
		path, cookie string
		maxAge       int
	}{
		{"/cookie", "sticky-session", 0},
		{"/permanent", "sticky-permanent", 3600},
	} {
		first := p.Get(t, stickyHost, tc.path)
		pod := first.Echo(t).Pod
		c := setCookie(t, first, tc.cookie)
		if c.Path != tc.path {
			t.Errorf("%s: cookie path %q, want %q", tc.path, c.Path, tc.path)
		}
		if c.MaxAge != tc.maxAge {
			t.Errorf("%s: cookie Max-Age %d, want %d (%s)", tc.path, c.MaxAge, tc.maxAge, c.Raw)
		}
		if !c.HttpOnly {
			t.Errorf("%s: session cookie is not HttpOnly: %s", tc.path, c.Raw)
		}
		for range 20 {
			r := p.Get(t, stickyHost, tc.path+"/more", "Cookie", c.Name+"="+c.Value)
			if got := r.Echo(t).Pod; got != pod {
				t.Fatalf("%s with the session cookie: pod %q, want %q", tc.path, got, pod)
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Fatalf("%s: the session host did not change, yet Envoy set %v", tc.path, sc)
			}
		}
	}
	// Sessions of one route do not leak into another: a cookie of /cookie
	// means nothing to /plain.
	first := p.Get(t, stickyHost, "/cookie")
	c := setCookie(t, first, "sticky-session")
	if pods := map[string]int{}; true {
		for range 30 {
			pods[p.Get(t, stickyHost, "/plain", "Cookie", c.Name+"="+c.Value).Echo(t).Pod]++
		}
		if len(pods) < 2 {
			t.Errorf("/plain with another route's session cookie reached only %v", pods)
		}
	}
}

// TestSessionPersistenceHeader: the answer carries the session header;
// sending it back keeps the client on that pod.
func TestSessionPersistenceHeader(t *testing.T) {
	envoyTest(t)
	p := sessionProxy(t)
	seen := map[string]bool{}
	// Start sessions until two land on different pods, so the test shows
	// each header selects its own pod.
	sessions := map[string]string{} // pod → header value
	for i := 0; i < 30 && len(sessions) < 2; i++ {
		r := p.Get(t, stickyHost, "/header")
		v := r.Header.Get("x-session")
		if v == "" {
			t.Fatalf("no x-session header in %s", r)
		}
		pod := r.Echo(t).Pod
		seen[pod] = true
		sessions[pod] = v
	}
	if len(sessions) < 2 {
		t.Fatalf("30 new sessions all landed on %v", seen)
	}
	for pod, v := range sessions {
		for range 15 {
			r := p.Get(t, stickyHost, "/header/x", "x-session", v)
			if got := r.Echo(t).Pod; got != pod {
				t.Fatalf("x-session %s: pod %q, want %q", v, got, pod)
			}
		}
	}
	// A header that names no endpoint of the route is ignored: the
	// request is balanced as usual and gets a new session.
	r := p.Get(t, stickyHost, "/header", "x-session", "bm90LWFuLWVuZHBvaW50OjE=")
	r.Echo(t)
	if v := r.Header.Get("x-session"); v == "" || strings.Contains(v, "bm90LWFu") {
		t.Errorf("an unknown session got x-session %q, want a new one", v)
	}
}
