package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// docExample is a "<!-- example… -->" marker and the ```yaml block after it.
var docExample = regexp.MustCompile("(?s)<!-- example(?:: ([a-z0-9-]+)| base) -->\n```yaml\n(.*?)```")

// TestBackendTrafficDocs compiles every example of
// docs/backendtrafficpolicy.md (each added to the page's base) with egctl
// and has Envoy load the bootstrap: the page's examples are ones that run.
func TestBackendTrafficDocs(t *testing.T) {
	envoyTest(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "backendtrafficpolicy.md"))
	if err != nil {
		t.Fatal(err)
	}
	var base string
	examples := map[string]string{}
	var order []string
	for _, m := range docExample.FindAllStringSubmatch(string(raw), -1) {
		if m[1] == "" {
			base = m[2]
			continue
		}
		examples[m[1]] = m[2]
		order = append(order, m[1])
	}
	if base == "" || len(order) < 7 {
		t.Fatalf("found the base: %v and %d examples; the page's markers changed", base != "", len(order))
	}
	for _, name := range order {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "manifests")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "example.yaml"), []byte(base+"---\n"+examples[name]), 0o644); err != nil {
				t.Fatal(err)
			}
			res, bootstrap := Translate(t, dir, "127.0.0.1:19000", "")
			if res.Code != 0 {
				t.Fatalf("egctl exit %d:\n%s", res.Code, res)
			}
			ValidateBootstrap(t, bootstrap)
		})
	}
}
