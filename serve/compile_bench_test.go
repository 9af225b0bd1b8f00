package serve

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	egcompile "github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/translate"
)

// BenchmarkRecompile measures a serve's recompile after one route of the
// 10,000-route bench workload (split into files of 100 documents) changed
// (the value of a header it sets): "full" decodes every file and builds
// and marshals everything, as a serve did before it kept anything between
// compilations; "cached" decodes only the edited file; "incremental" also
// reuses what the last compilation marshalled where the IR did not change
// (incremental.go). Run with
//
//	go test ./serve -run '^$' -bench Recompile -benchtime 5x -count 4
func BenchmarkRecompile(b *testing.B) {
	dir := b.TempDir()
	var all bytes.Buffer
	if err := gen.Write(&all, 10000); err != nil {
		b.Fatal(err)
	}
	docs := strings.Split(all.String(), "\n---\n")
	var files []string
	for i := 0; i < len(docs); i += 100 {
		f := filepath.Join(dir, fmt.Sprintf("part-%03d.yaml", i/100))
		if err := os.WriteFile(f, []byte(strings.Join(docs[i:min(i+100, len(docs))], "\n---\n")), 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	// edit changes the header value the last route sets.
	last := files[len(files)-1]
	orig, err := os.ReadFile(last)
	if err != nil {
		b.Fatal(err)
	}
	const was = "value: route-9999\n"
	if !bytes.Contains(orig, []byte(was)) {
		b.Fatalf("%s lacks %q", last, was)
	}
	edit := func(i int) {
		now := bytes.Replace(orig, []byte(was), fmt.Appendf(nil, "value: route-9999-edit-%d\n", i), 1)
		if err := os.WriteFile(last, now, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	edits := 0
	o := CompileOptions{Files: []string{dir}, Settings: &egcompile.Settings{Translate: translate.Options{
		SkipStatus: true, EnvoyGatewayDefaults: true, ReadyPort: translate.DefaultReadyPort,
	}}}
	for _, bc := range []struct {
		name        string
		loads       *manifest.Cache
		incremental bool
	}{{"full", nil, false}, {"cached", manifest.NewCache(), false}, {"incremental", manifest.NewCache(), true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := compile(o, bc.loads, nil)
			if c.err != nil {
				b.Fatal(c.err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				edits++
				edit(edits)
				var prev *reuseState
				if bc.incremental {
					prev = c.reuse
				}
				b.StartTimer()
				c = compile(o, bc.loads, prev)
				if c.err != nil {
					b.Fatal(c.err)
				}
				if bc.loads != nil && c.decoded != 1 {
					b.Fatalf("decoded %d files after an edit of one", c.decoded)
				}
				b.ReportMetric(c.stages.Load.Seconds()*1e3, "load-ms")
				b.ReportMetric(c.stages.Translate.Seconds()*1e3, "translate-ms")
				b.ReportMetric(c.stages.Build.Seconds()*1e3, "build-ms")
				b.ReportMetric(c.stages.Version.Seconds()*1e3, "version-ms")
				b.ReportMetric(c.stages.Fingerprint.Seconds()*1e3, "fingerprint-ms")
				b.ReportMetric(float64(c.reused.Marshalled), "marshalled")
			}
		})
	}
}
