package translate

import (
	"fmt"
	"net/netip"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Gateway spec.addresses (apis/v1/gateway_types.go GatewaySpec.Addresses).
// egctl compiles configuration for an Envoy on a host it does not know, so
// it can honour exactly one kind of request: one IP address, which every
// listener of the Gateway binds to (Envoy refuses to start if the host does
// not have it, so a wrong address fails loudly, never silently). An
// IPAddress without a value asks us to pick one: the default bind address
// already is our pick. Anything else (NamedAddress, Hostname, a second IP,
// a value that is not an IP) is refused with Accepted=False /
// UnsupportedAddress and the Gateway is not compiled: serving on an address
// other than the one asked for would be silently wrong.

// checkAddresses validates spec.addresses of every Gateway of ours; it runs
// before routes attach, so routes see a refused Gateway as not accepted.
func (b *builder) checkAddresses() {
	for _, g := range b.gwOrder {
		ip, msg := gatewayBindAddress(g.gw.Spec.Addresses)
		if msg == "" {
			if ip != "" {
				if b.bindIPs == nil {
					b.bindIPs = map[*gatewayState]string{}
				}
				b.bindIPs[g] = ip
			}
			continue
		}
		if b.refusedGW == nil {
			b.refusedGW = map[*gatewayState]string{}
		}
		b.refusedGW[g] = msg
		g.cond.set("Accepted", false, string(gwv1.GatewayReasonUnsupportedAddress), msg)
		g.cond.set("Programmed", false, string(gwv1.GatewayReasonAddressNotUsable), msg)
		g.accepted = false
		g.proxy = nil
		for _, l := range slices.Concat(g.listeners, g.setListeners) {
			l.ready = false
			if !l.cond.isFalse("Programmed") {
				l.cond.set("Programmed", false, "Invalid", "the Gateway is not accepted (spec.addresses)")
			}
		}
	}
}

// gatewayBindAddress returns the IP to bind ("" for the default) or why
// the addresses cannot be honoured.
func gatewayBindAddress(addrs []gwv1.GatewaySpecAddress) (string, string) {
	ip := ""
	for i, a := range addrs {
		t := gwv1.IPAddressType
		if a.Type != nil {
			t = *a.Type
		}
		if t != gwv1.IPAddressType {
			return "", fmt.Sprintf("spec.addresses[%d]: address type %s is not supported (only one IPAddress)", i, t)
		}
		if a.Value == "" {
			continue
		}
		addr, err := netip.ParseAddr(a.Value)
		if err != nil || addr.Zone() != "" {
			return "", fmt.Sprintf("spec.addresses[%d]: %q is not an IP address", i, a.Value)
		}
		if ip != "" && ip != addr.String() {
			return "", fmt.Sprintf("spec.addresses[%d]: a second IP address (%s) is not supported; listeners bind one address", i, a.Value)
		}
		ip = addr.String()
	}
	return ip, ""
}

// refused says why routes cannot attach to g, or "".
func (b *builder) refused(g *gatewayState) (reason, msg string) {
	if m := b.refusedGW[g]; m != "" {
		return "NoMatchingParent", "Gateway " + g.key() + " is not accepted: " + m
	}
	return "", ""
}

// bindAddresses points every listener of a Gateway with a requested IP at
// that IP.
func (b *builder) bindAddresses() {
	for _, g := range b.gwOrder {
		ip := b.bindIPs[g]
		if ip == "" || g.proxy == nil {
			continue
		}
		for _, l := range g.proxy.HTTP {
			l.Address = ip
		}
		for _, l := range g.proxy.TCP {
			l.Address = ip
		}
		for _, l := range g.proxy.UDP {
			l.Address = ip
		}
	}
}
