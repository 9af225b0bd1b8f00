package translate

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// markOverlappingTLS sets OverlappingTLSConfig=True/OverlappingHostnames on
// every TLS-terminating listener (HTTPS, TLS) that shares its port with
// another whose hostname intersects its own (apis/v1/gateway_types.go
// ListenerConditionOverlappingTLSConfig): a client may reuse a connection
// set up for one hostname to reach the other (HTTP/2 connection
// coalescing), bypassing the certificate and SNI choice. It is a warning
// for the user: the condition has negative polarity and is never written
// as False, and it is not a Problem (wildcard plus exact listeners on one
// port are a normal setup). Listeners already refused or Conflicted are
// left out: they serve nothing.
func (b *builder) markOverlappingTLS() {
	for _, g := range b.gwOrder {
		byPort := map[int32][]*listenerState{}
		for _, l := range slices.Concat(g.listeners, g.setListeners) {
			p := l.spec.Protocol
			if p != gwv1.HTTPSProtocolType && p != gwv1.TLSProtocolType {
				continue
			}
			if l.conflicted || l.cond.isFalse("Accepted") {
				continue
			}
			byPort[l.spec.Port] = append(byPort[l.spec.Port], l)
		}
		for _, ls := range byPort {
			for _, l := range ls {
				var with []string
				for _, o := range ls {
					if o == l {
						continue
					}
					if _, ok := intersect(l.host, o.host); ok {
						with = append(with, o.name())
					}
				}
				if len(with) == 0 {
					continue
				}
				host := l.host
				if host == "" {
					host = "(any)"
				}
				l.cond.set(string(gwv1.ListenerConditionOverlappingTLSConfig), true, string(gwv1.ListenerReasonOverlappingHostnames),
					"hostname "+host+" overlaps the hostnames of "+strings.Join(with, ", ")+" on port "+itoa(int(l.spec.Port)))
			}
		}
	}
}
