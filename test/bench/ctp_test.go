package bench

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/xds"
)

// workloadWithCTP is the workload plus a Gateway-wide ClientTrafficPolicy
// (with HTTP/1 options on every cluster when clusters is set).
func workloadWithCTP(tb testing.TB, routes int, clusters bool) []byte {
	tb.Helper()
	b := bytes.NewBuffer(workload(tb, routes))
	if err := gen.WriteClientTrafficPolicy(b, clusters); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkClientTrafficPolicy compares the compile stages (translate and
// xds, where a policy costs) and the whole pipeline at 10,000 routes
// without a ClientTrafficPolicy, with one on the Gateway, and with one that
// also sets HTTP/1 options on every backend cluster:
//
//	go test -run '^$' -bench BenchmarkClientTrafficPolicy -benchtime 5x ./test/bench/
func BenchmarkClientTrafficPolicy(b *testing.B) {
	const n = 10000
	for _, v := range []struct {
		name  string
		input []byte
	}{{"without", workload(b, n)}, {"with", workloadWithCTP(b, n, false)}, {"with-clusters", workloadWithCTP(b, n, true)}} {
		b.Run(fmt.Sprintf("%d/%s", n, v.name), func(b *testing.B) {
			name := fmt.Sprintf("routes-%d-%s.yaml", n, v.name)
			s := run(b, name, v.input)
			b.Run("translate+xds", func(b *testing.B) {
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
			b.Run("all", func(b *testing.B) {
				for b.Loop() {
					run(b, name, s.input)
				}
			})
		})
	}
}

// TestClientTrafficPolicyWorkload: the policy of the benchmark is accepted
// and reaches the listener and every cluster, so the comparison measures
// real work.
func TestClientTrafficPolicyWorkload(t *testing.T) {
	s := run(t, "routes.yaml", workloadWithCTP(t, 25, true))
	r := s.xds[0]
	if got := len(r.Listeners[0].GetSocketOptions()); got != 4 {
		t.Errorf("listener has %d socket options, want the 4 of tcpKeepalive", got)
	}
	for _, c := range r.Clusters {
		if _, ok := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]; !ok {
			t.Errorf("cluster %s has no HTTP protocol options (preserveHeaderCase, enableTrailers)", c.GetName())
		}
	}
}
