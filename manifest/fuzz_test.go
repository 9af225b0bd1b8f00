package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadBytes checks that no input makes the loader panic, and that a
// failed load always explains itself.
func FuzzLoadBytes(f *testing.F) {
	for _, dir := range []string{"errors", "misc", "convert", "tree", "tree/routes", "tree/routes/nested"} {
		files, _ := filepath.Glob(td(dir, "*"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(filepath.Base(p), data)
			}
		}
	}
	f.Add("x.json", []byte(`{"apiVersion":"v1","kind":"List","items":[{"kind":"Secret"}]}`))
	f.Add("x.yaml", []byte("a: &a [*a]\n"))
	f.Add("x.yaml", []byte("<<: {a: 1}\n---\n---\n...\n%TAG ! x\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		s, _, err := LoadBytes(name, data, Options{Namespace: "fuzz"})
		if s == nil {
			t.Fatal("nil Set")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
