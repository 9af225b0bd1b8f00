package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egctl/egctl/internal/envoytest"
)

// TestExtensionDocsExamples compiles every YAML example of the pages on
// EnvoyExtensionPolicy and EnvoyPatchPolicy: egctl must accept each one
// (exit 0) and Envoy must load the bootstrap it prints.
func TestExtensionDocsExamples(t *testing.T) {
	envoyTest(t)
	for _, page := range []string{"envoyextensionpolicy.md", "envoypatchpolicy.md"} {
		raw, err := os.ReadFile(filepath.Join(envoytest.RepoRoot(), "docs", page))
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlocks(string(raw))
		if len(blocks) == 0 {
			t.Fatalf("%s has no YAML example", page)
		}
		for i, b := range blocks {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "example.yaml"), []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
			res, bootstrap := Translate(t, dir, "127.0.0.1:19000", "")
			if res.Code != 0 {
				t.Errorf("%s example %d: %s\n%s", page, i+1, res, b)
				continue
			}
			ValidateBootstrap(t, bootstrap)
		}
	}
}

// yamlBlocks returns the ```yaml fenced blocks of a Markdown page.
func yamlBlocks(md string) []string {
	var out []string
	for {
		i := strings.Index(md, "```yaml\n")
		if i < 0 {
			return out
		}
		md = md[i+len("```yaml\n"):]
		j := strings.Index(md, "```")
		if j < 0 {
			return out
		}
		out = append(out, md[:j])
		md = md[j+3:]
	}
}
