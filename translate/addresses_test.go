package translate

import (
	"strings"
	"testing"
)

func withAddresses(addrs string) string {
	return strings.Replace(egRepro, "  gatewayClassName: eg\n", "  gatewayClassName: eg\n  addresses: "+addrs+"\n", 1)
}

// TestGatewayAddresses: unsupported address types (or a second IP, or a
// non-IP value) refuse the Gateway with UnsupportedAddress and compile
// nothing; one IPAddress is the bind address of every listener.
func TestGatewayAddresses(t *testing.T) {
	for _, addrs := range []string{
		`[{type: NamedAddress, value: foo}]`,
		`[{type: Hostname, value: gw.example.com}]`,
		`[{type: IPAddress, value: 127.0.0.1}, {type: IPAddress, value: 127.0.0.2}]`,
		`[{type: IPAddress, value: not-an-ip}]`,
	} {
		res := run(t, withAddresses(addrs)+routeYAML(`  - backendRefs: [{name: svc, port: 3000}]`))
		gw := gatewayOut(t, res, "default", "gw")
		wantCond(t, gw.Status.Conditions, "Accepted", "False", "UnsupportedAddress")
		wantCond(t, listenerStatus(t, gw, "http").Conditions, "Programmed", "False", "Invalid")
		if len(res.IR.Proxies) != 0 {
			t.Errorf("%s: refused Gateway compiled", addrs)
		}
		wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "NoMatchingParent")
	}
	res := run(t, withAddresses(`[{type: IPAddress, value: 127.0.0.2}]`))
	wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Accepted", "True", "Accepted")
	if a := proxy(t, res, "default/gw").HTTP[0].Address; a != "127.0.0.2" {
		t.Errorf("bind address %q", a)
	}
}
