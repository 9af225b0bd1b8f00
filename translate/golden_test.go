package translate

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.out.yaml from the current output")

// TestGolden translates testdata/golden/NAME.in.yaml and compares the IR,
// statuses and problems with NAME.out.yaml. Regenerate with -update and
// read the diff.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/golden/*.in.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			res, err := Translate(loadSet(t, filepath.Join("golden", filepath.Base(in))), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, p := range res.Problems {
				problems = append(problems, p.String())
			}
			got, err := yaml.Marshal(map[string]any{
				"ir":             res.IR,
				"gatewayClasses": res.Status.GatewayClasses,
				"gateways":       res.Status.Gateways,
				"httpRoutes":     res.Status.HTTPRoutes,
				"backends":       res.Status.Backends,
				"problems":       problems,
			})
			if err != nil {
				t.Fatal(err)
			}
			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the current output; run go test ./translate -run TestGolden -update and review the diff", out)
			}
		})
	}
}
