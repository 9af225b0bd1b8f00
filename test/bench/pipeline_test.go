// Package bench measures egctl's whole compile pipeline on the workload of
// package gen (see docs/performance.md for how to run it and what it found).
// Benchmarks report; they never assert a time.
package bench

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// pipelineSizes are the route counts BenchmarkPipeline runs, as in the issue.
var pipelineSizes = []int{1000, 10000}

// stages holds every intermediate product of one run of the pipeline, so
// each stage can be timed on its own input.
type stages struct {
	input []byte
	set   *resource.Set
	ir    *ir.Config
	xds   []*xds.Resources
	dumps []*adminv3.ConfigDump
	out   []byte
}

func workload(tb testing.TB, routes int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, routes); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func load(name string, data []byte) (*resource.Set, error) {
	set, _, err := manifest.LoadBytes(name, data, manifest.Options{})
	return set, err
}

func toIR(set *resource.Set) (*ir.Config, *translate.Result, error) {
	res, err := translate.Translate(set, translate.Options{})
	if err != nil {
		return nil, nil, err
	}
	return res.IR, res, nil
}

// dump builds the config dump of every proxy, with the bootstrap section, as
// `egctl x translate --to xds -t all` does.
func dump(rs []*xds.Resources) ([]*adminv3.ConfigDump, error) {
	out := make([]*adminv3.ConfigDump, 0, len(rs))
	for _, r := range rs {
		boot, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{
			NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000,
		})
		if err != nil {
			return nil, err
		}
		d, err := xds.ConfigDump(r, boot, []string{xds.DumpAll})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func marshal(dumps []*adminv3.ConfigDump, format string) ([]byte, error) {
	var out []byte
	for _, d := range dumps {
		b, err := xds.Marshal(d, format)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// run runs the whole pipeline once, failing tb on any error.
func run(tb testing.TB, name string, input []byte) *stages {
	tb.Helper()
	s := &stages{input: input}
	var err error
	if s.set, err = load(name, input); err != nil {
		tb.Fatalf("manifest.LoadBytes: %v", err)
	}
	var res *translate.Result
	if s.ir, res, err = toIR(s.set); err != nil {
		tb.Fatalf("translate.Translate: %v", err)
	}
	if len(res.Problems) != 0 {
		tb.Fatalf("translate.Translate: %d problems, first: %s", len(res.Problems), res.Problems[0])
	}
	if s.xds, err = xds.Translate(s.ir); err != nil {
		tb.Fatalf("xds.Translate: %v", err)
	}
	if s.dumps, err = dump(s.xds); err != nil {
		tb.Fatalf("xds.ConfigDump: %v", err)
	}
	if s.out, err = marshal(s.dumps, "yaml"); err != nil {
		tb.Fatalf("xds.Marshal: %v", err)
	}
	return s
}

// BenchmarkPipeline times each stage on its own (load, translate, xds,
// dump, yaml, json) and the whole chain (all) for every size. Profile one
// stage with, for example (see profile_test.go for why not -cpuprofile):
//
//	go test -run '^$' -bench 'BenchmarkPipeline/10000/translate$' -benchtime 1x ./test/bench/ -args -stageprofile=/tmp/prof
func BenchmarkPipeline(b *testing.B) {
	for _, n := range pipelineSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			name := fmt.Sprintf("routes-%d.yaml", n)
			s := run(b, name, workload(b, n))
			b.ReportMetric(float64(len(s.input)), "input-bytes")
			b.ReportMetric(float64(len(s.out)), "yaml-bytes")
			b.Run("load", func(b *testing.B) {
				defer measure(b, n, "load")()
				for b.Loop() {
					if _, err := load(name, s.input); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("translate", func(b *testing.B) {
				defer measure(b, n, "translate")()
				for b.Loop() {
					if _, _, err := toIR(s.set); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("xds", func(b *testing.B) {
				defer measure(b, n, "xds")()
				for b.Loop() {
					if _, err := xds.Translate(s.ir); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("dump", func(b *testing.B) {
				defer measure(b, n, "dump")()
				for b.Loop() {
					if _, err := dump(s.xds); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, format := range []string{"yaml", "json"} {
				b.Run(format, func(b *testing.B) {
					defer measure(b, n, format)()
					for b.Loop() {
						if _, err := marshal(s.dumps, format); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("all", func(b *testing.B) {
				defer measure(b, n, "all")()
				for b.Loop() {
					run(b, name, s.input)
				}
			})
		})
	}
}

// TestPipelineWorkload checks that the benchmark measures real work: the
// generated routes are all accepted and every one of them reaches Envoy's
// configuration (a benchmark over rejected routes would look fast and mean
// nothing), and the output is the same bytes every time.
func TestPipelineWorkload(t *testing.T) {
	const n = 25
	s := run(t, "routes.yaml", workload(t, n))
	if len(s.xds) != 1 || s.xds[0].Name != "default/eg" {
		t.Fatalf("want one proxy default/eg, got %d", len(s.xds))
	}
	r := s.xds[0]
	if len(r.Listeners) != 1 || len(r.Routes) != 1 {
		t.Fatalf("want 1 listener and 1 route configuration, got %d and %d", len(r.Listeners), len(r.Routes))
	}
	vhosts := r.Routes[0].GetVirtualHosts()
	if len(vhosts) != n {
		t.Errorf("want %d virtual hosts (one per hostname), got %d", n, len(vhosts))
	}
	for _, vh := range vhosts {
		if len(vh.GetDomains()) == 0 || len(vh.GetRoutes()) != 2 {
			t.Errorf("virtual host %s: domains %v, %d routes; want a domain and 2 routes", vh.GetName(), vh.GetDomains(), len(vh.GetRoutes()))
		}
	}
	// One cluster per rule, each with its endpoints.
	if len(r.Clusters) != 2*n || len(r.Endpoints) != 2*n {
		t.Errorf("want %d clusters and load assignments, got %d and %d", 2*n, len(r.Clusters), len(r.Endpoints))
	}
	if !bytes.Contains(s.out, []byte("route-7.example.com")) {
		t.Error("yaml output lacks route-7.example.com")
	}
	again := run(t, "routes.yaml", workload(t, n))
	if sha256.Sum256(s.out) != sha256.Sum256(again.out) {
		t.Error("two runs of the pipeline produce different yaml")
	}
}
