package translate

import (
	"strings"
	"testing"
)

// TestStatsPortCollision: a Gateway listener on the Prometheus stats
// listener's port is refused (PortUnavailable) and not programmed on a
// proxy that gets that listener — from Envoy Gateway's defaults or from an
// EnvoyProxy's metrics — and accepted where there is none or it moved.
func TestStatsPortCollision(t *testing.T) {
	plain := strings.Replace(epBase, "  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: class-ep, namespace: default}\n", "", 1)
	gw := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: stats, port: 19001, protocol: HTTP}
  - {name: http, port: 8080, protocol: HTTP}
---
`
	for _, tc := range []struct {
		name    string
		in      string
		opts    Options
		refused bool
	}{
		{"defaults", plain + gw, Options{EnvoyGatewayDefaults: true}, true},
		{"defaults, stats moved", plain + gw, Options{EnvoyGatewayDefaults: true, StatsPort: 19555}, false},
		{"lean", plain + gw, Options{}, false},
		{"lean, EnvoyProxy metrics", epBase + envoyProxy("class-ep", "  telemetry: {metrics: {}}") + gw, Options{}, true},
		{"defaults, EnvoyProxy disables Prometheus", epBase + envoyProxy("class-ep", "  telemetry: {metrics: {prometheus: {disable: true}}}") + gw,
			Options{EnvoyGatewayDefaults: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.in, tc.opts)
			st := res.Status.Gateways[0].Status
			p := proxyNamed(t, res, "default/gw")
			ports := map[uint32]bool{}
			for _, l := range p.HTTP {
				ports[l.Port] = true
			}
			if !tc.refused {
				wantCond(t, st.Listeners[0].Conditions, "Accepted", "True", "Accepted")
				if !ports[19001] || !ports[8080] {
					t.Fatalf("listener ports %v, want 19001 and 8080", ports)
				}
				return
			}
			c := wantCond(t, st.Listeners[0].Conditions, "Accepted", "False", "PortUnavailable")
			if !strings.Contains(c.Message, "Prometheus stats listener") || !strings.Contains(c.Message, "--stats-port") {
				t.Errorf("message %q", c.Message)
			}
			wantCond(t, st.Listeners[0].Conditions, "Programmed", "False", "Invalid")
			wantCond(t, st.Listeners[1].Conditions, "Accepted", "True", "Accepted")
			wantCond(t, st.Conditions, "Accepted", "True", "ListenersNotValid")
			if ports[19001] || !ports[8080] {
				t.Fatalf("listener ports %v, want only 8080", ports)
			}
		})
	}
}
