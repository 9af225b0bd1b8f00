package translate

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/egctl/egctl/ir"
)

// EnvoyProxy spec.mergeBackends: routes that send to the same backend
// share one cluster, named as Envoy Gateway names it
// ("service/ns/name/port/protocol"), instead of one cluster per route rule
// (ir/backendcluster.go says what the IR carries).
//
// A backendRef is merged only where Envoy Gateway deems it safe, by Envoy
// Gateway's own rules (internal/gatewayapi/route.go, v1.9.1):
//   - the backend is a Service or a Backend the selector (if any) matches,
//     resolved, with weight and ready endpoints, without backendRef filters;
//   - its rule does not need every backend in one cluster: a rule of several
//     backendRefs with session persistence, a fallback Backend, or a
//     consistent hash asked by the Gateway's BackendTrafficPolicy; a TCP,
//     TLS or UDP rule of several backendRefs;
//   - no BackendTrafficPolicy below the Gateway asks for cluster settings
//     for this route on this listener (a listener's, a ListenerSet's, or a
//     route's or rule's that sets cluster fields or does not merge onto the
//     Gateway's), and no ClientTrafficPolicy on the listener asks for HTTP/1
//     settings (they go on clusters);
//   - the routing type (Service or Endpoint) is the Gateway's.
//
// The shared cluster takes the cluster settings of the Gateway's
// BackendTrafficPolicy, the only ones every route on the Gateway has in
// common. Two checks go beyond Envoy Gateway's, so that no setting leaks
// between routes whatever the rules above miss: a route merges only when
// the cluster settings it would get on its own are the Gateway's, and when
// its backend resolves to exactly what the shared cluster holds (endpoints,
// TLS, protocol). Otherwise it keeps its own cluster.

// mergeConfig is spec.mergeBackends, translated.
type mergeConfig struct {
	// selector restricts merging to the Services and Backends it matches;
	// nil merges every eligible backend.
	selector labels.Selector
}

// mergeState is what the merge pass needs from the rest of translation;
// nil when no Gateway merges backends.
type mergeState struct {
	// ruleRefs counts the backendRefs of each rule, by destination name
	// (Envoy Gateway's rule-level checks count them all, valid or not).
	ruleRefs map[string]int
	// btpOf is the BackendTrafficPolicy each IR route got, by route.
	btpOf map[any]*btpEntry
	btp   *btpTranslator
	btpIx *attachIndex
	ctpIx *attachIndex
	done  bool
}

// prepareMerge readies the state that compiling routes fills in, when some
// Gateway merges backends.
func (b *builder) prepareMerge() {
	for _, g := range b.gwOrder {
		if g.ep != nil && g.ep.mergeBackends != nil {
			b.merge = &mergeState{ruleRefs: map[string]int{}, btpOf: map[any]*btpEntry{}}
			return
		}
	}
}

// noteRule records how many backendRefs the rule of destination d has,
// when that is not the number of its backends (some unresolved or of
// weight 0).
func (b *builder) noteRule(d *ir.RouteDestination, refs int) {
	if b.merge != nil && refs != len(d.Backends) {
		b.merge.ruleRefs[d.Name] = refs
	}
}

// noteBTP records the BackendTrafficPolicy entry applied to an IR route.
func (t *btpTranslator) noteBTP(r any, en *btpEntry) {
	if m := t.b.merge; m != nil {
		m.btpOf[r] = en
	}
}

// ruleDestName is the destination name of the rule: a BackendTrafficPolicy
// variant (backendtrafficpolicy_split.go) keeps its rule's.
func ruleDestName(dest string) string {
	if i := strings.LastIndex(dest, "/variant/"); i >= 0 {
		return dest[:i]
	}
	return dest
}

// mergeProxy is one proxy's merge pass.
type mergeProxy struct {
	b  *builder
	m  *mergeState
	px *ir.Proxy
	// clusters are the shared clusters by name.
	clusters map[string]*ir.RouteDestination
	// memo maps a destination to its merged copy (itself when nothing
	// merges), for destinations not held back by their listener.
	memo map[*ir.RouteDestination]*ir.RouteDestination
	buf  []scope
}

// mergeBackends runs once BackendTrafficPolicies are applied (before
// their clusters are split) or, without any, once every policy is.
func (b *builder) mergeBackends(cfg *ir.Config) {
	if b.merge == nil || b.merge.done {
		return
	}
	b.merge.done = true
	for _, px := range cfg.Proxies {
		mp := &mergeProxy{b: b, m: b.merge, px: px, clusters: map[string]*ir.RouteDestination{},
			memo: map[*ir.RouteDestination]*ir.RouteDestination{}}
		mp.run()
		if len(mp.clusters) == 0 {
			continue
		}
		names := make([]string, 0, len(mp.clusters))
		for n := range mp.clusters {
			names = append(names, n)
		}
		sort.Strings(names)
		px.BackendClusters = make([]*ir.RouteDestination, len(names))
		for i, n := range names {
			px.BackendClusters[i] = mp.clusters[n]
		}
	}
}

// routeCtx is what the merge of one route's destination depends on.
type routeCtx struct {
	at      attachPoint
	cfg     *mergeConfig
	ep      *proxyConfig
	kind    string // route kind
	en      *btpEntry
	session bool
}

func (mp *mergeProxy) run() {
	b := mp.b
	gwCfg := func(md *ir.Metadata) (attachPoint, *proxyConfig, bool) {
		if md != nil && md.Kind == "ListenerSet" && b.targets == nil {
			b.targets = b.buildTargetIndex() // how listenerPoint finds a set's Gateway
		}
		at, ok := b.listenerPoint(md)
		if !ok {
			return at, nil, false
		}
		g := b.gateways[at.gateway]
		if g == nil || g.ep == nil || g.ep.mergeBackends == nil {
			return at, nil, false
		}
		return at, g.ep, true
	}
	for _, l := range mp.px.HTTP {
		lp, ep, ok := gwCfg(l.Metadata)
		if !ok {
			continue
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Destination == nil || r.Metadata == nil {
					continue
				}
				rc := &routeCtx{at: withRoute(lp, r.Metadata), cfg: ep.mergeBackends, ep: ep, kind: r.Metadata.Kind,
					en: mp.m.btpOf[r], session: r.SessionPersistence != nil}
				r.Destination = mp.merge(rc, r.Destination)
			}
		}
	}
	for _, l := range mp.px.TCP {
		lp, ep, ok := gwCfg(l.Metadata)
		if !ok {
			continue
		}
		for _, r := range l.Routes {
			if r.Destination == nil || r.Metadata == nil {
				continue
			}
			rc := &routeCtx{at: withRoute(lp, r.Metadata), cfg: ep.mergeBackends, ep: ep, kind: r.Metadata.Kind, en: mp.m.btpOf[r]}
			r.Destination = mp.merge(rc, r.Destination)
		}
	}
	for _, l := range mp.px.UDP {
		lp, ep, ok := gwCfg(l.Metadata)
		if !ok || l.Route == nil || l.Route.Destination == nil || l.Route.Metadata == nil {
			continue
		}
		r := l.Route
		rc := &routeCtx{at: withRoute(lp, r.Metadata), cfg: ep.mergeBackends, ep: ep, kind: r.Metadata.Kind, en: mp.m.btpOf[r]}
		r.Destination = mp.merge(rc, r.Destination)
	}
}

// merge returns d with its eligible backends sent to shared clusters (a
// copy), or d itself.
func (mp *mergeProxy) merge(rc *routeCtx, d *ir.RouteDestination) *ir.RouteDestination {
	if mp.heldBack(rc) {
		return d
	}
	if nd, ok := mp.memo[d]; ok {
		return nd
	}
	nd := d
	refs, ok := mp.m.ruleRefs[ruleDestName(d.Name)]
	if !ok {
		refs = len(d.Backends)
	}
	if !mp.ruleUnsafe(rc, d, refs) {
		cs := mp.gatewayCluster(rc)
		for i, be := range d.Backends {
			name, ok := mp.eligible(rc, be, refs)
			if !ok {
				continue
			}
			sc := mp.clusters[name]
			if sc == nil {
				sc = sharedCluster(name, be, cs)
				mp.clusters[name] = sc
			} else if !sameBackend(sc.Backends[0], be) || !sameCluster(sc.Cluster, cs) {
				continue
			}
			if nd == d {
				cp := *d
				cp.Backends = append([]*ir.Backend(nil), d.Backends...)
				cp.OneCluster = false // one backend: nothing to keep together
				nd = &cp
			}
			mb := *be
			mb.Name, mb.Merged, mb.Priority = name, true, 0
			nd.Backends[i] = &mb
		}
	}
	mp.memo[d] = nd
	return nd
}

// sharedCluster is the backend cluster name built from be, with the
// Gateway's cluster settings cs.
func sharedCluster(name string, be *ir.Backend, cs *ir.ClusterSettings) *ir.RouteDestination {
	sb := *be
	sb.Name, sb.Weight, sb.Priority, sb.Merged = name, 1, 0, false
	return &ir.RouteDestination{Name: name, Backends: []*ir.Backend{&sb}, Metadata: be.Metadata, Cluster: cs}
}

// sameBackend: a and b reach the same hosts the same way (names, weights
// and priorities aside). Backends of one Service port share their
// endpoints slice, metadata and TLS, so this is mostly pointer compares;
// TestSameBackendFields fails when ir.Backend gets a field this does not
// weigh.
func sameBackend(a, b *ir.Backend) bool {
	if a.RequestHeaders != nil || b.RequestHeaders != nil || a.ResponseHeaders != nil || b.ResponseHeaders != nil ||
		a.CredentialInjection != nil || b.CredentialInjection != nil {
		return false // per-route filters never share a cluster
	}
	return a.AddressType == b.AddressType && a.Protocol == b.Protocol &&
		(sameSlice(a.Endpoints, b.Endpoints) || slices.Equal(a.Endpoints, b.Endpoints)) &&
		(a.Metadata == b.Metadata || (a.Metadata != nil && b.Metadata != nil && *a.Metadata == *b.Metadata)) &&
		(a.TLS == b.TLS || a.TLS.Equal(b.TLS))
}

func sameCluster(a, b *ir.ClusterSettings) bool {
	return a == b || reflect.DeepEqual(a, b)
}

// eligible says whether be may go to a shared cluster, and its name.
func (mp *mergeProxy) eligible(rc *routeCtx, be *ir.Backend, refs int) (string, bool) {
	md := be.Metadata
	switch {
	case be.Weight == 0 || be.Merged || md == nil || len(be.Endpoints) == 0:
		return "", false
	case be.RequestHeaders != nil || be.ResponseHeaders != nil || be.CredentialInjection != nil:
		return "", false // backendRef filters are per route
	case be.Priority > 0 && refs > 1:
		return "", false
	}
	var lbls map[string]string
	switch md.Kind {
	case "Service":
		svc := mp.b.services[nsName{md.Namespace, md.Name}]
		if svc == nil {
			return "", false
		}
		lbls = svc.Labels
	case "Backend":
		st := mp.b.egBackend[nsName{md.Namespace, md.Name}]
		if st == nil || !st.ok {
			return "", false
		}
		lbls = st.be.Labels
	default:
		return "", false
	}
	if rc.cfg.selector != nil && !rc.cfg.selector.Matches(labels.Set(lbls)) {
		return "", false
	}
	port := md.SectionName
	if port == "" {
		port = "0"
	}
	return strings.ToLower(md.Kind) + "/" + md.Namespace + "/" + md.Name + "/" + port + "/" + clusterProtocol(rc.kind, be), true
}

// clusterProtocol is the protocol part of a shared cluster's name, as
// Envoy Gateway spells it.
func clusterProtocol(routeKind string, be *ir.Backend) string {
	switch routeKind {
	case "GRPCRoute":
		return "grpc"
	case "TCPRoute", "TLSRoute":
		return "tcp"
	case "UDPRoute":
		return "udp"
	}
	if be.Protocol == ir.ProtocolHTTP2 {
		return "http2"
	}
	return "http"
}

// ruleUnsafe: the rule's backends must stay in one cluster of their own.
func (mp *mergeProxy) ruleUnsafe(rc *routeCtx, d *ir.RouteDestination, refs int) bool {
	if refs <= 1 {
		return false
	}
	switch rc.kind {
	case "TCPRoute", "TLSRoute", "UDPRoute":
		return true // no weighted clusters for a rule's several backends there
	}
	if rc.session || hasFallback(d) || d.OneCluster {
		return true
	}
	if gp := mp.gatewayBTP(rc); gp != nil {
		spec := gp.spec.(*egv1a1.BackendTrafficPolicySpec)
		if lb := spec.LoadBalancer; lb != nil && lb.Type == egv1a1.ConsistentHashLoadBalancerType {
			return true
		}
	}
	return false
}

// gatewayBTP is the BackendTrafficPolicy that targets the route's Gateway
// as a whole, or nil.
func (mp *mergeProxy) gatewayBTP(rc *routeCtx) *policy {
	if mp.m.btpIx == nil {
		return nil
	}
	return mp.m.btpIx.byScope[scope{levelGateway, "Gateway", rc.at.gateway.ns, rc.at.gateway.name, ""}]
}

// gatewayCluster is the cluster part of the Gateway's BackendTrafficPolicy
// for routes of rc's kind: what a shared cluster gets.
func (mp *mergeProxy) gatewayCluster(rc *routeCtx) *ir.ClusterSettings {
	gp := mp.gatewayBTP(rc)
	if gp == nil || mp.m.btp == nil {
		return nil
	}
	en := mp.m.btp.l4Entry(effective{policy: gp})
	if en.err != nil {
		return nil
	}
	return entryCluster(en, rc.kind)
}

// entryCluster is the part of en's cluster settings routes of kind get.
func entryCluster(en *btpEntry, kind string) *ir.ClusterSettings {
	switch kind {
	case "TCPRoute", "TLSRoute":
		return en.tcpCluster
	case "UDPRoute":
		return en.udpCluster
	}
	return en.cluster
}

// heldBack: something on this listener, or the route's own policy, gives
// the route's clusters settings a shared cluster cannot carry.
func (mp *mergeProxy) heldBack(rc *routeCtx) bool {
	if mp.btpBelowGateway(rc) || mp.ctpHTTP1(rc) || mp.routingDiverges(rc) {
		return true
	}
	// Beyond Envoy Gateway's rules: the route's own cluster settings must
	// be the ones the shared cluster gets.
	var own *ir.ClusterSettings
	if rc.en != nil {
		own = entryCluster(rc.en, rc.kind) // L4 routes got an l4Entry
	}
	return !sameCluster(own, mp.gatewayCluster(rc))
}

// btpClusterScoped lists the BackendTrafficPolicy fields Envoy Gateway
// counts as the cluster's (btpSpecHasClusterScopedFields).
func btpClusterScoped(p *policy) bool {
	s := p.spec.(*egv1a1.BackendTrafficPolicySpec)
	return s.LoadBalancer != nil || s.ProxyProtocol != nil || s.HealthCheck != nil || s.CircuitBreaker != nil ||
		s.Timeout != nil || s.TCPKeepalive != nil || s.Connection != nil || s.HTTP2 != nil || s.DNS != nil ||
		s.AdmissionControl != nil || s.UseClientProtocol != nil
}

// btpBelowGateway is Envoy Gateway's BTPClusterSettingsIndex lookup: a
// rule's or route's own policy that sets cluster fields or replaces the
// Gateway's (no mergeType) holds the route back; one that merges and sets
// none defers to the listener level, where a policy holds it back when it
// sets cluster fields.
func (mp *mergeProxy) btpBelowGateway(rc *routeCtx) bool {
	ix := mp.m.btpIx
	if ix == nil {
		return false
	}
	mp.buf = rc.at.chain(mp.buf)
	for _, s := range mp.buf {
		if s.level < levelRoute {
			break
		}
		if p := ix.byScope[s]; p != nil {
			if p.mergeType == nil || btpClusterScoped(p) {
				return true
			}
			break // merged onto the listener's or Gateway's
		}
	}
	for _, s := range mp.buf {
		if s.level >= levelRoute || s.level == levelGateway {
			continue
		}
		if p := ix.byScope[s]; p != nil {
			return btpClusterScoped(p)
		}
	}
	return false
}

// ctpHTTP1 is Envoy Gateway's CTPClusterSettingsIndex: a
// ClientTrafficPolicy on the listener (or its ListenerSet) that sets http1
// holds the listener's routes back, since those settings go on clusters.
func (mp *mergeProxy) ctpHTTP1(rc *routeCtx) bool {
	ix := mp.m.ctpIx
	if ix == nil {
		return false
	}
	a := rc.at
	var scopes []scope
	if a.set != nil {
		scopes = []scope{{levelListenerSet, "ListenerSet", a.set.ns, a.set.name, ""}, {levelListenerSetListener, "ListenerSet", a.set.ns, a.set.name, a.listener}}
	} else {
		scopes = []scope{{levelListener, "Gateway", a.gateway.ns, a.gateway.name, a.listener}}
	}
	for _, s := range scopes {
		if p := ix.byScope[s]; p != nil && p.spec.(*egv1a1.ClientTrafficPolicySpec).HTTP1 != nil {
			return true
		}
	}
	return false
}

// routingDiverges is Envoy Gateway's routingTypeDivergesForRule: the
// route's routing type (Service or Endpoint) differs from the Gateway's.
func (mp *mergeProxy) routingDiverges(rc *routeCtx) bool {
	ix := mp.m.btpIx
	if ix == nil {
		return false
	}
	routing := func(p *policy) *egv1a1.RoutingType {
		return p.spec.(*egv1a1.BackendTrafficPolicySpec).RoutingType
	}
	var base *egv1a1.RoutingType
	if gp := mp.gatewayBTP(rc); gp != nil {
		base = routing(gp)
	}
	eff, found := base, false
	mp.buf = rc.at.chain(mp.buf)
	for _, s := range mp.buf {
		if s.level < levelRoute {
			break
		}
		if p := ix.byScope[s]; p != nil {
			if routing(p) != nil || p.mergeType == nil {
				eff, found = routing(p), true
			}
			break
		}
	}
	if !found {
		for _, s := range mp.buf {
			if s.level >= levelRoute || s.level == levelGateway {
				continue
			}
			if p := ix.byScope[s]; p != nil && routing(p) != nil {
				eff = routing(p)
				break
			}
		}
	}
	service := func(rt *egv1a1.RoutingType) bool {
		if rt == nil {
			return rc.ep.serviceRouting
		}
		return *rt == egv1a1.ServiceRoutingType
	}
	return service(base) != service(eff)
}

// mergeBackends translates spec.mergeBackends. Its presence turns merging
// on; a selector that does not parse is refused rather than read as
// "merge nothing" (Envoy Gateway logs it and merges nothing).
func (t *epTranslator) mergeBackends(spec *egv1a1.EnvoyProxySpec) {
	mb := spec.MergeBackends
	if mb == nil {
		return
	}
	if spec.MergeGateways != nil && *spec.MergeGateways {
		t.fail("spec.mergeBackends", "cannot be set with mergeGateways: true (the CRD rejects it)")
		return
	}
	cfg := &mergeConfig{}
	if mb.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(mb.Selector)
		if err != nil {
			t.fail("spec.mergeBackends.selector", "%v", err)
			return
		}
		cfg.selector = sel
	}
	t.cfg.mergeBackends = cfg
}

func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// pruneBackendClusters drops the shared clusters no route sends to any
// more: a policy applied after the merge (EnvoyExtensionPolicy) may have
// failed their routes closed.
func (b *builder) pruneBackendClusters(cfg *ir.Config) {
	if b.merge == nil {
		return
	}
	for _, px := range cfg.Proxies {
		if len(px.BackendClusters) == 0 {
			continue
		}
		used := map[string]bool{}
		mark := func(d *ir.RouteDestination) {
			if d == nil {
				return
			}
			for _, be := range d.Backends {
				if be.Merged {
					used[be.Name] = true
				}
			}
		}
		for _, l := range px.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					mark(r.Destination)
				}
			}
		}
		for _, l := range px.TCP {
			for _, r := range l.Routes {
				mark(r.Destination)
			}
		}
		for _, l := range px.UDP {
			if l.Route != nil {
				mark(l.Route.Destination)
			}
		}
		kept := px.BackendClusters[:0:0]
		for _, d := range px.BackendClusters {
			if used[d.Name] {
				kept = append(kept, d)
			}
		}
		px.BackendClusters = kept
		if len(kept) == 0 {
			px.BackendClusters = nil
		}
	}
}
