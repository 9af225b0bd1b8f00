package translate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// servicePort finds the Service port a backendRef of a route of kind names.
// A Service may expose one number for TCP and UDP separately; UDPRoutes
// need the UDP one, every other route kind the TCP one (the empty protocol
// is TCP). A number that exists only with the other protocol does not
// resolve: the traffic would reach no listening socket while ResolvedRefs
// said True. A nil port and no mismatch means the number is absent.
func servicePort(svc *corev1.Service, port int32, kind string) (sp *corev1.ServicePort, mismatch string) {
	want := corev1.ProtocolTCP
	if kind == "UDPRoute" {
		want = corev1.ProtocolUDP
	}
	var other *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Port != port {
			continue
		}
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if proto == want {
			return p, ""
		}
		if other == nil {
			other = p
		}
	}
	if other != nil {
		proto := other.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		return nil, fmt.Sprintf("Service %s/%s port %d is %s; a %s needs a %s port", svc.Namespace, svc.Name, port, proto, kind, want)
	}
	return nil, ""
}
