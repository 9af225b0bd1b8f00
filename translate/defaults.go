package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// Envoy Gateway's readiness listener: the port its Deployment's readiness
// probe asks, and the path.
const (
	DefaultReadyPort = 19003
	defaultReadyPath = "/ready"
)

// applyDefaults gives every proxy Envoy Gateway's defaults when the
// options ask for them. The readiness listener binds IPv4 unless the
// proxy's listeners bind IPv6 (an EnvoyProxy's ipFamily IPv6 or
// DualStack), where it binds "::" and accepts IPv4 too, as Envoy Gateway's.
func applyDefaults(cfg *ir.Config, opts Options) {
	if !opts.EnvoyGatewayDefaults {
		return
	}
	port := opts.ReadyPort
	if port == 0 {
		port = DefaultReadyPort
	}
	v4 := &ir.Defaults{Ready: &ir.ReadyListener{Address: "0.0.0.0", Port: port, Path: defaultReadyPath}}
	var v6 *ir.Defaults
	for _, p := range cfg.Proxies {
		if !bindsIPv6(p) {
			p.Defaults = v4
			continue
		}
		if v6 == nil {
			v6 = &ir.Defaults{Ready: &ir.ReadyListener{Address: "::", Port: port, Path: defaultReadyPath}}
		}
		p.Defaults = v6
	}
}

func bindsIPv6(p *ir.Proxy) bool {
	for _, l := range p.HTTP {
		if l.Address == "::" {
			return true
		}
	}
	for _, l := range p.TCP {
		if l.Address == "::" {
			return true
		}
	}
	for _, l := range p.UDP {
		if l.Address == "::" {
			return true
		}
	}
	return false
}

// checkReadyPort refuses a listener on the readiness listener's port, as
// checkAdminPort does for the admin port: Envoy would fail to bind one of
// them and start nothing.
func (b *builder) checkReadyPort(l *listenerState) {
	if !b.opts.EnvoyGatewayDefaults || l.spec.Protocol == gwv1.UDPProtocolType || l.cond.isFalse("Accepted") {
		return
	}
	ready := b.opts.ReadyPort
	if ready == 0 {
		ready = DefaultReadyPort
	}
	if p := l.bindPort(l.gw.keep); p == ready {
		msg := fmt.Sprintf("port %d is the readiness listener's", p)
		if p != uint32(l.spec.Port) {
			msg = fmt.Sprintf("port %d binds %d, the readiness listener's", l.spec.Port, p)
		}
		l.cond.set("Accepted", false, reasonAdminPortCollision, msg+" (--ready-port); use another port or move the readiness listener")
	}
}
