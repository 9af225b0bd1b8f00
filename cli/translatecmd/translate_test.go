package translatecmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

func TestUsageErrors(t *testing.T) {
	in := filepath.Join(goldenDir, "in", "quickstart.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"x", "translate"}, "no input: give manifests with -f"},
		{"bad --to", []string{"x", "translate", "-f", in, "--to", "envoy"}, `--to "envoy" is not one of gateway-api, xds, ir, bootstrap`},
		{"bootstrap combined", []string{"x", "translate", "-f", in, "--to", "bootstrap,xds"}, "cannot be combined"},
		{"bad --type", []string{"x", "translate", "-f", in, "-t", "listeners"}, `--type "listeners" is not one of`},
		{"bad --output", []string{"x", "translate", "-f", in, "-o", "toml"}, `--output "toml" is not yaml or json`},
		{"bad --from", []string{"x", "translate", "-f", in, "--from", "xds"}, `--from "xds" is not supported`},
		{"bad --gateway", []string{"x", "translate", "-f", in, "--gateway", "a/b/c"}, "want namespace/name"},
		{"unknown --gateway", []string{"x", "translate", "-f", in, "--gateway", "eg"}, "no accepted Gateway of that name"},
		{"bad --stats-port", []string{"x", "translate", "-f", in, "--stats-port", "0"}, "--stats-port 0"},
		{"output-dir without bootstrap", []string{"x", "translate", "-f", in, "--output-dir", "x"}, "--output-dir goes with --to bootstrap"},
		{"bad admin address", []string{"x", "translate", "-f", in, "--to", "bootstrap", "--admin-address", "localhost"}, "--admin-address"},
		{"unknown flag", []string{"x", "translate", "-f", in, "--frobnicate"}, "unknown flag: --frobnicate"},
		{"missing file", []string{"x", "translate", "-f", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{"unknown gateway", []string{"x", "translate", "-f", in, "--gateway", "default/nope"}, "--gateway default/nope: no accepted Gateway of that name in the input (have: default/eg)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runEgctl(tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("stderr %q does not mention %q", stderr, tt.want)
			}
			if stdout != "" {
				t.Fatalf("usage error printed output:\n%s", stdout)
			}
		})
	}
}

func TestExperimentalAlias(t *testing.T) {
	in := filepath.Join(goldenDir, "in", "quickstart.yaml")
	a, _, ca := runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "route")
	b, _, cb := runEgctl("experimental", "translate", "-f", in, "--to", "xds", "-t", "route")
	if ca != 0 || cb != 0 || a != b || a == "" {
		t.Fatalf("x and experimental differ or fail: exit %d/%d", ca, cb)
	}
}

// twoGateways writes an input with two Gateways and returns its path.
func twoGateways(t *testing.T) string {
	t.Helper()
	quick, err := os.ReadFile(filepath.Join(goldenDir, "in", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	second := `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: internal
  namespace: default
spec:
  gatewayClassName: eg
  listeners:
    - name: http
      protocol: HTTP
      port: 8081
`
	p := filepath.Join(t.TempDir(), "two.yaml")
	if err := os.WriteFile(p, append(quick, second...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBootstrapSeveralGateways(t *testing.T) {
	in := twoGateways(t)

	_, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "bootstrap")
	if code != 2 || !strings.Contains(stderr, "the input has 2 Gateways (default/eg, default/internal): pick one with --gateway") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}

	stdout, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "bootstrap", "--gateway", "default/internal", "--lean")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var boot struct {
		StaticResources struct {
			Listeners []struct {
				Name string `json:"name"`
			} `json:"listeners"`
		} `json:"staticResources"`
	}
	if err := yaml.Unmarshal([]byte(stdout), &boot); err != nil {
		t.Fatal(err)
	}
	if len(boot.StaticResources.Listeners) != 1 || boot.StaticResources.Listeners[0].Name != "default/internal/http" {
		t.Fatalf("listeners = %+v, want only default/internal/http", boot.StaticResources.Listeners)
	}

	dir := t.TempDir()
	_, stderr, code = runEgctl("x", "translate", "-f", in, "--to", "bootstrap", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, name := range []string{"default_eg.yaml", "default_internal.yaml"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600 (bootstraps carry private keys)", name, fi.Mode().Perm())
		}
	}
}

func TestProblemsExitOne(t *testing.T) {
	in := filepath.Join(goldenDir, "in", "invalid.yaml")
	stdout, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "route")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if stdout == "" {
		t.Fatal("exit 1 must still print the output")
	}
	// Each problem line names where the object is, what it is and why.
	for _, want := range []string{
		"invalid.yaml:",
		"HTTPRoute default/missing-backend: ResolvedRefs BackendNotFound:",
		"HTTPRoute default/not-permitted: ResolvedRefs RefNotPermitted:",
		"HTTPRoute default/wrong-hostname: Accepted NoMatchingListenerHostname:",
		"HTTPRoute default/bad-kind: ResolvedRefs InvalidKind:",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
}

func TestShowSecrets(t *testing.T) {
	in := filepath.Join(goldenDir, "in", "https.yaml")
	key := testKeyBase64(t, in)

	hidden, _, _ := runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "secret")
	if strings.Contains(hidden, key) || !strings.Contains(hidden, "[redacted]") {
		t.Fatalf("secret output without --show-secrets must be redacted:\n%s", hidden)
	}
	shown, _, _ := runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "secret", "--show-secrets")
	if !strings.Contains(shown, key) {
		t.Fatalf("--show-secrets output has no key:\n%s", shown)
	}
	ir, _, _ := runEgctl("x", "translate", "-f", in, "--to", "ir")
	if strings.Contains(ir, key) || !strings.Contains(ir, "[redacted]") {
		t.Fatalf("ir output leaks the key:\n%s", ir)
	}
	boot, _, _ := runEgctl("x", "translate", "-f", in, "--to", "bootstrap")
	if !strings.Contains(boot, key) {
		t.Fatal("a bootstrap must carry the key Envoy serves with")
	}
}

// testKeyBase64 returns the tls.key of the Secret in the input, base64 as
// written there: protojson prints bytes fields in the same encoding.
func testKeyBase64(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "tls.key: "); ok {
			return v
		}
	}
	t.Fatalf("%s has no tls.key", path)
	return ""
}

// TestStatsPortDefaults: the port translate checks Gateway listeners
// against is the one the bootstrap's stats listener binds.
func TestStatsPortDefaults(t *testing.T) {
	if translate.DefaultStatsPort != xds.DefaultStatsPort {
		t.Fatalf("translate.DefaultStatsPort %d, xds.DefaultStatsPort %d", translate.DefaultStatsPort, xds.DefaultStatsPort)
	}
}
