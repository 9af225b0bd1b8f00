package bench

import (
	"bytes"
	"testing"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/xds"
)

// securityPolicies is gen.WriteSecurityPolicies' output.
func securityPolicies() []byte {
	var b bytes.Buffer
	if err := gen.WriteSecurityPolicies(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// BenchmarkSecurityPolicy compares the pipeline on the 10,000-route
// workload without and with a SecurityPolicy per namespace: the whole
// chain (load → translate → xds → config dump → YAML) and the CLI's
// bootstrap output.
//
//	go test -run '^$' -bench BenchmarkSecurityPolicy -benchtime 3x ./test/bench/
func BenchmarkSecurityPolicy(b *testing.B) {
	const n = 10000
	base := workload(b, n)
	for _, c := range []struct {
		name  string
		input []byte
	}{
		{"none", base},
		{"jwt+authz", append(append([]byte(nil), base...), securityPolicies()...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := run(b, "routes.yaml", c.input)
			b.ReportMetric(float64(len(s.out)), "yaml-bytes")
			b.Run("all", func(b *testing.B) {
				defer measure(b, n, "security-"+c.name)()
				for b.Loop() {
					run(b, "routes.yaml", c.input)
				}
			})
			b.Run("translate", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := toIR(s.set); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("xds", func(b *testing.B) {
				for b.Loop() {
					if _, err := xds.Translate(s.ir); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
