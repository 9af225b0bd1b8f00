package translatecmd_test

import (
	"os"
	"testing"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/rootcmd"
)

type discard struct{ n int64 }

func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// BenchmarkTranslateFile runs `egctl x translate -f $EGCTL_BENCH_INPUT --to
// xds -t all -o $EGCTL_BENCH_FORMAT` in process, for profiling the whole
// command on a workload from test/bench/cmd/genroutes:
//
//	go run ./test/bench/cmd/genroutes -routes 10000 > /tmp/r10k.yaml
//	EGCTL_BENCH_INPUT=/tmp/r10k.yaml go test -run '^$' -bench TranslateFile -benchtime 1x -cpuprofile /tmp/cpu.prof ./cli/translatecmd
func BenchmarkTranslateFile(b *testing.B) {
	in := os.Getenv("EGCTL_BENCH_INPUT")
	if in == "" {
		b.Skip("set EGCTL_BENCH_INPUT to a manifest file (see test/bench/cmd/genroutes)")
	}
	format := os.Getenv("EGCTL_BENCH_FORMAT")
	if format == "" {
		format = "yaml"
	}
	b.ReportAllocs()
	var out discard
	for b.Loop() {
		out.n = 0
		var errOut discard
		ios := &cli.IOStreams{In: nil, Out: &out, ErrOut: &errOut}
		if code := rootcmd.Execute(ios, []string{"x", "translate", "-f", in, "--to", "xds", "-t", "all", "-o", format}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(out.n), "out-bytes")
}
