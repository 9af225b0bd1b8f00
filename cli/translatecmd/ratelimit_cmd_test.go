package translatecmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRateLimitFlags(t *testing.T) {
	in := filepath.Join(goldenDir, "in", "ratelimit-global.yaml")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad service", []string{"--ratelimit-service", "ratelimit"}, `--ratelimit-service "ratelimit"`},
		{"service without port", []string{"--ratelimit-service", "ratelimit:0"}, "port from 1 to 65535"},
		{"negative timeout", []string{"--ratelimit-timeout", "-1s"}, "must not be negative"},
		{"bootstrap and ratelimit to stdout", []string{"--to", "bootstrap,ratelimit"}, "cannot be combined"},
		{"output-dir with xds", []string{"--to", "xds,ratelimit", "--output-dir", t.TempDir()}, "--output-dir goes with --to bootstrap and/or ratelimit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runEgctl(append([]string{"x", "translate", "-f", in}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Fatalf("exit %d, stderr %q, stdout %d bytes; want exit 2 mentioning %q", code, stderr, len(stdout), tt.want)
			}
		})
	}

	t.Run("service, timeout, fail closed and dns domain", func(t *testing.T) {
		out, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "xds", "--ratelimit-service", "10.1.2.3:9000",
			"--ratelimit-timeout", "150ms", "--ratelimit-fail-closed")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{"address: 10.1.2.3", "portValue: 9000", "failureModeDeny: true", "timeout: 0.150s"} {
			if !strings.Contains(out, want) {
				t.Errorf("xds output lacks %q", want)
			}
		}
		out, _, _ = runEgctl("x", "translate", "-f", in, "--to", "xds", "-t", "cluster", "--dns-domain", "corp.example")
		if !strings.Contains(out, "address: envoy-ratelimit.envoy-gateway-system.svc.corp.example") {
			t.Errorf("--dns-domain does not name the default service")
		}
	})

	t.Run("output-dir", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "ratelimit", "config")
		if err := os.MkdirAll(cfg, 0o755); err != nil {
			t.Fatal(err)
		}
		stale := filepath.Join(cfg, "default_gone.yaml")
		if err := os.WriteFile(stale, []byte("domain: default/gone\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "bootstrap,ratelimit", "--output-dir", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Errorf("stale domain file kept: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "default_eg.yaml")); err != nil {
			t.Errorf("no bootstrap: %v", err)
		}
		golden, err := os.ReadFile(filepath.Join(goldenDir, "out", "ratelimit-global.ratelimit.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(cfg)
		if len(ents) != 5 {
			t.Fatalf("want 5 domain files, got %d", len(ents))
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(cfg, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			var domain string
			for _, l := range strings.Split(string(b), "\n") {
				if d, ok := strings.CutPrefix(l, "domain: "); ok {
					domain = d
				}
			}
			if !strings.Contains(string(golden), "domain: "+domain) || strings.ReplaceAll(domain, "/", "_")+".yaml" != e.Name() {
				t.Errorf("%s: domain %q not in the golden --to ratelimit output or not its file name", e.Name(), domain)
			}
		}
	})
}
