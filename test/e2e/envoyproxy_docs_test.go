package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEnvoyProxyDocExamples compiles every example of docs/envoyproxy.md
// and has Envoy load the bootstrap, so the page cannot drift from what
// egctl does. The "base" example is complete; each other one replaces its
// EnvoyProxy (and, when it has one, its Gateway).
func TestEnvoyProxyDocExamples(t *testing.T) {
	envoyTest(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "envoyproxy.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n# example: ([a-z0-9-]+)\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	examples := map[string]string{}
	var names []string
	for _, b := range blocks {
		examples[b[1]] = b[2]
		names = append(names, b[1])
	}
	base, ok := examples["base"]
	if !ok || len(examples) < 8 {
		t.Fatalf("docs/envoyproxy.md: %d examples (%v), want base and the others", len(examples), names)
	}
	docs := strings.Split(base, "\n---\n")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := base
			if name != "base" {
				ex := examples[name]
				var kept []string
				kindOf := regexp.MustCompile(`(?m)^kind: (\w+)$`)
				replaces := map[string]bool{"EnvoyProxy": true}
				for _, d := range strings.Split(ex, "\n---\n") {
					if m := kindOf.FindStringSubmatch(d); m != nil {
						replaces[m[1]] = true
					}
				}
				for _, d := range docs {
					if m := kindOf.FindStringSubmatch(d); m != nil && replaces[m[1]] && m[1] != "Secret" {
						continue
					}
					kept = append(kept, d)
				}
				in = strings.Join(append(kept, ex), "\n---\n")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(in), 0o644); err != nil {
				t.Fatal(err)
			}
			res := RunEgctl(t, "x", "translate", "-f", dir, "--to", "bootstrap", "--stats-port", strconv.Itoa(FreePort(t)))
			if res.Code != 0 {
				t.Fatalf("egctl exit %d\n%s\n--- input ---\n%s", res.Code, res, in)
			}
			boot := filepath.Join(dir, "bootstrap.yaml")
			if err := os.WriteFile(boot, []byte(res.Stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			ValidateBootstrap(t, boot)
			// The page names the shared cluster both rules send to.
			if name == "merge-backends" && (strings.Count(res.Stdout, "cluster: service/default/app/3000/http") != 2 || strings.Contains(res.Stdout, "cluster: httproute/") ||
				!strings.Contains(res.Stdout, "name: service/default/app/3000/http")) {
				t.Errorf("both rules should send to service/default/app/3000/http and no rule have a cluster of its own:\n%s", res.Stdout)
			}
			// The page quotes these warnings.
			if name == "merged" {
				for _, w := range []string{"start Envoy with: --concurrency 2 --drain-time-s 30 --drain-strategy immediate",
					"spec.provider.kubernetes (envoyDeployment) configures the Kubernetes objects Envoy Gateway deploys"} {
					if !strings.Contains(res.Stderr, w) || !strings.Contains(string(raw), w) {
						t.Errorf("warning %q is not both printed and documented:\n%s", w, res.Stderr)
					}
				}
			}
		})
	}
}
