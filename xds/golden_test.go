package xds

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// loadIR reads a testdata IR file (YAML with the Go field names of ir).
func loadIR(t testing.TB, path string) *ir.Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ir.Config{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg
}

// goldenOutputs renders every output of one IR file: per proxy, the config
// dump (with the dynamic bootstrap) and the static bootstrap.
func goldenOutputs(t testing.TB, cfg *ir.Config) map[string][]byte {
	t.Helper()
	res, err := Translate(cfg)
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	out := map[string][]byte{}
	for i, r := range res {
		suffix := ""
		if i > 0 {
			suffix = "-" + strings.ReplaceAll(r.Name, "/", "-")
		}
		dyn, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000})
		if err != nil {
			t.Fatalf("DynamicBootstrap: %v", err)
		}
		dump, err := ConfigDump(r, dyn, []string{"all"})
		if err != nil {
			t.Fatalf("ConfigDump: %v", err)
		}
		y, err := Marshal(dump, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		out["xds"+suffix+".yaml"] = y
		static, err := StaticBootstrap(r, BootstrapOptions{})
		if err != nil {
			t.Fatalf("StaticBootstrap: %v", err)
		}
		y, err = Marshal(static, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		out["static"+suffix+".yaml"] = y
		y, err = Marshal(dyn, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		out["dynamic"+suffix+".yaml"] = y
	}
	return out
}

func goldenCases(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.ir.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, in := range goldenCases(t) {
		base := strings.TrimSuffix(in, ".ir.yaml")
		t.Run(filepath.Base(base), func(t *testing.T) {
			for name, got := range goldenOutputs(t, loadIR(t, in)) {
				path := base + "." + name
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./xds/... -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the translation; run `go test ./xds/... -update` and review the diff", path)
				}
			}
		})
	}
}

// envoyBinary finds Envoy the way every package's tests do.
func envoyBinary(t *testing.T) string {
	t.Helper()
	return envoytest.Find(t)
}

// TestEnvoyValidatesGoldenBootstraps runs `envoy --mode validate` on every
// golden bootstrap: the static ones must load as they are.
func TestEnvoyValidatesGoldenBootstraps(t *testing.T) {
	bin := envoyBinary(t)
	files, _ := filepath.Glob("testdata/*.static*.yaml")
	dyn, _ := filepath.Glob("testdata/*.dynamic*.yaml")
	files = append(files, dyn...)
	if len(files) == 0 {
		t.Fatal("no golden bootstraps; run go test ./xds/... -update")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--mode", "validate", "-c", f,
				"--log-level", "warn", "--base-id", "0", "--use-dynamic-base-id")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("envoy --mode validate %s: %v\n%s", f, err, out)
			}
		})
	}
}
