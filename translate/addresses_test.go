package translate

import (
	"strings"
	"testing"
)

func withAddresses(addrs string) string {
	return strings.Replace(egRepro, "  gatewayClassName: eg\n", "  gatewayClassName: eg\n  addresses: "+addrs+"\n", 1)
}

// TestGatewayAddresses: unsupported address types refuse the Gateway with
// UnsupportedAddress (routes cannot attach); IPAddresses that cannot be
// used (a second IP, a non-IP value) leave it accepted but not programmed
// (AddressNotUsable), routes attached, no proxy; one IPAddress is the bind
// address of every listener; an empty IPAddress binds the default.
func TestGatewayAddresses(t *testing.T) {
	for _, addrs := range []string{
		`[{type: NamedAddress, value: foo}]`,
		`[{type: Hostname, value: gw.example.com}]`,
		`[{type: test/fake-invalid-type, value: "x"}, {value: 192.0.2.1}, {value: 127.0.0.2}]`,
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
	for _, addrs := range []string{
		`[{type: IPAddress, value: 192.0.2.1}, {type: IPAddress, value: 127.0.0.2}]`,
		`[{type: IPAddress, value: not-an-ip}]`,
	} {
		res := run(t, withAddresses(addrs)+routeYAML(`  - backendRefs: [{name: svc, port: 3000}]`))
		gw := gatewayOut(t, res, "default", "gw")
		wantCond(t, gw.Status.Conditions, "Accepted", "True", "Accepted")
		wantCond(t, gw.Status.Conditions, "Programmed", "False", "AddressNotUsable")
		wantCond(t, listenerStatus(t, gw, "http").Conditions, "Programmed", "False", "Pending")
		if len(res.IR.Proxies) != 0 {
			t.Errorf("%s: Gateway with an unusable address compiled", addrs)
		}
		wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "True", "Accepted")
		if n := listenerStatus(t, gw, "http").AttachedRoutes; n != 1 {
			t.Errorf("%s: attachedRoutes %d, want 1", addrs, n)
		}
	}
	res := run(t, withAddresses(`[{type: IPAddress, value: 127.0.0.2}]`))
	wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Accepted", "True", "Accepted")
	wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Programmed", "True", "Programmed")
	if a := proxy(t, res, "default/gw").HTTP[0].Address; a != "127.0.0.2" {
		t.Errorf("bind address %q", a)
	}
	// The same IP twice is one address.
	res = run(t, withAddresses(`[{value: 127.0.0.2}, {type: IPAddress, value: 127.0.0.2}]`))
	if a := proxy(t, res, "default/gw").HTTP[0].Address; a != "127.0.0.2" {
		t.Errorf("bind address %q", a)
	}
	res = run(t, withAddresses(`[{type: IPAddress}]`))
	wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Programmed", "True", "Programmed")
	def := proxy(t, run(t, egRepro), "default/gw").HTTP[0].Address
	if a := proxy(t, res, "default/gw").HTTP[0].Address; a != def {
		t.Errorf("empty IPAddress: bind address %q, want the default %q", a, def)
	}
}
