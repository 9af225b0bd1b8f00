package translatecmd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
)

// TestBackendAndFilterDocsExamples compiles every complete example (one
// with its GatewayClass) of docs/backend.md and docs/httproutefilter.md
// into a bootstrap: egctl must accept every object (exit 0) and Envoy must
// load the result, so the examples run as written.
func TestBackendAndFilterDocsExamples(t *testing.T) {
	envoy := envoytest.Find(t)
	for _, doc := range []struct {
		file string
		min  int // complete examples the page has at least
		want []string
	}{
		{"backend.md", 3, []string{"priority: 1", "outlierDetection", "autoConfig"}},
		{"httproutefilter.md", 4, []string{"regexRewrite", "bodyFormat", "credential_injector", "cookies"}},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "docs", doc.file))
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		n := 0
		for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
			if !strings.Contains(b[1], "kind: GatewayClass") {
				continue // a fragment, not an example
			}
			n++
			dir := t.TempDir()
			in := filepath.Join(dir, "in.yaml")
			if err := os.WriteFile(in, []byte(b[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			boot, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "bootstrap")
			if code != 0 {
				t.Fatalf("%s example %d: exit %d:\n%s", doc.file, n, code, stderr)
			}
			all.WriteString(boot)
			path := filepath.Join(dir, "envoy.yaml")
			if err := os.WriteFile(path, []byte(boot), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", path, "-l", "error", "--disable-hot-restart").CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("%s example %d: envoy --mode validate: %v\n%s", doc.file, n, err, out)
			}
		}
		if n < doc.min {
			t.Fatalf("%s: %d complete examples, want at least %d", doc.file, n, doc.min)
		}
		for _, w := range doc.want {
			if !strings.Contains(all.String(), w) {
				t.Errorf("%s: no example produces %q", doc.file, w)
			}
		}
	}
}
