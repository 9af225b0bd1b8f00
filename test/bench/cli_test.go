package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/rootcmd"
)

// cliModes are the egctl invocations run.sh times, by the name it prints,
// and the status output (--to gateway-api).
var cliModes = []struct {
	name string
	args []string
}{
	{"yaml", []string{"--to", "xds", "-t", "all", "-o", "yaml"}},
	{"json", []string{"--to", "xds", "-t", "all", "-o", "json"}},
	{"bootstrap", []string{"--to", "bootstrap"}},
	{"status", []string{"--to", "gateway-api"}},
}

// countingWriter counts what egctl prints without keeping it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// execute runs `egctl x translate -f file args...` in this process,
// printing to out, and fails tb unless egctl exits 0.
func execute(tb testing.TB, out io.Writer, file string, args []string) {
	tb.Helper()
	var errOut bytes.Buffer
	argv := append([]string{"x", "translate", "-f", file}, args...)
	if code := rootcmd.Execute(&cli.IOStreams{In: bytes.NewReader(nil), Out: out, ErrOut: &errOut}, argv); code != 0 {
		tb.Fatalf("egctl %v: exit %d\n%s", argv, code, tailBytes(errOut.Bytes(), 2000))
	}
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func writeWorkload(tb testing.TB, routes int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("routes-%d.yaml", routes))
	if err := os.WriteFile(path, workload(tb, routes), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkCLI runs the egctl command itself (cobra, file reading, the
// output document and its conversion to YAML or JSON), in process so it can
// be profiled; BenchmarkPipeline times the library stages underneath.
//
//	go test -run '^$' -bench 'BenchmarkCLI/10000/yaml' -benchtime 1x ./test/bench/ -args -stageprofile=/tmp/prof
func BenchmarkCLI(b *testing.B) {
	for _, n := range pipelineSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			file := writeWorkload(b, n)
			for _, m := range cliModes {
				b.Run(m.name, func(b *testing.B) {
					defer measure(b, n, "cli-"+m.name)()
					var out countingWriter
					for b.Loop() {
						out.n = 0
						execute(b, &out, file, m.args)
					}
					b.ReportMetric(float64(out.n), "out-bytes")
				})
			}
		})
	}
}

// TestCLIWorkload checks that egctl accepts the workload (exit 0) in every
// mode run.sh times, and that every route reaches the output.
func TestCLIWorkload(t *testing.T) {
	const n = 5
	file := writeWorkload(t, n)
	for _, m := range cliModes {
		var out bytes.Buffer
		execute(t, &out, file, m.args)
		for i := 0; i < n; i++ {
			if host := fmt.Sprintf("route-%d.example.com", i); !bytes.Contains(out.Bytes(), []byte(host)) {
				t.Errorf("egctl x translate %v: output lacks %s", m.args, host)
			}
		}
	}
}
