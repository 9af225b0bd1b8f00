package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityPolicyDocExamples compiles every example of
// docs/securitypolicy.md (after its common part) with egctl and has Envoy
// validate the bootstrap: the page's examples must run as written.
func TestSecurityPolicyDocExamples(t *testing.T) {
	requireEnvoy(t)
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "securitypolicy.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- (example-base|example: [a-z0-9-]+) -->\n```yaml\n(.*?)```")
	var base string
	examples := map[string]string{}
	for _, m := range block.FindAllStringSubmatch(string(raw), -1) {
		if m[1] == "example-base" {
			base = m[2]
			continue
		}
		examples[strings.TrimPrefix(m[1], "example: ")] = m[2]
	}
	if base == "" || len(examples) < 8 {
		t.Fatalf("found the common part: %v, and %d examples; want both", base != "", len(examples))
	}
	for name, ex := range examples {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "example.yaml"), []byte(base+"---\n"+ex), 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			r := RunEgctl(t, "x", "translate", "-f", dir, "--to", "bootstrap", "--output-dir", out)
			if r.Code != 0 {
				t.Fatalf("%s", r)
			}
			files, err := filepath.Glob(filepath.Join(out, "*"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no bootstrap written (%v)", err)
			}
			for _, f := range files {
				ValidateBootstrap(t, f)
			}
		})
	}
}
