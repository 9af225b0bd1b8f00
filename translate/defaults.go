package translate

import "github.com/egctl/egctl/ir"

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
