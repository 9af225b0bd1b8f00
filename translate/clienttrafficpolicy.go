package translate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/egctl/egctl/ir"
)

// ClientTrafficPolicy: how downstream connections are accepted and requests
// read, per Gateway listener. The engine (attach.go) finds the policy of
// each IR listener (ListenerSet listener > ListenerSet, Gateway listener >
// Gateway); this file turns it into ir.ClientSettings and the listener's
// TLS settings.
//
// One Envoy listener serves every Gateway listener of a port, and plain
// HTTP listeners of a port share one filter chain and one HTTP connection
// manager. A policy on one of them would silently apply to the others, so
// before anything is applied the listeners that share a piece of Envoy
// configuration must agree on its settings; where they do not, the
// narrowest policies are refused (their listeners fail closed), as Envoy
// Gateway refuses a policy on one of several plain HTTP listeners of a port.

// ctpTranslator holds, per translation, the policies translated once and
// the plan for every IR listener.
type ctpTranslator struct {
	b     *builder
	ix    *attachIndex
	specs map[*policy]*ctpSpec
	plans map[any]*ctpPlan // by IR listener pointer
	// variants shares per-listener variations of one policy's settings
	// (HTTP/3 on, an HTTP/1.0 default host) between listeners.
	variants map[ctpVariant]*ir.ClientSettings
}

type ctpVariant struct {
	s           *ctpSpec
	http3       bool
	defaultHost string
	tls         bool // with the policy's TLS fingerprints
}

// ctpPlan is what happens to one IR listener.
type ctpPlan struct {
	e        effective
	name     string
	settings *ir.ClientSettings
	tls      *ir.TLSConfig // replaces the listener's TLS when set
	err      error
	warns    [][2]string // reason, message
	// inherit is set on a refused listener that shares Envoy
	// configuration with others: its traffic (all refused) passes through
	// what they agreed on, and the IR says so.
	inherit *ir.ClientSettings
}

// clientTrafficPolicies translates the kind for the engine
// (attach_apply.go). Every listener is planned first, so that listeners
// sharing Envoy configuration can be checked against each other.
func (b *builder) clientTrafficPolicies(ix *attachIndex) *listenerPolicy {
	c := &ctpTranslator{b: b, ix: ix, specs: map[*policy]*ctpSpec{}, plans: map[any]*ctpPlan{}, variants: map[ctpVariant]*ir.ClientSettings{}}
	return &listenerPolicy{ix: ix, prepare: c.prepare,
		http: func(e effective, _ *attachPoint, l *ir.HTTPListener) error {
			p := c.plans[l]
			if err := c.apply(e, p); err != nil {
				l.Client = p.inherit
				return err
			}
			if p != nil {
				l.Client = p.settings
				if p.tls != nil {
					l.TLS = p.tls
				}
			}
			return nil
		},
		tcp: func(e effective, _ *attachPoint, l *ir.TCPListener) error {
			p := c.plans[l]
			if err := c.apply(e, p); err != nil {
				l.Client = p.inherit
				return err
			}
			if p != nil {
				l.Client = p.settings
				if p.tls != nil {
					l.TLS = p.tls
				}
			}
			return nil
		},
		udp: func(e effective, _ *attachPoint, l *ir.UDPListener) error {
			return c.apply(e, c.plans[l])
		},
	}
}

// apply reports a plan's warnings and refusal on the policy.
func (c *ctpTranslator) apply(e effective, p *ctpPlan) error {
	if p == nil {
		return nil
	}
	// Warnings stand even when the policy is refused (Envoy Gateway
	// reports deprecated fields either way).
	for _, w := range p.warns {
		e.policy.warn(&e.at, w[0], w[1])
	}
	return p.err
}

func (c *ctpTranslator) spec(p *policy) *ctpSpec {
	s := c.specs[p]
	if s == nil {
		s = c.b.translateCTP(p)
		c.specs[p] = s
	}
	return s
}

// sectionLevel: the policy was aimed at this very listener, so what does
// not apply to it deserves a word.
func sectionLevel(e effective) bool {
	return e.at.level == levelListener || e.at.level == levelListenerSetListener
}

// ctpEntry is an IR listener of one port, for the agreement checks.
type ctpEntry struct {
	name  string
	plain bool // a plain HTTP listener: shares chain and HCM
	plan  *ctpPlan
}

func (c *ctpTranslator) prepare(cfg *ir.Config) {
	// Envoy Gateway warns about deprecated fields wherever the policy
	// attached, whether or not it ends up applied there.
	for _, p := range c.ix.policies {
		if d := c.spec(p).deprecated; d != "" {
			p.warn(nil, "DeprecatedField", d)
		}
	}
	var buf []scope
	var e effective
	for _, px := range cfg.Proxies {
		ports := map[uint32][]*ctpEntry{}
		var order []uint32
		add := func(port uint32, en *ctpEntry) {
			if _, ok := ports[port]; !ok {
				order = append(order, port)
			}
			ports[port] = append(ports[port], en)
		}
		udpPorts := map[uint32]string{}
		for _, l := range px.UDP {
			if l.Route != nil {
				udpPorts[l.Port] = l.Name
			}
			at, ok := c.b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = c.ix.lookup(&at, buf)
			c.plans[l] = c.planUDP(e, l)
		}
		for _, l := range px.HTTP {
			at, ok := c.b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = c.ix.lookup(&at, buf)
			p := c.planHTTP(e, l)
			c.plans[l] = p
			add(l.Port, &ctpEntry{name: l.Name, plain: l.TLS == nil, plan: p})
			if p.err == nil && p.settings != nil && p.settings.HTTP != nil && p.settings.HTTP.HTTP3 {
				if u, clash := udpPorts[l.Port]; clash {
					p.fail(fmt.Errorf("http3: HTTP/3 needs UDP port %d for its QUIC listener, and UDP listener %s uses it", l.Port, u))
				}
			}
		}
		for _, l := range px.TCP {
			at, ok := c.b.listenerPoint(l.Metadata)
			if !ok {
				continue
			}
			e, buf = c.ix.lookup(&at, buf)
			p := c.planTCP(e, l)
			c.plans[l] = p
			add(l.Port, &ctpEntry{name: l.Name, plan: p})
		}
		for _, port := range order {
			es := ports[port]
			settle(es, socketKey, func(others []string) error {
				return fmt.Errorf("listeners %s share port %d with this listener, and Envoy applies tcpKeepalive, proxyProtocol, "+
					"connection.bufferLimit, connection.socketBufferLimit, connection.maxAcceptPerSocketEvent, "+
					"timeout.tcp.connectionInspectionTimeout and tls.fingerprints to the whole port: their ClientTrafficPolicy "+
					"settings for these differ, so this policy would apply to their traffic too", strings.Join(others, ", "), port)
			})
			var plain []*ctpEntry
			for _, en := range es {
				if en.plain {
					plain = append(plain, en)
				}
			}
			settle(plain, fullKey, func(others []string) error {
				return fmt.Errorf("ClientTrafficPolicy is being applied to multiple http (non https) listeners (%s) on the same port, "+
					"which is not allowed: plain HTTP listeners of port %d share one Envoy filter chain and HTTP connection manager, "+
					"and their policies differ, so this one would apply to their traffic too", strings.Join(others, ", "), port)
			})
			inherit(es)
		}
		c.warnSharedClusters(px)
	}
}

// upstreamHTTP1 is what a listener's HTTP/1 settings ask of the backend
// clusters its routes use (xds/client_cluster.go): "" for nothing.
func upstreamHTTP1(p *ctpPlan) string {
	if p == nil || p.err != nil || p.settings == nil || p.settings.HTTP == nil || p.settings.HTTP.HTTP1 == nil {
		return ""
	}
	h1 := p.settings.HTTP.HTTP1
	var parts []string
	if h1.PreserveHeaderCase {
		parts = append(parts, "preserveHeaderCase")
	}
	if h1.EnableTrailers {
		parts = append(parts, "enableTrailers")
	}
	return strings.Join(parts, " and ")
}

// warnSharedClusters: preserveHeaderCase and enableTrailers also set the
// backend clusters of the listener's routes (the response side needs
// them). A route attached to listeners that differ on them shares its
// clusters, which then keep the backend's header case for every listener's
// responses. Envoy Gateway lets whichever listener comes first decide;
// egctl applies them and says so on the policy.
func (c *ctpTranslator) warnSharedClusters(px *ir.Proxy) {
	type user struct {
		listener string
		plan     *ctpPlan
		want     string
	}
	// Clusters are shared across listeners only: with one listener that
	// has routes there is nothing to check.
	needed, withRoutes := false, 0
	for _, l := range px.HTTP {
		if upstreamHTTP1(c.plans[l]) != "" {
			needed = true
		}
		if len(l.VirtualHosts) > 0 {
			withRoutes++
		}
	}
	if !needed || withRoutes < 2 {
		return
	}
	users := map[string][]user{}
	var order []string
	for _, l := range px.HTTP {
		p := c.plans[l]
		want := upstreamHTTP1(p)
		seen := map[string]bool{}
		add := func(d *ir.RouteDestination) {
			if d == nil || seen[d.Name] {
				return
			}
			seen[d.Name] = true
			if _, ok := users[d.Name]; !ok {
				order = append(order, d.Name)
			}
			users[d.Name] = append(users[d.Name], user{l.Name, p, want})
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				add(r.Destination)
				for _, m := range r.Mirrors {
					add(m.Destination)
				}
			}
		}
	}
	for _, d := range order {
		us := users[d]
		for _, u := range us {
			if u.want == "" {
				continue
			}
			var others []string
			for _, o := range us {
				if o.want != u.want {
					others = append(others, o.listener)
				}
			}
			if len(others) == 0 {
				continue
			}
			u.plan.warns = append(u.plan.warns, [2]string{"SharedBackend", fmt.Sprintf(
				"http1 %s: applied to backend cluster %s too, which listeners %s also use: their clients get response headers "+
					"in the backend's letter case (trailers still need enableTrailers on their own listener)",
				u.want, d, strings.Join(others, ", "))})
		}
	}
}

func (p *ctpPlan) fail(err error) {
	p.err, p.settings, p.tls = err, nil, nil
}

func keyOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// socketKey: TLS fingerprints are left out. The TLS inspector computes
// them for every connection of the port when any listener asks, which only
// adds a value to what the others could log (xds takes the union).
func socketKey(p *ctpPlan) string {
	if p.settings == nil || p.settings.Socket == nil {
		return "null"
	}
	s := *p.settings.Socket
	s.TLSFingerprints = nil
	if socketEmpty(&s) {
		return "null"
	}
	return keyOf(&s)
}

func fullKey(p *ctpPlan) string {
	if p.settings == nil {
		return "null|null|null"
	}
	return socketKey(p) + "|" + keyOf(p.settings.Chain) + "|" + keyOf(p.settings.HTTP)
}

// settle makes the entries agree on key: while they differ, the policies of
// the narrowest scope still standing are refused (listener sections, then
// ListenerSets, then Gateways). Refused entries fail closed, so what they
// would have shared no longer matters to them.
func settle(es []*ctpEntry, key func(*ctpPlan) string, why func(others []string) error) {
	for _, levels := range [][]scopeLevel{{levelListener, levelListenerSetListener}, {levelListenerSet}, {levelGateway}} {
		keys := map[string]bool{}
		for _, en := range es {
			if en.plan.err == nil {
				keys[key(en.plan)] = true
			}
		}
		if len(keys) <= 1 {
			return
		}
		var refuse []*ctpEntry
		for _, en := range es {
			if en.plan.err != nil || en.plan.e.policy == nil {
				continue
			}
			for _, l := range levels {
				if en.plan.e.at.level == l {
					refuse = append(refuse, en)
				}
			}
		}
		for _, en := range refuse {
			k := key(en.plan)
			var others []string
			for _, o := range es {
				if o != en && o.plan.err == nil && key(o.plan) != k {
					others = append(others, o.name)
				}
			}
			sort.Strings(others)
			en.plan.fail(why(others))
		}
	}
}

// inherit gives each refused entry what it shares with the entries still
// standing on its port: everything for a plain HTTP listener (chain and
// HCM are shared), the socket settings for the others.
func inherit(es []*ctpEntry) {
	var live, livePlain *ctpPlan
	for _, en := range es {
		if en.plan.err == nil {
			if live == nil {
				live = en.plan
			}
			if en.plain && livePlain == nil {
				livePlain = en.plan
			}
		}
	}
	for _, en := range es {
		switch {
		case en.plan.err == nil:
		case en.plain && livePlain != nil:
			en.plan.inherit = livePlain.settings
		case live != nil && live.settings != nil && live.settings.Socket != nil:
			en.plan.inherit = &ir.ClientSettings{Policy: live.settings.Policy, Socket: live.settings.Socket}
		}
	}
}

// planHTTP plans an HTTP or HTTPS listener.
func (c *ctpTranslator) planHTTP(e effective, l *ir.HTTPListener) *ctpPlan {
	p := &ctpPlan{e: e, name: l.Name}
	if e.policy == nil {
		return p
	}
	s := c.spec(e.policy)
	if s.err != nil {
		p.err = s.err
		return p
	}
	h3 := false
	if s.http3 {
		switch {
		case l.TLS == nil:
			if sectionLevel(e) {
				p.warns = append(p.warns, [2]string{"Ignored", fmt.Sprintf("http3 applies to HTTPS listeners; listener %s has no TLS", l.Name)})
			}
		case s.tls != nil && s.tls.client != nil && s.tls.client.Validation != nil,
			l.TLS.ClientValidation != nil: // the Gateway's frontend validation
			// Envoy cannot validate client certificates over QUIC.
			p.warns = append(p.warns, [2]string{"UnsupportedHTTP3ClientValidation", fmt.Sprintf(
				"HTTP/3 was disabled for listener %q because Envoy does not support downstream client TLS validation over QUIC", l.Metadata.SectionName)})
		default:
			h3 = true
		}
	}
	host := ""
	if s.useDefaultHost {
		var err error
		if host, err = http10DefaultHost(l); err != nil {
			p.err = err
			return p
		}
	}
	p.settings = c.variant(s, h3, host, l.TLS != nil && s.withFingerprints != nil)
	if s.tls != nil {
		if l.TLS != nil {
			p.tls = s.tls.apply(l.TLS)
		} else if sectionLevel(e) {
			p.warns = append(p.warns, [2]string{"Ignored", fmt.Sprintf("tls applies to HTTPS and TLS listeners; listener %s has no TLS", l.Name)})
		}
	}
	p.tls = ctpTLSVersions(l.TLS, p.tls) // clienttrafficpolicy_tls.go
	return p
}

// variant returns the policy's HTTP settings with the per-listener parts
// set, shared by every listener asking for the same.
func (c *ctpTranslator) variant(s *ctpSpec, h3 bool, host string, tls bool) *ir.ClientSettings {
	base := s.http
	if tls {
		base = s.forTLS(s.http)
	}
	if !h3 && host == "" {
		return base
	}
	k := ctpVariant{s, h3, host, tls}
	if v := c.variants[k]; v != nil {
		return v
	}
	cp := *base
	h := ir.ClientHTTP{}
	if cp.HTTP != nil {
		h = *cp.HTTP
	}
	h.HTTP3 = h3
	if host != "" {
		h1 := *h.HTTP1
		h1.HTTP10DefaultHost = host
		h.HTTP1 = &h1
	}
	cp.HTTP = &h
	c.variants[k] = &cp
	return &cp
}

// http10DefaultHost is the Host given to HTTP/1.0 requests without one
// (http1.http10.useDefaultHost): the listener's hostname when it is not a
// wildcard, else the one non-wildcard hostname its routes serve.
func http10DefaultHost(l *ir.HTTPListener) (string, error) {
	if l.Hostname != "" && !strings.Contains(l.Hostname, "*") {
		return l.Hostname, nil
	}
	hosts := map[string]bool{}
	for _, vh := range l.VirtualHosts {
		for _, d := range vh.Domains {
			if d != "*" && !strings.Contains(d, "*") {
				hosts[d] = true
			}
		}
	}
	switch len(hosts) {
	case 1:
		for h := range hosts {
			return h, nil
		}
	case 0:
		return "", fmt.Errorf("spec.http1.http10.useDefaultHost: listener %s and its routes have only wildcard hostnames, so there is no default host", l.Name)
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	return "", fmt.Errorf("spec.http1.http10.useDefaultHost: listener %s has a wildcard hostname and its routes serve several hostnames (%s), so there is no single default host",
		l.Name, strings.Join(names, ", "))
}

// planTCP plans a TCP or TLS listener: socket and chain settings, and TLS
// for a terminating listener.
func (c *ctpTranslator) planTCP(e effective, l *ir.TCPListener) *ctpPlan {
	p := &ctpPlan{e: e, name: l.Name}
	if e.policy == nil {
		return p
	}
	s := c.spec(e.policy)
	if s.err != nil {
		p.err = s.err
		return p
	}
	p.settings = s.tcp
	if l.TLS != nil {
		p.settings = s.forTLS(s.tcp)
	}
	if s.tls != nil {
		if l.TLS != nil {
			p.tls = s.tls.apply(l.TLS)
		} else if sectionLevel(e) {
			p.warns = append(p.warns, [2]string{"Ignored", fmt.Sprintf("tls applies to HTTPS listeners and TLS listeners in mode Terminate; listener %s does not terminate TLS", l.Name)})
		}
	}
	p.tls = ctpTLSVersions(l.TLS, p.tls) // clienttrafficpolicy_tls.go
	if len(s.httpOnly) > 0 && sectionLevel(e) {
		p.warns = append(p.warns, [2]string{"Ignored", fmt.Sprintf("%s apply to HTTP and HTTPS listeners only; listener %s is not one", strings.Join(s.httpOnly, ", "), l.Name)})
	}
	return p
}

// planUDP: nothing of a ClientTrafficPolicy applies to UDP; a policy aimed
// at a UDP listener says so.
func (c *ctpTranslator) planUDP(e effective, l *ir.UDPListener) *ctpPlan {
	p := &ctpPlan{e: e, name: l.Name}
	if e.policy == nil {
		return p
	}
	s := c.spec(e.policy)
	if s.err != nil {
		p.err = s.err
		return p
	}
	if sectionLevel(e) {
		p.warns = append(p.warns, [2]string{"Ignored", fmt.Sprintf("ClientTrafficPolicy settings do not apply to UDP listeners; listener %s is one", l.Name)})
	}
	return p
}

// apply returns a copy of in with the policy's TLS settings: what the
// policy sets replaces the listener's, the rest stays.
func (t *ctpTLS) apply(in *ir.TLSConfig) *ir.TLSConfig {
	tc := *in
	if t.minSet {
		tc.MinVersion = t.minVersion
	}
	if t.maxSet {
		tc.MaxVersion = t.maxVersion
	}
	if len(t.ciphers) > 0 {
		tc.Ciphers = t.ciphers
	}
	if t.alpnSet {
		tc.ALPNProtocols = t.alpn
	}
	if t.client != nil {
		tc.Client = t.client
		if t.client.Validation != nil {
			// The policy's client validation replaces the Gateway's.
			tc.ClientValidation = nil
		}
	}
	return &tc
}
