package serve

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/test/bench/gen"
)

// BenchmarkRecompile measures a serve's recompile after one file of the
// 10,000-route bench workload (split into files of 100 documents) changed:
// "full" decodes every file as a serve without the load cache did,
// "cached" only the edited one. Run with
//
//	go test ./serve -run '^$' -bench Recompile -benchtime 5x
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
	// edit appends a comment to the last file: new bytes, same objects.
	last := files[len(files)-1]
	orig, err := os.ReadFile(last)
	if err != nil {
		b.Fatal(err)
	}
	edit := func(i int) {
		if err := os.WriteFile(last, append(append([]byte{}, orig...), fmt.Sprintf("\n# edit %d\n", i)...), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	edits := 0
	o := CompileOptions{Files: []string{dir}, EnvoyGatewayDefaults: true}
	for _, bc := range []struct {
		name  string
		loads *manifest.Cache
	}{{"full", nil}, {"cached", manifest.NewCache()}} {
		b.Run(bc.name, func(b *testing.B) {
			if c := compile(o, bc.loads); c.err != nil {
				b.Fatal(c.err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				edits++
				edit(edits)
				b.StartTimer()
				c := compile(o, bc.loads)
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
			}
		})
	}
}
