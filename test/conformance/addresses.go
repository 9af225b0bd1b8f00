package conformance

import (
	"fmt"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Static Gateway addresses (spec.addresses). The harness plays the network
// a real controller would ask: it owns the loopback addresses its pool
// hands out, plus a few reserved ones the suite may request by value
// (UsableAddresses, outside the range the pool allocates from). A Gateway
// asking for one of those gets it: its proxy binds it and status.addresses
// names it. Any other requested IP (UnusableAddresses, a documentation
// address that is only written into a Gateway spec, never contacted) or one
// already held by another proxy is refused the way the spec asks:
// Programmed=False / AddressNotUsable, and no proxy runs. Translate has
// already refused what no host could honour (types other than IPAddress,
// two different IPs); offline, egctl binds whatever IP is asked.

// UsableAddresses are the addresses the suite may request
// (suite.ConfigurableOptions.UsableNetworkAddresses). One only: every
// usable address is written into the same Gateway, and listeners bind one.
var UsableAddresses = []string{"127.0.255.1"}

// UnusableAddresses are addresses the suite may request that this host
// cannot serve on: TEST-NET-1 (RFC 5737), never routed, never contacted.
var UnusableAddresses = []string{"192.0.2.1"}

// SpecAddresses renders addresses as spec.addresses entries.
func SpecAddresses(ips []string) []gwv1.GatewaySpecAddress {
	out := make([]gwv1.GatewaySpecAddress, 0, len(ips))
	for _, ip := range ips {
		t := gwv1.IPAddressType
		out = append(out, gwv1.GatewaySpecAddress{Type: &t, Value: ip})
	}
	return out
}

// requestedIP returns the IP a Gateway asks for in spec.addresses, or "".
// Translate accepted the Gateway, so there is at most one distinct IP.
func requestedIP(gw *gwv1.Gateway) string {
	for _, a := range gw.Spec.Addresses {
		if (a.Type == nil || *a.Type == gwv1.IPAddressType) && a.Value != "" {
			if ip, err := netip.ParseAddr(a.Value); err == nil {
				return ip.String()
			}
			return a.Value
		}
	}
	return ""
}

// claim gives proxy the static address ip, or says why it cannot.
func (a *addressPool) claim(proxy, ip string) error {
	if !a.static[ip] {
		return fmt.Errorf("%s is not an address of this host (usable: %v); request one of those or leave spec.addresses empty", ip, UsableAddresses)
	}
	if cur, ok := a.byProxy[proxy]; ok {
		if cur == ip {
			return nil
		}
		delete(a.used, cur)
		delete(a.byProxy, proxy)
	}
	if a.used[ip] {
		for p, held := range a.byProxy {
			if held == ip {
				return fmt.Errorf("%s is already in use by Gateway %s", ip, p)
			}
		}
	}
	a.used[ip] = true
	a.byProxy[proxy] = ip
	return nil
}

// refuseAddress marks a Gateway not programmed because the address it asks
// for cannot be used; its proxy is dropped by the caller.
func refuseAddress(gw *gwv1.Gateway, msg string, now time.Time) {
	set := func(conds *[]metav1.Condition, reason string) {
		meta.SetStatusCondition(conds, metav1.Condition{
			Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionFalse,
			ObservedGeneration: gw.Generation, LastTransitionTime: metav1.NewTime(now),
			Reason: reason, Message: msg,
		})
	}
	set(&gw.Status.Conditions, string(gwv1.GatewayReasonAddressNotUsable))
	for i := range gw.Status.Listeners {
		set(&gw.Status.Listeners[i].Conditions, string(gwv1.ListenerReasonPending))
	}
	gw.Status.Addresses = nil
}
