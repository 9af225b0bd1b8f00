package bench

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

func workloadWithEnvoyProxy(tb testing.TB, routes int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gen.WriteWithEnvoyProxy(&buf, routes); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkEnvoyProxy compares the translate and xds stages at 10,000
// routes without and with an EnvoyProxy (gen.EnvoyProxy) attached. The
// EnvoyProxy is translated once per proxy; what it changes per route or
// cluster must stay cheap (run.sh prints the CLI's figures for both).
func BenchmarkEnvoyProxy(b *testing.B) {
	const n = 10000
	for _, tc := range []struct {
		name  string
		input []byte
	}{{"plain", workload(b, n)}, {"envoyproxy", workloadWithEnvoyProxy(b, n)}} {
		s := run(b, tc.name+".yaml", tc.input)
		b.Run(fmt.Sprintf("%d/%s/translate", n, tc.name), func(b *testing.B) {
			for b.Loop() {
				if _, err := translate.Translate(s.set, translate.Options{SkipStatus: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/%s/xds", n, tc.name), func(b *testing.B) {
			for b.Loop() {
				if _, err := xds.Translate(s.ir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEnvoyProxyWorkload checks that the EnvoyProxy is really applied in
// the benchmark workload: a benchmark of an ignored EnvoyProxy would
// measure nothing.
func TestEnvoyProxyWorkload(t *testing.T) {
	s := run(t, "routes-ep.yaml", workloadWithEnvoyProxy(t, 10))
	p := s.ir.Proxies[0]
	if p.Settings == nil || p.Settings.AccessLog == nil || p.Settings.Tracing == nil || p.Settings.Metrics == nil {
		t.Fatalf("EnvoyProxy not applied: %+v", p.Settings)
	}
	if a := p.HTTP[0].Address; a != "::" {
		t.Errorf("listener address %q, want :: (ipFamily DualStack)", a)
	}
	ep := p.HTTP[0].VirtualHosts[0].Routes[0].Destination.Backends[0].Endpoints
	if len(ep) != 1 || ep[0].Host[:3] != "10." {
		t.Errorf("endpoints %v, want the Service's cluster IP (routingType Service)", ep)
	}
	r := s.xds[0]
	if len(r.Listeners) != 1 || r.Listeners[0].GetAccessLog() == nil {
		t.Errorf("no listener access log")
	}
	var alt int
	for _, c := range r.Clusters {
		if c.GetAltStatName() != "" {
			alt++
		}
	}
	if alt == 0 {
		t.Errorf("no cluster has an alt_stat_name")
	}
}
