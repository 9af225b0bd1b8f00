package bench

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/xds"
)

// securityPolicies is one SecurityPolicy per namespace of the workload,
// selecting every HTTPRoute there: JWT (a local key set) and authorization
// rules on claims, scopes, client CIDRs and methods. With 10,000 routes,
// each policy covers 500 routes (1,000 IR routes: two rules each).
func securityPolicies() []byte {
	var b bytes.Buffer
	for ns := 0; ns < gen.Namespaces; ns++ {
		fmt.Fprintf(&b, `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata:
  name: api-auth
  namespace: ns-%d
spec:
  targetSelectors:
  - kind: HTTPRoute
    matchExpressions: [{key: no-such-label, operator: DoesNotExist}]
  jwt:
    providers:
    - name: corp
      issuer: https://login.example.com
      audiences: [ns-%d.example.com]
      localJWKS:
        type: Inline
        inline: '{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k","x":"g19OamSQvQiwuHAGHkn2xTmJsMpMfKupzZaZnvVEWuw","y":"sHe8APd8qsMvaKD5znxCS443FbiQfJdCWgtYjheLALg"}]}'
      claimToHeaders: [{header: x-user, claim: sub}]
  authorization:
    defaultAction: Deny
    rules:
    - name: admins
      action: Allow
      principal:
        jwt:
          provider: corp
          scopes: [api.read]
          claims: [{name: groups, valueType: StringArray, values: [admin, ops]}]
    - name: office-reads
      action: Allow
      principal: {clientCIDRs: [10.0.0.0/8, 192.168.0.0/16]}
      operation: {methods: [GET, HEAD]}
`, ns, ns)
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
