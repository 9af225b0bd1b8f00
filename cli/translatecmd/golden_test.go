package translatecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/rootcmd"
	"github.com/egctl/egctl/internal/envoytest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/translate/out")

const goldenDir = "../../testdata/translate"

// variants are the outputs every golden input is compiled to; the name is
// the golden file's middle part: out/<input>.<variant>.
var variants = []struct {
	name string
	args []string
}{
	{"gateway-api.yaml", []string{"--to", "gateway-api"}},
	{"xds.yaml", []string{"--to", "xds", "-t", "all"}},
	// Indented, so that a change reads as a diff; the compact default is
	// checked against it below.
	{"route.json", []string{"--to", "xds", "-t", "route", "-o", "json", "--pretty"}},
	{"ir.yaml", []string{"--to", "ir"}},
	{"bootstrap.yaml", []string{"--to", "bootstrap"}},
}

func goldenInputs(t *testing.T) []string {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join(goldenDir, "in", "*.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs in %s/in: %v", goldenDir, err)
	}
	return ins
}

// run runs egctl in-process and returns stdout, stderr and the exit code.
func runEgctl(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	ios := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := rootcmd.Execute(ios, args)
	return out.String(), errOut.String(), code
}

// TestGolden compiles every input to every output variant and compares with
// the files in out/. Regenerate with `go test ./cli/translatecmd -update`
// and read the diff.
func TestGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		base := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(base, func(t *testing.T) {
			for _, v := range variants {
				args := append([]string{"x", "translate", "-f", in}, v.args...)
				stdout, stderr, code := runEgctl(args...)
				if code == 2 {
					t.Fatalf("%s: exit 2: %s", v.name, stderr)
				}
				golden(t, filepath.Join(goldenDir, "out", base+"."+v.name), stdout)
				if v.name == "route.json" {
					compact, _, _ := runEgctl(append([]string{"x", "translate", "-f", in}, v.args[:len(v.args)-1]...)...)
					var want bytes.Buffer
					if err := json.Compact(&want, []byte(stdout)); err != nil {
						t.Fatalf("--pretty printed invalid JSON: %v", err)
					}
					if want.WriteByte('\n'); compact != want.String() {
						t.Errorf("-o json is not the compact form of -o json --pretty:\n%s", firstDiff(want.String(), compact))
					}
				}
				// Problems are part of the contract (CI gates read them), so
				// they are golden too. Only one variant needs to keep them.
				if v.name == "gateway-api.yaml" {
					golden(t, filepath.Join(goldenDir, "out", base+".stderr"), fmt.Sprintf("exit %d\n%s", code, stderr))
				}
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the output (run `go test ./cli/translatecmd -update` and read the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows a little context around the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q", i+1, w, g)
		}
	}
	return "(no line differs; lengths differ)"
}

// TestGoldenDeterministic compiles each input twice: same bytes.
func TestGoldenDeterministic(t *testing.T) {
	for _, in := range goldenInputs(t) {
		a, _, _ := runEgctl("x", "translate", "-f", in, "--to", "gateway-api,xds,ir")
		b, _, _ := runEgctl("x", "translate", "-f", in, "--to", "gateway-api,xds,ir")
		if a != b {
			t.Errorf("%s: two runs differ:\n%s", in, firstDiff(a, b))
		}
	}
}

// TestGoldenBootstrapsValidate loads every golden bootstrap in the real
// Envoy with --mode validate: the output must be something Envoy runs.
func TestGoldenBootstrapsValidate(t *testing.T) {
	envoy := envoytest.Find(t)
	for _, in := range goldenInputs(t) {
		base := strings.TrimSuffix(filepath.Base(in), ".yaml")
		path := filepath.Join(goldenDir, "out", base+".bootstrap.yaml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue // the input compiles to no Gateway; its stderr golden says why
		}
		t.Run(base, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", path, "-l", "error", "--disable-hot-restart")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("envoy --mode validate %s: %v\n%s", path, err, out)
			}
		})
	}
}
