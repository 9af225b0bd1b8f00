package translate

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// BackendTrafficPolicy: how traffic reaches the backends. The attachment
// engine (attach*.go) finds the effective policy of every route; this file
// translates each (policy, parent) pair once (backendtrafficpolicy_route.go
// for what acts on requests, backendtrafficpolicy_cluster.go for what shapes
// clusters) and hands the shared result to every route it covers.
//
// Route-level settings go on ir.HTTPRoute.Traffic. Cluster-level settings go
// on a copy of the route's destination (ir.RouteDestination.Cluster):
// destinations are shared, and one rule reached through listeners whose
// policies differ gets one cluster per variant (backendtrafficpolicy_split.go)
// instead of silently taking one of them.

// btpEntry is one effective policy, translated.
type btpEntry struct {
	policy, parent *policy
	spec           *egv1a1.BackendTrafficPolicySpec
	err            error

	traffic *ir.TrafficSettings
	cluster *ir.ClusterSettings
	// meta names the policy in the metadata of the HTTP routes it applies
	// to (the route's own policy when merged, as Envoy Gateway names it).
	meta *ir.Metadata
	// L4 routes get the parts of the policy that apply to them: cluster
	// settings without the HTTP-only ones, and (TCP, UDP) a stat name.
	tcpCluster, udpCluster *ir.ClusterSettings
	l4Traffic              *ir.TrafficSettings
	// tcpNA and udpNA are the fields the policy sets that TCP/TLS and UDP
	// routes cannot honour.
	tcpNA, udpNA []string
	l4Done       bool
	routing      *egv1a1.RoutingType
	// dests are the names of the destinations the policy gave settings.
	dests map[string]bool
	// hostVariants are cluster settings whose HTTP health check takes its
	// Host header from the route (no hostname in the policy), by host.
	hostVariants map[string]*ir.ClusterSettings
}

type btpKey struct{ policy, parent *policy }

// destKey identifies a destination copy: the same original destination with
// the same settings is one copy, shared by every route that uses it.
type destKey struct {
	orig    *ir.RouteDestination
	cluster *ir.ClusterSettings
	routing egv1a1.RoutingType
}

// hcHostKey remembers, per proxy and destination, the Host header its HTTP
// health check was given first, so every route of a destination agrees.
type hcHostKey struct {
	gw   nsName
	dest string
	en   *btpEntry
}

type btpTranslator struct {
	b       *builder
	ix      *attachIndex
	entries map[btpKey]*btpEntry
	dests   map[destKey]*ir.RouteDestination
	hcHosts map[hcHostKey]*ir.ClusterSettings
	// warnings collects Warning messages per policy and claimed scope,
	// written once in finish (a policy has one Warning condition per
	// ancestor).
	warnings map[*policy]map[scope]*warnSet
	intern   interner
}

type warnSet struct {
	order []string
	seen  map[string]bool
}

// backendTrafficPolicies translates the kind for the engine (attach_apply.go).
func (b *builder) backendTrafficPolicies(ix *attachIndex) *routePolicy {
	t := &btpTranslator{b: b, ix: ix, entries: map[btpKey]*btpEntry{}, dests: map[destKey]*ir.RouteDestination{},
		hcHosts: map[hcHostKey]*ir.ClusterSettings{}, warnings: map[*policy]map[scope]*warnSet{}}
	if b.merge != nil {
		b.merge.btp = t // mergebackends.go
	}
	return &routePolicy{ix: ix, http: t.http, tcp: t.tcp, udp: t.udp, finish: t.finish}
}

func (t *btpTranslator) http(e effective, at *attachPoint, r *ir.HTTPRoute) error {
	en := t.entry(e)
	if en.err != nil {
		return en.err
	}
	t.noteBTP(r, en) // mergebackends.go
	if ts := en.traffic; ts != nil {
		r.Traffic = ts
		if ts.Retry != nil && r.Retry != nil {
			t.warn(e, fmt.Sprintf("%s sets its own retry (Gateway API), which takes precedence over spec.retry", ruleOf(r.Metadata)))
		}
		if len(ts.Upgrades) > 0 && r.Metadata != nil && r.Metadata.Kind == "GRPCRoute" {
			t.warn(e, fmt.Sprintf("spec.httpUpgrade does not apply to GRPCRoute %s/%s: gRPC runs over HTTP/2, which has no upgrades", r.Metadata.Namespace, r.Metadata.Name))
		}
		if ts.Timeout != nil && ts.Timeout.Request != nil && gatewayAPIRequestTimeout(r) {
			t.warn(e, fmt.Sprintf("%s sets its own request timeout (Gateway API), which takes precedence over spec.timeout.http.requestTimeout", ruleOf(r.Metadata)))
		}
	}
	if r.Destination == nil || (en.cluster == nil && en.routing == nil) {
		r.TrafficPolicy = en.meta
		return nil
	}
	cs := en.cluster
	if err := grpcHealthCheckable(cs, r.Destination); err != nil {
		return err
	}
	if needsRouteHost(cs) {
		cs = t.hostVariant(en, at.gateway, r.Destination.Name, routeHost(r.Name))
	}
	d, err := t.destination(en, r.Destination, cs)
	if err != nil {
		return err
	}
	r.Destination = d
	r.TrafficPolicy = en.meta
	return nil
}

func (t *btpTranslator) tcp(e effective, at *attachPoint, r *ir.TCPRoute) error {
	en := t.l4Entry(e)
	if en.err != nil {
		return en.err
	}
	if err := t.notApplicable(e, r.Metadata, en.tcpNA); err != nil {
		return err
	}
	t.noteBTP(r, en)
	r.Traffic = en.l4Traffic
	if r.Destination == nil || (en.tcpCluster == nil && en.routing == nil) {
		return nil
	}
	if err := grpcHealthCheckable(en.tcpCluster, r.Destination); err != nil {
		return err
	}
	d, err := t.destination(en, r.Destination, en.tcpCluster)
	if err != nil {
		return err
	}
	r.Destination = d
	return nil
}

func (t *btpTranslator) udp(e effective, at *attachPoint, r *ir.UDPRoute) error {
	en := t.l4Entry(e)
	if en.err != nil {
		return en.err
	}
	if err := t.notApplicable(e, r.Metadata, en.udpNA); err != nil {
		return err
	}
	t.noteBTP(r, en)
	r.Traffic = en.l4Traffic
	if r.Destination == nil || (en.udpCluster == nil && en.routing == nil) {
		return nil
	}
	d, err := t.destination(en, r.Destination, en.udpCluster)
	if err != nil {
		return err
	}
	r.Destination = d
	return nil
}

// notApplicable: a policy aimed at an L4 route itself that sets HTTP-only
// fields fails the route (the user asked for something it cannot have); a
// wider policy (Gateway, listener) that also covers HTTP routes applies
// what it can and says what it could not.
func (t *btpTranslator) notApplicable(e effective, md *ir.Metadata, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	what := "this route"
	if md != nil {
		what = md.Kind + " " + md.Namespace + "/" + md.Name
	}
	msg := fmt.Sprintf("%s %s to HTTP and GRPC routes only, not to %s", strings.Join(fields, ", "), applyVerb(len(fields)), what)
	if e.at.level >= levelRoute {
		return errors.New(msg)
	}
	t.warn(e, msg+", which uses the rest of the policy")
	return nil
}

func applyVerb(n int) string {
	if n == 1 {
		return "applies"
	}
	return "apply"
}

// entry translates the effective policy e once.
func (t *btpTranslator) entry(e effective) *btpEntry {
	k := btpKey{e.policy, e.parent}
	if en, ok := t.entries[k]; ok {
		return en
	}
	en := &btpEntry{policy: e.policy, parent: e.parent,
		meta: &ir.Metadata{Kind: "BackendTrafficPolicy", Namespace: e.policy.meta.Namespace, Name: e.policy.meta.Name}}
	t.entries[k] = en
	en.err = t.translate(en)
	return en
}

func (t *btpTranslator) translate(en *btpEntry) error {
	p := en.policy
	spec := p.spec.(*egv1a1.BackendTrafficPolicySpec)
	if err := checkTargets(p, spec); err != nil {
		return err
	}
	name := "backendtrafficpolicy/" + p.meta.Namespace + "/" + p.meta.Name
	cmNS := p.meta.Namespace
	if en.parent != nil {
		parentSpec := en.parent.spec.(*egv1a1.BackendTrafficPolicySpec)
		merged, err := mergeSpecs(parentSpec, spec, *p.mergeType)
		if err != nil {
			return fmt.Errorf("spec.mergeType: %w", err)
		}
		if len(spec.ResponseOverride) == 0 && len(parentSpec.ResponseOverride) > 0 {
			cmNS = en.parent.meta.Namespace
		}
		spec = merged
	}
	en.spec = spec
	var errs []error
	ts, err := t.b.trafficSettings(spec, name, cmNS)
	errs = append(errs, err)
	// Rate limits merge rule by rule, each policy's rules keeping their
	// names (btp_ratelimit.go).
	rl, err := t.b.btpRateLimitFor(effective{policy: p, parent: en.parent}, spec)
	errs = append(errs, err)
	if rl != nil {
		if ts == nil {
			ts = &ir.TrafficSettings{Policy: name}
		}
		ts.RateLimit = rl
	}
	cs, err := clusterSettings(spec)
	errs = append(errs, err)
	if spec.RoutingType != nil {
		switch *spec.RoutingType {
		case egv1a1.ServiceRoutingType, egv1a1.EndpointRoutingType:
			en.routing = spec.RoutingType
		default:
			errs = append(errs, fmt.Errorf("spec.routingType: %q is not Service or Endpoint", *spec.RoutingType))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t.internTraffic(ts) // backendtrafficpolicy_intern.go
	en.traffic, en.cluster = ts, intern(&t.intern, "cluster", cs)
	return nil
}

// checkTargets applies the CRD's rules on targets that depend on fields.
func checkTargets(p *policy, spec *egv1a1.BackendTrafficPolicySpec) error {
	for _, s := range p.targets {
		if p.mergeType != nil && s.level < levelRoute {
			return fmt.Errorf("spec.mergeType can only be used with xRoute targets, not %s %s (the CRD rejects it)", s.kind, s.nsName())
		}
		if spec.AdmissionControl != nil && (s.kind == "TCPRoute" || s.kind == "TLSRoute" || s.kind == "UDPRoute") {
			return fmt.Errorf("spec.admissionControl can only be used with HTTPRoute, GRPCRoute, Gateway or ListenerSet targets, not %s (the CRD rejects it)", s.kind)
		}
	}
	if p.mergeType != nil && *p.mergeType == egv1a1.Replace {
		return errors.New("spec.mergeType: Replace is not a valid MergeType for BackendTrafficPolicy (the CRD rejects it)")
	}
	return nil
}

// l4Entry is entry with what TCP/TLS and UDP routes take from the policy,
// derived the first time an L4 route asks.
func (t *btpTranslator) l4Entry(e effective) *btpEntry {
	en := t.entry(e)
	if en.err != nil || en.l4Done {
		return en
	}
	en.l4Done = true
	tcpSpec, tcpNA := l4Spec(en.spec, false)
	udpSpec, udpNA := l4Spec(en.spec, true)
	en.tcpNA, en.udpNA = tcpNA, udpNA
	var err error
	if en.tcpCluster, err = clusterSettings(tcpSpec); err != nil {
		en.err = err
		return en
	}
	if en.udpCluster, err = clusterSettings(udpSpec); err != nil {
		en.err = err
		return en
	}
	en.tcpCluster = intern(&t.intern, "cluster", en.tcpCluster)
	en.udpCluster = intern(&t.intern, "cluster", en.udpCluster)
	if en.traffic != nil && en.traffic.StatName != "" {
		en.l4Traffic = &ir.TrafficSettings{Policy: en.traffic.Policy, StatName: en.traffic.StatName}
	}
	return en
}

// l4Spec returns spec without the fields L4 routes cannot use, and the
// names of those the policy sets. TCP/TLS routes keep load balancing (a
// consistent hash only on the source IP), health checks, proxy protocol,
// keepalive, connection limits and buffers, connect timeout and DNS; UDP
// routes keep load balancing and DNS.
func l4Spec(spec *egv1a1.BackendTrafficPolicySpec, udp bool) (*egv1a1.BackendTrafficPolicySpec, []string) {
	out := &egv1a1.BackendTrafficPolicySpec{}
	var na []string
	drop := func(set bool, field string) bool {
		if set {
			na = append(na, "spec."+field)
		}
		return set
	}
	drop(spec.RateLimit != nil, "rateLimit")
	drop(spec.BandwidthLimit != nil, "bandwidthLimit")
	drop(spec.FaultInjection != nil, "faultInjection")
	drop(spec.AdmissionControl != nil, "admissionControl")
	drop(spec.UseClientProtocol != nil && *spec.UseClientProtocol, "useClientProtocol")
	drop(len(spec.Compression) > 0, "compression")
	drop(len(spec.Compressor) > 0, "compressor")
	drop(len(spec.ResponseOverride) > 0, "responseOverride")
	drop(len(spec.HTTPUpgrade) > 0, "httpUpgrade")
	drop(spec.RequestBuffer != nil, "requestBuffer")
	drop(spec.Telemetry != nil && spec.Telemetry.Tracing != nil, "telemetry.tracing")
	drop(spec.Retry != nil, "retry")
	drop(spec.HTTP2 != nil, "http2")
	if spec.Timeout != nil {
		drop(spec.Timeout.HTTP != nil, "timeout.http")
	}
	out.RoutingType = spec.RoutingType
	out.DNS = spec.DNS
	out.Telemetry = spec.Telemetry
	if lb := spec.LoadBalancer; lb != nil {
		switch {
		case lb.Type == egv1a1.BackendUtilizationLoadBalancerType:
			drop(true, "loadBalancer.type BackendUtilization")
		case lb.ConsistentHash != nil && lb.ConsistentHash.Type != egv1a1.SourceIPConsistentHashType:
			drop(true, "loadBalancer.consistentHash.type "+string(lb.ConsistentHash.Type))
		case udp && lb.SlowStart != nil:
			cp := *lb
			cp.SlowStart = nil
			out.LoadBalancer = &cp
			drop(true, "loadBalancer.slowStart")
		case lb.EndpointOverride != nil:
			drop(true, "loadBalancer.endpointOverride")
		default:
			out.LoadBalancer = lb
		}
	}
	if udp {
		drop(spec.HealthCheck != nil, "healthCheck")
		drop(spec.CircuitBreaker != nil, "circuitBreaker")
		drop(spec.TCPKeepalive != nil, "tcpKeepalive")
		drop(spec.ProxyProtocol != nil, "proxyProtocol")
		drop(spec.Connection != nil, "connection")
		if spec.Timeout != nil {
			drop(spec.Timeout.TCP != nil, "timeout.tcp")
		}
		return out, na
	}
	out.HealthCheck = spec.HealthCheck
	out.TCPKeepalive = spec.TCPKeepalive
	out.ProxyProtocol = spec.ProxyProtocol
	out.Connection = spec.Connection
	if spec.Timeout != nil && spec.Timeout.TCP != nil {
		out.Timeout = &egv1a1.Timeout{TCP: spec.Timeout.TCP}
	}
	if cb := spec.CircuitBreaker; cb != nil {
		// Connections are what a TCP proxy opens; requests, retries and
		// pending requests are HTTP notions.
		drop(cb.MaxPendingRequests != nil, "circuitBreaker.maxPendingRequests")
		drop(cb.MaxParallelRequests != nil, "circuitBreaker.maxParallelRequests")
		drop(cb.MaxParallelRetries != nil, "circuitBreaker.maxParallelRetries")
		drop(cb.MaxRequestsPerConnection != nil, "circuitBreaker.maxRequestsPerConnection")
		drop(cb.RetryBudget != nil, "circuitBreaker.retryBudget")
		out.CircuitBreaker = &egv1a1.CircuitBreaker{MaxConnections: cb.MaxConnections, PerEndpoint: cb.PerEndpoint}
	}
	return out, na
}

// grpcHealthCheckable: gRPC health checks speak HTTP/2, which Envoy only
// allows on a cluster that does (a GRPCRoute's, or an h2c backend's).
func grpcHealthCheckable(cs *ir.ClusterSettings, d *ir.RouteDestination) error {
	if cs == nil || cs.HealthCheck == nil || cs.HealthCheck.Active == nil || cs.HealthCheck.Active.Type != ir.HealthCheckGRPC {
		return nil
	}
	for _, be := range d.Backends {
		if be.Protocol != ir.ProtocolHTTP2 {
			return fmt.Errorf("spec.healthCheck.active.type GRPC needs backends that speak HTTP/2, and %s's backend %s does not (use a GRPCRoute, or a Service port with appProtocol kubernetes.io/h2c)", d.Name, be.Name)
		}
	}
	return nil
}

// gatewayAPIRequestTimeout reports whether the route's own Gateway API
// timeouts set Envoy's route timeout (request, or backendRequest without a
// retry), which then wins over the policy's, as in Envoy Gateway.
func gatewayAPIRequestTimeout(r *ir.HTTPRoute) bool {
	t := r.Timeout
	return t != nil && (t.Request > 0 || t.RequestDisabled || (t.BackendRequest > 0 && r.Retry == nil))
}

func ruleOf(md *ir.Metadata) string {
	if md == nil {
		return "the route"
	}
	s := md.Kind + " " + md.Namespace + "/" + md.Name
	if md.SectionName != "" {
		s += " rule " + md.SectionName
	}
	return s
}

// warn records a Warning for the policy that applies in e, where it was
// claimed.
func (t *btpTranslator) warn(e effective, msg string) {
	byScope := t.warnings[e.policy]
	if byScope == nil {
		byScope = map[scope]*warnSet{}
		t.warnings[e.policy] = byScope
	}
	ws := byScope[e.at]
	if ws == nil {
		ws = &warnSet{seen: map[string]bool{}}
		byScope[e.at] = ws
	}
	if !ws.seen[msg] {
		ws.seen[msg] = true
		ws.order = append(ws.order, msg)
	}
}

// maxWarnings bounds how many distinct warnings one condition lists.
const maxWarnings = 5

// finish runs after every route had its policy: it merges backends into
// shared clusters, splits clusters whose routes ask for different
// settings, then writes the Warning conditions.
func (t *btpTranslator) finish(cfg *ir.Config) {
	// Routes that share a backend's cluster no longer have a cluster of
	// their own to split (mergebackends.go).
	t.b.mergeBackends(cfg)
	t.splitClusters(cfg) // backendtrafficpolicy_split.go
	// A policy that covers no route (every one has a closer policy) is
	// still checked: an invalid spec is reported where it was written, as
	// Envoy Gateway does. One merged onto a parent is only complete
	// merged, and was checked so wherever it applies.
	for _, p := range t.ix.policies {
		if p.mergeType != nil || len(p.st.scopes) == 0 {
			continue
		}
		if en := t.entry(effective{policy: p}); en.err != nil {
			p.fail(nil, failMessage(en.err))
		}
	}
	for _, p := range t.ix.policies {
		deprecated := deprecatedFields(p.spec.(*egv1a1.BackendTrafficPolicySpec), p.refs.TargetRef != nil)
		for _, cs := range p.st.scopes {
			msgs := append([]string(nil), deprecated...)
			reason := "DeprecatedField"
			if ws := t.warnings[p][cs.s]; ws != nil {
				if len(deprecated) == 0 {
					reason = "Warning"
				}
				list := ws.order
				if len(list) > maxWarnings {
					list = append(list[:maxWarnings:maxWarnings], fmt.Sprintf("and %d more", len(ws.order)-maxWarnings))
				}
				msgs = append(msgs, list...)
			}
			if len(msgs) > 0 {
				s := cs.s
				p.warn(&s, reason, strings.Join(msgs, "; "))
			}
		}
	}
}

// deprecatedFields says which deprecated fields a policy uses, as Envoy
// Gateway's DeprecatedField warning does (sorted by field).
func deprecatedFields(spec *egv1a1.BackendTrafficPolicySpec, targetRef bool) []string {
	m := map[string]string{}
	if targetRef {
		m["spec.targetRef"] = "spec.targetRefs"
	}
	if len(spec.Compression) > 0 {
		m["spec.compression"] = "spec.compressor"
	}
	if lb := spec.LoadBalancer; lb != nil && lb.ConsistentHash != nil && lb.ConsistentHash.Header != nil {
		m["spec.loadBalancer.consistentHash.header"] = "spec.loadBalancer.consistentHash.headers"
	}
	if tel := spec.Telemetry; tel != nil && tel.Tracing != nil && len(tel.Tracing.CustomTags) > 0 {
		m["spec.telemetry.tracing.customTags"] = "spec.telemetry.tracing.tags"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s is deprecated, use %s instead", k, m[k]))
	}
	return out
}
