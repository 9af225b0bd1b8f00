package translate

import (
	"strings"
	"testing"
)

// TestOverlappingTLSConfig: HTTPS listeners on one port whose hostnames
// intersect (A and C) carry OverlappingTLSConfig=True/OverlappingHostnames;
// a disjoint one (B) and a listener on another port do not.
func TestOverlappingTLSConfig(t *testing.T) {
	crt, key := selfSigned(t)
	tls := `tls: {mode: Terminate, certificateRefs: [{name: cert}]}`
	res := run(t, gwYAML(`  - {name: a, port: 443, protocol: HTTPS, hostname: foo.example.com, `+tls+`}
  - {name: b, port: 443, protocol: HTTPS, hostname: foo.example.org, `+tls+`}
  - {name: c, port: 443, protocol: HTTPS, hostname: "*.example.com", `+tls+`}
  - {name: d, port: 8443, protocol: HTTPS, hostname: foo.example.com, `+tls+`}`)+secretYAML("infra", "cert", "kubernetes.io/tls", crt, key))
	g := gatewayOut(t, res, "infra", "gw")
	for _, name := range []string{"a", "c"} {
		c := wantCond(t, listenerStatus(t, g, name).Conditions, "OverlappingTLSConfig", "True", "OverlappingHostnames")
		if !strings.Contains(c.Message, "port 443") {
			t.Errorf("%s: message %q", name, c.Message)
		}
	}
	for _, name := range []string{"b", "d"} {
		for _, c := range listenerStatus(t, g, name).Conditions {
			if c.Type == "OverlappingTLSConfig" {
				t.Errorf("listener %s: unexpected %+v", name, c)
			}
		}
	}
	if hasProblem(res, "Gateway", "OverlappingTLSConfig") {
		t.Errorf("OverlappingTLSConfig should not be a Problem: %v", res.Problems)
	}
}
