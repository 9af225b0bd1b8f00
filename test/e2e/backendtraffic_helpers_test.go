package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Backends for the BackendTrafficPolicy behaviour tests: small in-test
// servers that say who they are, so a test can see where Envoy sent each
// request.

// namedBackend answers every request with its name (body and X-Backend),
// except that its behave hook may answer first.
type namedBackend struct {
	*HTTPBackend
	Name string
}

// startNamed starts a named backend; behave (may be nil) handles a request
// itself by returning true.
func startNamed(t *testing.T, name string, behave func(w http.ResponseWriter, r *http.Request) bool) *namedBackend {
	t.Helper()
	b := StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		if behave != nil && behave(w, r) {
			return
		}
		_, _ = io.WriteString(w, name)
	}))
	return &namedBackend{HTTPBackend: b, Name: name}
}

// startPool starts n named backends "<prefix>0".. and returns them.
func startPool(t *testing.T, prefix string, n int, behave func(name string) func(http.ResponseWriter, *http.Request) bool) []*namedBackend {
	t.Helper()
	out := make([]*namedBackend, n)
	for i := range out {
		name := fmt.Sprintf("%s%d", prefix, i)
		var h func(http.ResponseWriter, *http.Request) bool
		if behave != nil {
			h = behave(name)
		}
		out[i] = startNamed(t, name, h)
	}
	return out
}

// poolBackendYAML is an Envoy Gateway Backend with one endpoint per pool
// member: one Envoy cluster balancing over all of them.
func poolBackendYAML(name string, pool []*namedBackend) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {name: %s, namespace: %s}\nspec:\n  endpoints:\n", name, Namespace)
	for _, p := range pool {
		fmt.Fprintf(&b, "  - ip: {address: 127.0.0.1, port: %d}\n", p.Port)
	}
	return b.String()
}

// served sends GET host+path (with header pairs) and returns which backend
// answered; anything but a 200 from a named backend fails the test.
func (p *Proxy) served(t testing.TB, host, path string, headerKV ...string) string {
	t.Helper()
	r := p.Get(t, host, path, headerKV...).ExpectStatus(t, http.StatusOK)
	name := r.Header.Get("X-Backend")
	if name == "" {
		t.Fatalf("no X-Backend in %s", r)
	}
	return name
}

// gate blocks requests until opened; it is opened at the end of the test
// so no handler outlives it.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate(t *testing.T) *gate {
	g := &gate{ch: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// wait blocks until the gate opens or the request is abandoned.
func (g *gate) wait(ctx context.Context) {
	select {
	case <-g.ch:
	case <-ctx.Done():
	}
}
