package translate

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// markOverlappingTLS sets OverlappingTLSConfig=True on every HTTPS or TLS
// listener that shares its port with another whose hostname intersects its
// own (reason OverlappingHostnames) or whose certificate names overlap its
// own (OverlappingCertificates, preferred when both hold)
// (apis/v1/gateway_types.go ListenerConditionOverlappingTLSConfig): a
// client may reuse a connection
// set up for one hostname to reach the other (HTTP/2 connection
// coalescing), bypassing the certificate and SNI choice. It is a warning
// for the user: the condition has negative polarity and is never written
// as False, and it is not a Problem (wildcard plus exact listeners on one
// port are a normal setup). Listeners already refused or Conflicted are
// left out: they serve nothing.
func (b *builder) markOverlappingTLS() {
	// Gateways merged into one proxy (EnvoyProxy mergeGateways) share
	// ports, so their listeners overlap across Gateways too.
	var groups [][]*gatewayState
	merged := map[string]int{}
	for _, g := range b.gwOrder {
		if cls, ok := b.mergedClass(g); ok { // envoyproxy_merge.go
			if i, seen := merged[cls]; seen {
				groups[i] = append(groups[i], g)
				continue
			}
			merged[cls] = len(groups)
		}
		groups = append(groups, []*gatewayState{g})
	}
	for _, gs := range groups {
		byPort := map[int32][]*listenerState{}
		for _, g := range gs {
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
		}
		for _, ls := range byPort {
			sans := make(map[*listenerState][]string, len(ls))
			for _, l := range ls {
				sans[l] = certNames(l)
			}
			for _, l := range ls {
				var with, certsWith []string
				for _, o := range ls {
					if o == l {
						continue
					}
					if namesOverlap(sans[l], sans[o]) {
						certsWith = append(certsWith, o.name())
					}
					if _, ok := intersect(l.host, o.host); ok {
						with = append(with, o.name())
					}
				}
				// Both found: the spec prefers OverlappingCertificates.
				if len(certsWith) > 0 {
					l.cond.set(string(gwv1.ListenerConditionOverlappingTLSConfig), true, string(gwv1.ListenerReasonOverlappingCertificates),
						"certificate names overlap those of "+strings.Join(certsWith, ", ")+" on port "+itoa(int(l.spec.Port)))
					continue
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

// certNames lists the DNS names (SANs) of the leaf certificates a
// terminating listener serves; none for passthrough or unparsable input.
func certNames(l *listenerState) []string {
	if l.tls == nil || l.passthrough {
		return nil
	}
	var out []string
	for _, c := range l.tls.Certificates {
		if c == nil {
			continue
		}
		blk, _ := pem.Decode(c.Certificate)
		if blk == nil {
			continue
		}
		crt, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			continue
		}
		for _, n := range crt.DNSNames {
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}

// namesOverlap reports whether a name of a and one of b can match the same
// server name. A certificate wildcard covers exactly one label.
func namesOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y || tlsWildcardCovers(x, y) || tlsWildcardCovers(y, x) {
				return true
			}
		}
	}
	return false
}

func tlsWildcardCovers(pattern, name string) bool {
	if !isWildcard(pattern) {
		return false
	}
	if isWildcard(name) {
		return false // equal wildcards were compared before
	}
	i := strings.IndexByte(name, '.')
	return i > 0 && name[i:] == pattern[1:]
}
