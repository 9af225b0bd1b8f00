package translate

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/ir"
)

// applyEnvoyProxies puts each Gateway's EnvoyProxy on its proxy: the
// settings xds spells out, and what changes the IR itself (listener
// addresses for IPv6, Service routing, backend TLS). It runs once the
// proxies are assembled and before policies, so a BackendTrafficPolicy's
// routingType, say, overrides the EnvoyProxy's as in Envoy Gateway.
func (b *builder) applyEnvoyProxies() {
	for _, g := range b.gwOrder {
		if g.proxy == nil {
			continue
		}
		cfg := g.ep
		if cfg == nil {
			if !b.opts.EnvoyGatewayDefaults {
				continue
			}
			cfg = b.defaultProxyConfig()
		}
		p := g.proxy
		p.Settings = cfg.settingsFor(g.gw.Name + "." + g.gw.Namespace)
		p.FilterOrder = cfg.filterOrder
		if fam := cfg.settings.IPFamily; fam == ir.IPv6 || fam == ir.DualStack {
			bindIPv6(p)
		}
		if cfg.serviceRouting {
			b.routeToServices(p)
		}
		if cfg.backendTLS != nil && (g.gw.Spec.TLS == nil || g.gw.Spec.TLS.Backend == nil) {
			applyProxyBackendTLS(p, cfg.backendTLS)
		}
	}
}

// defaultProxyConfig is what a proxy without an EnvoyProxy gets when
// Options.EnvoyGatewayDefaults asks for Envoy Gateway's defaults.
func (b *builder) defaultProxyConfig() *proxyConfig {
	x := b.envoyProxies()
	if x.defaults == nil {
		x.defaults = &proxyConfig{settings: &ir.ProxySettings{AccessLog: defaultAccessLog(), Metrics: &ir.Metrics{Prometheus: &ir.Prometheus{}}}}
	}
	return x.defaults
}

// settingsFor returns the settings for one proxy: shared, except that
// tracing without a serviceName names the proxy (Envoy Gateway's
// "name.namespace" of the Gateway, the class name for merged Gateways).
func (c *proxyConfig) settingsFor(serviceName string) *ir.ProxySettings {
	s := c.settings
	if s.Tracing == nil || c.tracingNamed {
		return s
	}
	cp := *s
	tr := *s.Tracing
	tr.ServiceName = serviceName
	cp.Tracing = &tr
	return &cp
}

// bindIPv6 binds every listener that would bind all IPv4 addresses to all
// IPv6 addresses instead; an address from spec.addresses stays.
func bindIPv6(p *ir.Proxy) {
	for _, l := range p.HTTP {
		if l.Address == "" || l.Address == "0.0.0.0" {
			l.Address = "::"
		}
	}
	for _, l := range p.TCP {
		if l.Address == "" || l.Address == "0.0.0.0" {
			l.Address = "::"
		}
	}
	for _, l := range p.UDP {
		if l.Address == "" || l.Address == "0.0.0.0" {
			l.Address = "::"
		}
	}
}

// routeToServices sends the proxy's traffic for Services to their cluster
// IP and port instead of their endpoints (routingType: Service). A
// headless Service (no cluster IP) keeps its endpoints, as there is no
// other address to use. Destinations are shared between proxies: changed
// ones are copied, once each.
func (b *builder) routeToServices(p *ir.Proxy) {
	memo := map[*ir.RouteDestination]*ir.RouteDestination{}
	fix := func(d *ir.RouteDestination) *ir.RouteDestination {
		if d == nil {
			return nil
		}
		if nd, ok := memo[d]; ok {
			return nd
		}
		nd := d
		for i, be := range d.Backends {
			eps := b.serviceIPEndpoint(be)
			if eps == nil {
				continue
			}
			if nd == d {
				cp := *d
				cp.Backends = append([]*ir.Backend(nil), d.Backends...)
				nd = &cp
			}
			nb := *be
			nb.Endpoints = eps
			nd.Backends[i] = &nb
		}
		memo[d] = nd
		return nd
	}
	eachDestination(p, fix)
}

// serviceIPEndpoint is the cluster IP endpoint of a Service backend, or nil
// when the backend is not a Service with a cluster IP, or when it must
// stay without endpoints (its BackendTLSPolicy is unusable: nothing goes
// out in plain text).
func (b *builder) serviceIPEndpoint(be *ir.Backend) []ir.Endpoint {
	md := be.Metadata
	if md == nil || md.Kind != "Service" || be.AddressType != ir.AddressIP {
		return nil
	}
	svc := b.services[nsName{md.Namespace, md.Name}]
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	ip := svc.Spec.ClusterIP
	if ip == "" || ip == corev1.ClusterIPNone || !endpointIP(ip) {
		return nil
	}
	port, err := strconv.ParseUint(md.SectionName, 10, 16)
	if err != nil {
		return nil
	}
	if len(be.Endpoints) == 0 && be.TLS == nil && len(b.out.BackendTLSPolicies) > 0 {
		sp, _ := servicePort(svc, int32(port), "HTTPRoute")
		if bp := b.backendTLSPolicies().policyFor(svc.Namespace, svc.Name, sp); bp != nil && bp.tls == nil {
			return nil
		}
	}
	// One slice per Service port, shared by every backend that uses it:
	// xds recognises a Service's hosts by the slice's identity.
	x := b.envoyProxies()
	k := epKey{svc.Namespace, svc.Name, int32(port)}
	if eps, ok := x.serviceIPs[k]; ok {
		return eps
	}
	if x.serviceIPs == nil {
		x.serviceIPs = map[epKey][]ir.Endpoint{}
	}
	eps := []ir.Endpoint{{Host: ip, Port: uint32(port)}}
	x.serviceIPs[k] = eps
	return eps
}

// applyProxyBackendTLS gives every TLS backend of the proxy the
// EnvoyProxy's client certificate, ALPN and TLS parameters (spec.backendTLS).
func applyProxyBackendTLS(p *ir.Proxy, bt *ir.BackendTLS) {
	eachDestination(p, backendTLSFixer(bt))
}

// backendTLSFixer returns a function that copies a destination with bt
// applied to its TLS backends, once per destination.
func backendTLSFixer(bt *ir.BackendTLS) func(*ir.RouteDestination) *ir.RouteDestination {
	memo := map[*ir.RouteDestination]*ir.RouteDestination{}
	return func(d *ir.RouteDestination) *ir.RouteDestination {
		if d == nil {
			return nil
		}
		if nd, ok := memo[d]; ok {
			return nd
		}
		nd := d
		for i, be := range d.Backends {
			if be == nil || be.TLS == nil {
				continue
			}
			if nd == d {
				cp := *d
				cp.Backends = append([]*ir.Backend(nil), d.Backends...)
				nd = &cp
			}
			nb, nt := *be, *be.TLS
			mergeProxyBackendTLS(&nt, bt)
			nb.TLS = &nt
			nd.Backends[i] = &nb
		}
		memo[d] = nd
		return nd
	}
}

// mergeProxyBackendTLS fills in what a backend's TLS leaves unset from
// the EnvoyProxy's spec.backendTLS: a Backend's own spec.tls settings win
// field by field, as in Envoy Gateway's mergeClientTLSConfigs.
func mergeProxyBackendTLS(t, ep *ir.BackendTLS) {
	if t.ClientCertificate == nil {
		t.ClientCertificate = ep.ClientCertificate
	}
	if t.MinVersion == "" {
		t.MinVersion = ep.MinVersion
	}
	if t.MaxVersion == "" {
		t.MaxVersion = ep.MaxVersion
	}
	if len(t.Ciphers) == 0 {
		t.Ciphers = ep.Ciphers
	}
	if len(t.ECDHCurves) == 0 {
		t.ECDHCurves = ep.ECDHCurves
	}
	if len(t.SignatureAlgorithms) == 0 {
		t.SignatureAlgorithms = ep.SignatureAlgorithms
	}
	if t.ALPNProtocols == nil {
		t.ALPNProtocols = ep.ALPNProtocols
	}
}

// eachDestination replaces every route destination of p (mirrors
// included) by fix's result.
func eachDestination(p *ir.Proxy, fix func(*ir.RouteDestination) *ir.RouteDestination) {
	for _, l := range p.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				r.Destination = fix(r.Destination)
				if len(r.Mirrors) == 0 {
					continue
				}
				ms := make([]*ir.Mirror, len(r.Mirrors))
				for i, m := range r.Mirrors {
					mc := *m
					mc.Destination = fix(m.Destination)
					ms[i] = &mc
				}
				r.Mirrors = ms
			}
		}
	}
	for _, l := range p.TCP {
		for _, r := range l.Routes {
			r.Destination = fix(r.Destination)
		}
	}
	for _, l := range p.UDP {
		if l.Route != nil {
			l.Route.Destination = fix(l.Route.Destination)
		}
	}
}

// telemetryServices lists the collectors of s; nothing when s is nil.
func telemetryServices(s *ir.ProxySettings) []*ir.TelemetryService {
	if s == nil {
		return nil
	}
	var out []*ir.TelemetryService
	if s.Tracing != nil && s.Tracing.Service != nil {
		out = append(out, s.Tracing.Service)
	}
	if s.AccessLog != nil {
		for _, e := range s.AccessLog.Entries {
			if e.OpenTelemetry != nil && e.OpenTelemetry.Service != nil {
				out = append(out, e.OpenTelemetry.Service)
			}
			if e.ALS != nil && e.ALS.Service != nil {
				out = append(out, e.ALS.Service)
			}
		}
	}
	if s.Metrics != nil {
		for _, m := range s.Metrics.Sinks {
			if m.Service != nil {
				out = append(out, m.Service)
			}
		}
	}
	return out
}
