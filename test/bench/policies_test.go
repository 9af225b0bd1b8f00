package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/egctl/egctl/xds"
)

// BenchmarkPolicies compares the 10,000-route workload without policies and
// with each policy variant issue 16 budgets (≤ 1.1× the plain one): a
// BackendTrafficPolicy on every route (btp) or one on the Gateway
// (btp-gateway), a SecurityPolicy (JWT +
// authorization) per namespace, and a Gateway ClientTrafficPolicy with
// HTTP/1 options on every cluster. For each it times the egctl command in
// process in every output mode run.sh times (cli-yaml, cli-json,
// cli-bootstrap) and the compile stages (translate + xds) alone; with
// -stageprofile every variant and mode gets its own CPU and heap profiles:
//
//	go test -run '^$' -bench 'BenchmarkPolicies/.*/cli-yaml' -benchtime 3x ./test/bench/ -args -stageprofile=/tmp/prof
//	go tool pprof -top -diff_base /tmp/prof/10000-policies-plain-yaml.cpu.prof /tmp/prof/10000-policies-sp-yaml.cpu.prof
func BenchmarkPolicies(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	for _, v := range []struct {
		name  string
		input []byte
	}{
		{"plain", workload(b, n)},
		{"btp", btpWorkload(b, n, true)},
		{"btp-gateway", btpWorkload(b, n, false)},
		{"sp", append(workload(b, n), securityPolicies()...)},
		{"ctp", workloadWithCTP(b, n, true)},
	} {
		b.Run(v.name, func(b *testing.B) {
			file := filepath.Join(dir, v.name+".yaml")
			if err := os.WriteFile(file, v.input, 0o644); err != nil {
				b.Fatal(err)
			}
			s := run(b, file, v.input)
			for _, m := range cliModes {
				b.Run("cli-"+m.name, func(b *testing.B) {
					defer measure(b, n, "policies-"+v.name+"-"+m.name)()
					var out countingWriter
					for b.Loop() {
						out.n = 0
						execute(b, &out, file, m.args)
					}
					b.ReportMetric(float64(out.n), "out-bytes")
				})
			}
			b.Run("translate+xds", func(b *testing.B) {
				defer measure(b, n, "policies-"+v.name+"-compile")()
				for b.Loop() {
					cfg, _, err := toIR(s.set)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := xds.Translate(cfg); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
