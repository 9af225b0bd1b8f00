package translatecmd_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAuthDocExamples compiles the examples of the SecurityPolicy oidc and
// extAuth pages. A fenced block after "<!-- example: base -->" is the
// base every other example is added to; "<!-- example -->" marks an
// example that must compile cleanly (exit 0); "<!-- example: file NAME -->"
// a file the next examples may use; "<!-- example: discovery NAME -->" an
// example compiled with --oidc-discovery NAME.
func TestAuthDocExamples(t *testing.T) {
	marker := regexp.MustCompile("(?s)<!-- example(?:: ([^>]*?))? -->\\s*```[a-z]*\\n(.*?)```")
	for _, doc := range []string{"securitypolicy-oidc.md", "securitypolicy-extauth.md"} {
		t.Run(doc, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			base := ""
			n := 0
			for _, m := range marker.FindAllStringSubmatch(string(b), -1) {
				kind, body := strings.Fields(m[1]), m[2]
				if len(kind) > 0 && kind[0] == "base" {
					base = body
					continue
				}
				if len(kind) > 0 && kind[0] == "file" {
					if err := os.WriteFile(filepath.Join(dir, kind[1]), []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if base == "" {
					t.Fatal("an example before the base")
				}
				n++
				in := filepath.Join(dir, "in.yaml")
				if err := os.WriteFile(in, []byte(base+"---\n"+body), 0o644); err != nil {
					t.Fatal(err)
				}
				args := []string{"x", "translate", "-f", in, "--to", "gateway-api,xds"}
				if len(kind) > 0 && kind[0] == "discovery" {
					args = append(args, "--oidc-discovery", filepath.Join(dir, kind[1]))
				}
				_, stderr, code := runEgctl(args...)
				if code != 0 || stderr != "" {
					t.Errorf("example %d: exit %d\n%s\n%s", n, code, stderr, body)
				}
			}
			if n == 0 {
				t.Fatal("no example found")
			}
		})
	}
}
