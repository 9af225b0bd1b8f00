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
// already is our pick. The spec's outcomes, which we follow:
//   - a type we do not support (Hostname, NamedAddress, any
//     implementation-specific type): Accepted=False / UnsupportedAddress,
//     and routes cannot attach;
//   - an IPAddress we cannot use (a second, different IP: an IR listener
//     binds one address, and the spec says every listener must bind every
//     assigned address; a value that is not an IP): the Gateway stays
//     Accepted and routes attach, but it is Programmed=False /
//     AddressNotUsable and compiles to no proxy, since serving on some
//     other address would be silently wrong.
// Which IPs a host really has is not known offline; a caller that knows
// (the conformance harness and its address pool) may refuse more.

// addrOutcome is what gatewayBindAddress decided.
type addrOutcome int

const (
	addrOK          addrOutcome = iota
	addrUnsupported             // Accepted=False / UnsupportedAddress
	addrNotUsable               // Programmed=False / AddressNotUsable
)

// checkAddresses validates spec.addresses of every Gateway of ours; it runs
// before routes attach, so routes see a refused Gateway as not accepted.
func (b *builder) checkAddresses() {
	for _, g := range b.gwOrder {
		ip, outcome, msg := gatewayBindAddress(g.gw.Spec.Addresses)
		switch outcome {
		case addrOK:
			if ip != "" {
				if b.bindIPs == nil {
					b.bindIPs = map[*gatewayState]string{}
				}
				b.bindIPs[g] = ip
			}
			continue
		case addrNotUsable:
			if !g.accepted {
				// Not accepted for other reasons: those conditions stand.
				continue
			}
			if b.unusableGW == nil {
				b.unusableGW = map[*gatewayState]string{}
			}
			b.unusableGW[g] = msg
			g.cond.set("Programmed", false, string(gwv1.GatewayReasonAddressNotUsable), msg)
			// Listeners stay ready so routes attach and attachedRoutes
			// counts; only the data plane is withheld (bindAddresses).
			for _, l := range slices.Concat(g.listeners, g.setListeners) {
				if !l.cond.isFalse("Programmed") {
					l.cond.set("Programmed", false, "Pending", "the Gateway's address cannot be used (spec.addresses): "+msg)
				}
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

// gatewayBindAddress returns the IP to bind ("" for the default), or the
// outcome and why the addresses cannot be honoured. Unsupported types win
// over unusable values: the Gateway is then not accepted at all.
func gatewayBindAddress(addrs []gwv1.GatewaySpecAddress) (string, addrOutcome, string) {
	for i, a := range addrs {
		if a.Type != nil && *a.Type != gwv1.IPAddressType {
			return "", addrUnsupported, fmt.Sprintf("spec.addresses[%d]: address type %s is not supported (only IPAddress)", i, *a.Type)
		}
	}
	ip := ""
	for i, a := range addrs {
		if a.Value == "" {
			continue
		}
		addr, err := netip.ParseAddr(a.Value)
		if err != nil || addr.Zone() != "" {
			return "", addrNotUsable, fmt.Sprintf("spec.addresses[%d]: %q is not an IP address", i, a.Value)
		}
		if ip != "" && ip != addr.String() {
			return "", addrNotUsable, fmt.Sprintf("spec.addresses[%d]: %s cannot be used besides %s: listeners bind one address; remove one of them", i, a.Value, ip)
		}
		ip = addr.String()
	}
	return ip, addrOK, ""
}

// refused says why routes cannot attach to g, or "".
func (b *builder) refused(g *gatewayState) (reason, msg string) {
	if m := b.refusedGW[g]; m != "" {
		return "NoMatchingParent", "Gateway " + g.key() + " is not accepted: " + m
	}
	return "", ""
}

// bindAddresses points every listener of a Gateway with a requested IP at
// that IP, and drops the proxy of a Gateway whose addresses are unusable.
func (b *builder) bindAddresses() {
	for _, g := range b.gwOrder {
		if b.unusableGW[g] != "" {
			g.proxy = nil
			continue
		}
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
