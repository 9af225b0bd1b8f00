package bench

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// What a BackendTrafficPolicy on every route costs: the pipeline workload
// with and without one policy per route (10,000 policies, nothing shared
// between routes: the worst case for translate-once caching), and with one
// Gateway-wide policy (the best case).
//
//	go test -run '^$' -bench 'BenchmarkBTPOverhead/10000' -benchtime 3x ./test/bench/
//
// For the CLI, write the workloads and time egctl on them:
//
//	go test -run TestWriteBTPWorkload ./test/bench/ -args -btpworkload=/tmp/btp -btproutes=10000
//	/usr/bin/time -v bin/egctl x translate -f /tmp/btp/per-route.yaml --to xds -t all >/dev/null

// btpWorkload is the pipeline workload plus BackendTrafficPolicies: one per
// route (perRoute) or one on the Gateway.
func btpWorkload(tb testing.TB, routes int, perRoute bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	buf.Write(workload(tb, routes))
	if err := gen.WriteBackendTrafficPolicies(&buf, routes, perRoute); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkBTPOverhead runs the whole pipeline (load, translate, xds, config
// dump, YAML) on the plain workload, with a policy per route and with one
// Gateway policy, and translate+xds alone, where the policies' cost lies.
func BenchmarkBTPOverhead(b *testing.B) {
	for _, n := range pipelineSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for _, v := range []struct {
				name  string
				input []byte
			}{
				{"plain", workload(b, n)},
				{"per-route", btpWorkload(b, n, true)},
				{"gateway", btpWorkload(b, n, false)},
			} {
				name := fmt.Sprintf("routes-%d-%s.yaml", n, v.name)
				s := run(b, name, v.input)
				b.Run(v.name+"/all", func(b *testing.B) {
					defer measure(b, n, "btp-"+v.name+"-all")()
					for b.Loop() {
						run(b, name, v.input)
					}
				})
				b.Run(v.name+"/translate+xds", func(b *testing.B) {
					defer measure(b, n, "btp-"+v.name+"-compile")()
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
			}
		})
	}
}

// TestBTPWorkload checks that the policies are real work: every one is
// accepted, and every route carries its settings.
func TestBTPWorkload(t *testing.T) {
	const n = 25
	for _, perRoute := range []bool{true, false} {
		s := run(t, "routes.yaml", btpWorkload(t, n, perRoute))
		res, err := translate.Translate(s.set, translate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 0 {
			t.Fatalf("problems: %v", res.Problems)
		}
		routes := 0
		for _, l := range s.ir.Proxies[0].HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					routes++
					if r.Traffic == nil || r.Traffic.Retry == nil || r.Destination.Cluster == nil || r.Destination.Cluster.CircuitBreaker == nil {
						t.Fatalf("route %s lacks the policy's settings", r.Name)
					}
				}
			}
		}
		if routes != 2*n {
			t.Fatalf("%d IR routes, want %d", routes, 2*n)
		}
		for _, c := range s.xds[0].Clusters {
			if c.GetCircuitBreakers() == nil || c.GetOutlierDetection() == nil {
				t.Fatalf("cluster %s lacks the policy's circuit breaker or outlier detection", c.GetName())
			}
		}
	}
}

var (
	btpWorkloadDir = flag.String("btpworkload", "", "TestWriteBTPWorkload writes plain.yaml, per-route.yaml and gateway.yaml here")
	btpRoutes      = flag.Int("btproutes", 10000, "route count of TestWriteBTPWorkload")
)

// TestWriteBTPWorkload writes the workloads for timing egctl itself (see
// the top of this file); without -btpworkload it does nothing.
func TestWriteBTPWorkload(t *testing.T) {
	if *btpWorkloadDir == "" {
		t.Skip("-btpworkload not set")
	}
	if err := os.MkdirAll(*btpWorkloadDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"plain.yaml":     workload(t, *btpRoutes),
		"per-route.yaml": btpWorkload(t, *btpRoutes, true),
		"gateway.yaml":   btpWorkload(t, *btpRoutes, false),
	} {
		if err := os.WriteFile(*btpWorkloadDir+"/"+name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
