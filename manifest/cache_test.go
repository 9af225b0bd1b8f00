package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func route(name, host string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ` + name + `, namespace: apps}
spec:
  hostnames: [` + host + `]
  rules:
  - backendRefs: [{name: web, port: 80}]
`
}

// loadBoth loads paths with the cache and without it and requires the same
// Set, warnings and errors: the cache may only save time.
func loadBoth(t *testing.T, c *Cache, paths []string, opts Options) (string, error) {
	t.Helper()
	fresh, fw, ferr := Load(paths, opts)
	opts.Cache = c
	got, gw, gerr := Load(paths, opts)
	if !reflect.DeepEqual(got, fresh) || !reflect.DeepEqual(gw, fw) {
		t.Fatalf("cached Load differs from a fresh one:\n got %+v %v\nwant %+v %v", got.Origins, gw, fresh.Origins, fw)
	}
	if errString(gerr) != errString(ferr) {
		t.Fatalf("cached Load's error %q, a fresh one's %q", errString(gerr), errString(ferr))
	}
	return errString(gerr), gerr
}

func TestCacheDecodesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", route("a", "a.example"))
	write("b.yaml", route("b", "b.example")+"---\n"+route("b2", "b2.example"))
	write("c.yaml", route("c", "c.example"))
	c := NewCache()
	step := func(wantHits, wantMisses int, opts Options) string {
		t.Helper()
		h0, m0 := c.Stats()
		msg, _ := loadBoth(t, c, []string{dir}, opts)
		h, m := c.Stats()
		if h-h0 != wantHits || m-m0 != wantMisses {
			t.Fatalf("hits %d misses %d, want %d and %d", h-h0, m-m0, wantHits, wantMisses)
		}
		return msg
	}
	step(0, 3, Options{})
	step(3, 0, Options{})

	write("b.yaml", route("b", "b.example")+"---\n"+route("b2", "changed.example"))
	step(2, 1, Options{})
	step(3, 0, Options{})

	// Another default namespace decodes every file again.
	step(0, 3, Options{Namespace: "other"})
	step(0, 3, Options{})

	// A file with an error is never kept: it is decoded on every Load, and
	// the error's place among the files stays right.
	write("b.yaml", route("b", "b.example")+"---\nkind: [\n")
	step(2, 1, Options{})
	step(2, 1, Options{})

	// A duplicate in an unchanged file is reported where a fresh Load
	// reports it, after an earlier file went away.
	write("b.yaml", route("b", "b.example"))
	write("d.yaml", route("a", "a.example"))
	step(2, 2, Options{})
	if err := os.Remove(filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	write("0.yaml", route("c", "c.example"))
	if msg := step(3, 1, Options{}); !strings.Contains(msg, "duplicate object") {
		t.Fatalf("no duplicate reported: %q", msg)
	}
}
