package serve

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	egcompile "github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/test/bench/gen"
)

// The incremental recompile reuses bytes on the strength of IR
// fingerprints (incremental.go). These tests hold it to what a compilation
// from scratch gives, after every edit of a sequence: the same Gateways,
// and for each the same versions and the same bytes for every resource.

// serveSettings are the settings `egctl x serve` compiles with by default.
func serveSettings(t *testing.T) (*egcompile.Settings, manifest.Options) {
	t.Helper()
	o := egcompile.NewOptions()
	if err := o.Complete(false); err != nil {
		t.Fatal(err)
	}
	s, err := o.Settings(true)
	if err != nil {
		t.Fatal(err)
	}
	return s, o.LoadOptions(nil)
}

// sameAsScratch fails t unless inc (an incremental compilation) served
// exactly what scratch (a compilation with nothing kept) did, and reported
// the same problems.
func sameAsScratch(t *testing.T, step string, inc, scratch *compiled) {
	t.Helper()
	if (inc.err == nil) != (scratch.err == nil) {
		t.Fatalf("%s: incremental error %v, from scratch %v", step, inc.err, scratch.err)
	}
	if inc.err != nil {
		return
	}
	if a, b := problemTexts(inc), problemTexts(scratch); !slices.Equal(a, b) {
		t.Errorf("%s: problems differ:\nincremental:\n%s\nfrom scratch:\n%s", step, strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if len(inc.proxies) != len(scratch.proxies) {
		t.Fatalf("%s: %d proxies, from scratch %d", step, len(inc.proxies), len(scratch.proxies))
	}
	for name, want := range scratch.proxies {
		got := inc.proxies[name]
		if got == nil {
			t.Fatalf("%s: proxy %s missing", step, name)
		}
		for typ, ws := range want.snap.types {
			gs := got.snap.types[typ]
			if len(gs.items) != len(ws.items) {
				t.Errorf("%s: %s %s: %d resources, from scratch %d", step, name, typ, len(gs.items), len(ws.items))
				continue
			}
			for i, w := range ws.items {
				g := gs.items[i]
				if g.name != w.name || g.version != w.version || !bytes.Equal(g.any.Value, w.any.Value) ||
					g.delta.Version != w.version || g.delta.Name != w.name || g.any.TypeUrl != typ {
					t.Errorf("%s: %s %s %q: incremental version %s (%d bytes), from scratch %s %q (%d bytes); equal as protos: %v",
						step, name, typ, g.name, g.version, len(g.any.Value), w.version, w.name, len(w.any.Value), protoEqual(g.any, w.any))
				}
			}
			if gs.version != ws.version {
				t.Errorf("%s: %s %s: type version %s, from scratch %s", step, name, typ, gs.version, ws.version)
			}
		}
		if got.version != want.version {
			t.Errorf("%s: %s: version %s, from scratch %s", step, name, got.version, want.version)
		}
	}
}

func protoEqual(a, b *anypb.Any) bool {
	x, err1 := a.UnmarshalNew()
	y, err2 := b.UnmarshalNew()
	return err1 == nil && err2 == nil && proto.Equal(x, y)
}

func problemTexts(c *compiled) []string {
	var out []string
	for _, p := range c.problems {
		out = append(out, p.text)
	}
	slices.Sort(out)
	return out
}

// editor keeps a directory of manifests and compiles it incrementally and
// from scratch after every change.
type editor struct {
	t     *testing.T
	dir   string
	o     CompileOptions
	loads *manifest.Cache
	last  *compiled
}

func newEditor(t *testing.T) *editor {
	s, mo := serveSettings(t)
	dir := t.TempDir()
	return &editor{t: t, dir: dir, o: CompileOptions{Files: []string{dir}, Manifest: mo, Settings: s}, loads: manifest.NewCache()}
}

func (e *editor) write(name, content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *editor) read(name string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// replace changes the first old in file name to new; old must be there.
func (e *editor) replace(name, old, new string) {
	e.t.Helper()
	s := e.read(name)
	if !strings.Contains(s, old) {
		e.t.Fatalf("%s lacks %q", name, old)
	}
	e.write(name, strings.Replace(s, old, new, 1))
}

// step compiles incrementally (with what the last step left) and from
// scratch, compares them, and returns the incremental compilation.
func (e *editor) step(what string) *compiled {
	e.t.Helper()
	var prev *reuseState
	if e.last != nil {
		prev = e.last.reuse
	}
	inc := compile(e.o, e.loads, prev)
	scratch := compile(e.o, nil, nil)
	sameAsScratch(e.t, what, inc, scratch)
	if inc.err == nil {
		e.last = inc
	}
	return inc
}

// The bench workload, small, with policies and a second Gateway, through a
// sequence of edits of every kind serve sees; each is checked against a
// compilation from scratch, and the edits that touch one route must reuse
// almost everything (else the incremental path silently stopped working).
func TestIncrementalEditsMatchScratch(t *testing.T) {
	t.Parallel()
	e := newEditor(t)
	var all bytes.Buffer
	if err := gen.Write(&all, 60); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(all.String(), "\n---\n")
	// Gateway, namespaces, Services and EndpointSlices in one file, the
	// routes in others.
	e.write("base.yaml", strings.Join(docs[:2+gen.Namespaces*5], "\n---\n"))
	routes := docs[2+gen.Namespaces*5:]
	e.write("routes-a.yaml", strings.Join(routes[:30], "\n---\n"))
	e.write("routes-b.yaml", strings.Join(routes[30:], "\n---\n"))
	e.write("policies.yaml", `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: route-3, namespace: ns-3}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route-3}]
  retry: {numRetries: 3}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: route-4, namespace: ns-4}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route-4}]
  cors: {allowOrigins: ["https://a.example"]}
`)
	e.write("other.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8081}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other, namespace: default}
spec:
  parentRefs: [{name: other}]
  hostnames: [other.example.com]
  rules: [{backendRefs: [{name: svc-a, namespace: ns-0, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: other, namespace: ns-0}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
`)
	first := e.step("first compilation")
	if first.reused.Reused != 0 {
		t.Errorf("first compilation reused %d resources", first.reused.Reused)
	}
	total := first.reused.Marshalled

	// small says an edit of one route marshalled only a few resources: the
	// route's virtual host, its clusters and load assignments, the
	// listeners.
	small := func(c *compiled, what string) {
		t.Helper()
		if c.reused.Marshalled > 12 || c.reused.Reused < total-20 {
			t.Errorf("%s: marshalled %d, reused %d of about %d: the incremental path did not reuse", what, c.reused.Marshalled, c.reused.Reused, total)
		}
	}
	// patchProblem says the EnvoyPatchPolicy's failure is reported, also
	// when its Gateway is kept whole (sameAsScratch compares the rest).
	patchProblem := func(c *compiled, what string) {
		t.Helper()
		if !strings.Contains(strings.Join(problemTexts(c), "\n"), "EnvoyPatchPolicy default/patch") {
			t.Errorf("%s: the patch that does not apply is not reported: %v", what, problemTexts(c))
		}
	}
	steps := []struct {
		what  string
		edit  func()
		check func(*compiled, string)
	}{
		{"a comment", func() { e.write("routes-a.yaml", e.read("routes-a.yaml")+"\n# comment\n") }, func(c *compiled, what string) {
			if c.reused.Marshalled != 0 {
				t.Errorf("%s: marshalled %d resources of Gateways whose IR did not change", what, c.reused.Marshalled)
			}
		}},
		{"a route's header value", func() { e.replace("routes-a.yaml", "value: route-7\n", "value: route-7-changed\n") }, small},
		{"a route's hostname", func() { e.replace("routes-a.yaml", "- route-8.example.com", "- route-8b.example.com") }, small},
		{"a route's backend weight", func() { e.replace("routes-b.yaml", "weight: 90", "weight: 80") }, small},
		{"a route added", func() {
			e.write("routes-c.yaml", strings.ReplaceAll(routes[5], "route-5", "route-new"))
		}, small},
		{"a route removed", func() { e.write("routes-c.yaml", "") }, nil},
		{"a route's rule removed", func() {
			e.replace("routes-a.yaml", "  - matches:\n    - path:\n        type: Exact\n        value: /health\n    backendRefs:\n    - name: svc-a\n      port: 8080\n", "")
		}, small},
		{"an EndpointSlice address", func() { e.replace("base.yaml", "127.1.2.1", "127.1.2.9") }, nil},
		{"a Service port", func() { e.replace("base.yaml", "port: 8080\n    targetPort: 8080", "port: 8080\n    targetPort: 8081") }, nil},
		{"a policy's retries", func() { e.replace("policies.yaml", "numRetries: 3", "numRetries: 5") }, small},
		{"a policy added", func() {
			e.write("policies-2.yaml", `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: gateway, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  timeout: {http: {requestTimeout: 7s}}
`)
		}, nil},
		{"a policy removed", func() { e.write("policies-2.yaml", "") }, nil},
		// xds names compressor filters by order of first use: when the
		// first goes, another route's per-route config is renamed though
		// its IR did not change (the listener's filters change with it).
		{"two compressors", func() {
			e.write("policies-3.yaml", `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: route-10, namespace: ns-10}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route-10}]
  compressor: [{type: Gzip, gzip: {}, minContentLength: 1Ki}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: route-20, namespace: ns-0}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: route-20}]
  compressor: [{type: Gzip, gzip: {}, minContentLength: 2Ki}]
`)
		}, nil},
		{"the first compressor removed", func() {
			e.replace("policies-3.yaml", "compressor: [{type: Gzip, gzip: {}, minContentLength: 1Ki}]", "timeout: {http: {requestTimeout: 3s}}")
		}, nil},
		{"a listener's port", func() { e.replace("base.yaml", "port: 80\n", "port: 8080\n") }, nil},
		{"a listener added", func() {
			e.replace("base.yaml", "  listeners:\n", "  listeners:\n  - name: extra\n    protocol: HTTP\n    port: 9090\n    hostname: extra.example.com\n    allowedRoutes:\n      namespaces:\n        from: All\n")
		}, nil},
		{"a route on the new listener", func() {
			e.write("routes-c.yaml", strings.ReplaceAll(strings.ReplaceAll(routes[6], "route-6.example.com", "extra.example.com"), "route-6", "route-extra"))
		}, small},
		{"an EnvoyPatchPolicy on the other Gateway", func() {
			e.write("patch.yaml", `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: patch, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: other}
  type: JSONPatch
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/other/http
    operation: {op: add, path: /virtual_hosts/0/routes/0/metadata, value: {filter_metadata: {x: {y: z}}}}
`)
		}, nil},
		{"a route of eg, with the patched Gateway kept whole", func() { e.replace("routes-b.yaml", "value: route-40\n", "value: route-40-changed\n") }, nil},
		{"a route of the patched Gateway", func() { e.replace("other.yaml", "other.example.com", "other2.example.com") }, nil},
		{"a patch that does not apply", func() { e.replace("patch.yaml", "name: default/other/http", "name: default/other/none") }, patchProblem},
		{"a route of eg, with the broken patch kept", func() { e.replace("routes-b.yaml", "value: route-41\n", "value: route-41-changed\n") }, patchProblem},
		{"the patch removed", func() { e.write("patch.yaml", "") }, nil},
		// A JSON patch addresses virtual hosts by position: a virtual host
		// that did not change moves, and the patch lands on another.
		{"an EnvoyPatchPolicy on eg addressing a virtual host by position", func() {
			e.write("patch-eg.yaml", `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: patch-eg, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: eg}
  type: JSONPatch
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/eg/http
    operation: {op: add, path: /virtual_hosts/0/routes/0/metadata, value: {filter_metadata: {x: {y: z}}}}
`)
		}, nil},
		{"a virtual host sorted before the patched one", func() {
			e.write("routes-d.yaml", strings.ReplaceAll(strings.ReplaceAll(routes[9], "route-9.example.com", "aaa.example.com"), "route-9", "route-aaa"))
		}, nil},
		{"the eg patch removed", func() { e.write("patch-eg.yaml", ""); e.write("routes-d.yaml", "") }, nil},
		{"the other Gateway removed", func() { e.write("other.yaml", "") }, nil},
		{"a broken file", func() { e.write("routes-c.yaml", "kind: HTTPRoute\nspec: [") }, nil},
		{"the broken file fixed", func() { e.write("routes-c.yaml", "") }, nil},
	}
	for _, s := range steps {
		s.edit()
		c := e.step(s.what)
		if broken := s.what == "a broken file"; (c.err != nil) != broken {
			t.Fatalf("%s: compile error %v", s.what, c.err)
		}
		if s.check != nil && c.err == nil {
			s.check(c, s.what)
		}
		if t.Failed() {
			t.Fatalf("stopped after %q", s.what)
		}
	}
}

// Every golden input, compiled after the previous one (same Gateway names
// with other contents), then with a route added to each of its Gateways,
// that route changed, and removed again: the virtual hosts of every feature
// egctl translates are reused and checked.
func TestIncrementalGoldenInputs(t *testing.T) {
	t.Parallel()
	ins, err := filepath.Glob(filepath.Join(envoytest.RepoRoot(), "testdata", "translate", "in", "*.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	e := newEditor(t)
	reused := 0
	for _, in := range ins {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(in)
		e.write("extra.yaml", "")
		e.write("input.yaml", string(b))
		c := e.step(base)
		// Twice from scratch: the same bytes (versions are content hashes).
		sameAsScratch(t, base+" (determinism)", compile(e.o, nil, nil), compile(e.o, nil, nil))
		if c.err != nil || c.status == nil {
			continue
		}
		var refs []string
		for _, g := range c.status.Gateways {
			refs = append(refs, fmt.Sprintf("{name: %s, namespace: %s}", g.Name, g.Namespace))
		}
		if len(refs) == 0 {
			continue
		}
		route := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: incremental-extra, namespace: default}
spec:
  parentRefs: [%s]
  hostnames: [incremental-extra.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /extra}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-extra, value: one}]}}]
    backendRefs: [{name: incremental-extra, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: incremental-extra, namespace: default}
spec:
  clusterIP: 10.9.9.9
  ports: [{name: http, port: 8080}]
`, strings.Join(refs, ", "))
		e.write("extra.yaml", route)
		c = e.step(base + " + a route")
		reused += c.reused.Reused
		e.replace("extra.yaml", "value: one", "value: two")
		c = e.step(base + " + the route changed")
		reused += c.reused.Reused
		e.write("extra.yaml", "")
		c = e.step(base + " - the route")
		reused += c.reused.Reused
		if t.Failed() {
			t.Fatalf("stopped at %s", base)
		}
	}
	if reused == 0 {
		t.Error("the golden inputs reused nothing: the incremental path is not exercised")
	}
}
