package translate

import (
	"crypto/tls"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// listenerState is one Gateway listener while it is being built.
type listenerState struct {
	gw    *gatewayState
	spec  *gwv1.Listener
	host  string // lower-case; "" for any
	cond  *conditions
	kinds []gwv1.RouteGroupKind // supported kinds, for status
	// allowed holds the route kinds (group gateway.networking.k8s.io)
	// that may attach: the allowedRoutes kinds this protocol supports.
	allowed  map[string]bool
	from     gwv1.FromNamespaces
	selector labels.Selector
	tls      *ir.TLSConfig
	// passthrough is set for a TLS listener in mode Passthrough.
	passthrough bool
	conflicted  bool
	ready       bool // programmable: routes may attach
	attached    int32
	vhosts      map[string]*vhostBuild
	// l4 are the TCP/TLS/UDP routes attached, in attachment order.
	l4 []*l4Attachment
	// wideHosts are the vhost hostnames that may cover others: "" and wildcards.
	wideHosts []string
	// ls is the ListenerSet the listener comes from; nil for the
	// Gateway's own listeners (listenerset.go).
	ls *lsState
}

func (l *listenerState) name() string {
	if l.ls != nil {
		return l.gw.key() + "/" + l.ls.key() + "/" + string(l.spec.Name)
	}
	return l.gw.key() + "/" + string(l.spec.Name)
}

// portGroup is the set of programmable listeners of one Gateway port.
type portGroup struct {
	listeners []*listenerState
	owner     map[string]*listenerState // hostname → listener serving it
	// sniTaken are the TLS server names ("" for any) already given to a
	// route on this port.
	sniTaken map[string]bool
}

// ownerOf returns the listener that serves requests for host on this port:
// the most specific listener hostname covering it (Gateway API listener
// selection). Routes attached to a less specific listener do not get that
// host, so no domain appears in two virtual hosts of one Envoy listener.
func (p *portGroup) ownerOf(host string) *listenerState {
	if l, ok := p.owner[host]; ok {
		return l
	}
	var best *listenerState
	for _, l := range p.listeners {
		if l.spec.Protocol == gwv1.UDPProtocolType {
			continue // its own port space, and no hostnames
		}
		if !covers(l.host, host) {
			continue
		}
		if best == nil || moreSpecific(l.host, best.host) {
			best = l
		}
	}
	p.owner[host] = best
	return best
}

// protocolKinds lists, per listener protocol, the route kinds that can
// attach, in the order supportedKinds reports them by default.
var protocolKinds = map[gwv1.ProtocolType][]string{
	gwv1.HTTPProtocolType:  {"HTTPRoute", "GRPCRoute"},
	gwv1.HTTPSProtocolType: {"HTTPRoute", "GRPCRoute"},
	gwv1.TCPProtocolType:   {"TCPRoute"},
	gwv1.TLSProtocolType:   {"TLSRoute"},
	gwv1.UDPProtocolType:   {"UDPRoute"},
}

var tlsTerminateKinds = []string{"TCPRoute", "TLSRoute"}

func routeKind(kind string) gwv1.RouteGroupKind {
	return gwv1.RouteGroupKind{Group: ptrTo(gwv1.Group(gwv1.GroupName)), Kind: gwv1.Kind(kind)}
}

func (b *builder) newListener(g *gatewayState, i int) *listenerState {
	return b.newListenerFor(g, nil, &g.gw.Spec.Listeners[i])
}

// newListenerFor builds a listener of the Gateway, or of one of its
// ListenerSets when ls is set.
func (b *builder) newListenerFor(g *gatewayState, ls *lsState, spec *gwv1.Listener) *listenerState {
	gen := g.gw.Generation
	if ls != nil {
		gen = ls.ls.Generation
	}
	l := &listenerState{
		gw:     g,
		ls:     ls,
		spec:   spec,
		cond:   newConditions(gen, b.now),
		kinds:  []gwv1.RouteGroupKind{},
		vhosts: map[string]*vhostBuild{},
		from:   gwv1.NamespacesFromSame,
	}
	if spec.Hostname != nil {
		l.host = strings.ToLower(string(*spec.Hostname))
	}
	if l.host == "*" {
		// A bare "*" (outside the CRD pattern, accepted as Envoy Gateway
		// does) means any host, as no hostname does: as a TLS server name
		// Envoy refuses it ("partial wildcards are not supported").
		l.host = ""
	}
	if _, ok := protocolKinds[spec.Protocol]; !ok {
		l.cond.set("Accepted", false, "UnsupportedProtocol",
			fmt.Sprintf("protocol %q is not supported yet; supported: %s", spec.Protocol, supportedProtocols()))
		return l
	}
	b.listenerKinds(l)
	b.listenerNamespaces(l)
	checkListenerCRD(l) // validate_crd.go
	b.checkAdminPort(l) // unserved.go
	b.checkReadyPort(l) // defaults.go
	switch spec.Protocol {
	case gwv1.HTTPSProtocolType:
		b.listenerTLS(l)
	case gwv1.TLSProtocolType:
		if t := spec.TLS; t == nil {
			l.cond.set("Accepted", false, "UnsupportedValue", "a TLS listener needs tls (mode Passthrough, or Terminate with certificateRefs)")
		} else if t.Mode != nil && *t.Mode == gwv1.TLSModePassthrough {
			l.passthrough = true
		} else {
			b.terminateTLS(l)
		}
	}
	return l
}

func (b *builder) listenerKinds(l *listenerState) {
	supported := protocolKinds[l.spec.Protocol]
	if l.spec.Protocol == gwv1.TLSProtocolType && !(l.spec.TLS != nil && l.spec.TLS.Mode != nil && *l.spec.TLS.Mode == gwv1.TLSModePassthrough) {
		// A terminating TLS listener also carries TCPRoutes: Envoy ends
		// TLS and proxies the plaintext stream. Envoy Gateway lists both
		// kinds, TCPRoute first; Passthrough has no plaintext to proxy.
		supported = tlsTerminateKinds
	}
	l.allowed = make(map[string]bool, len(supported))
	ar := l.spec.AllowedRoutes
	if ar == nil || len(ar.Kinds) == 0 {
		for _, k := range supported {
			l.kinds = append(l.kinds, routeKind(k))
			l.allowed[k] = true
		}
		return
	}
	var invalid []string
	for _, k := range ar.Kinds {
		group := gwv1.GroupName
		if k.Group != nil {
			group = string(*k.Group)
		}
		if group == gwv1.GroupName && slices.Contains(supported, string(k.Kind)) {
			if !l.allowed[string(k.Kind)] {
				l.kinds = append(l.kinds, routeKind(string(k.Kind)))
			}
			l.allowed[string(k.Kind)] = true
			continue
		}
		invalid = append(invalid, group+"/"+string(k.Kind))
	}
	if len(invalid) > 0 {
		l.cond.fail("ResolvedRefs", "InvalidRouteKinds",
			fmt.Sprintf("route kinds not supported on a %s listener: %s", l.spec.Protocol, strings.Join(invalid, ", ")))
	}
}

// supportedProtocols names the listener protocols we program, sorted.
func supportedProtocols() string {
	ps := make([]string, 0, len(protocolKinds))
	for p := range protocolKinds {
		ps = append(ps, string(p))
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}

func (b *builder) listenerNamespaces(l *listenerState) {
	ar := l.spec.AllowedRoutes
	if ar == nil || ar.Namespaces == nil || ar.Namespaces.From == nil {
		return
	}
	l.from = *ar.Namespaces.From
	switch l.from {
	case gwv1.NamespacesFromSame, gwv1.NamespacesFromAll, gwv1.NamespacesFromNone:
	case gwv1.NamespacesFromSelector:
		if ar.Namespaces.Selector == nil {
			l.cond.set("Accepted", false, "UnsupportedValue", "allowedRoutes.namespaces.from is Selector but no selector is set")
			return
		}
		sel, err := metav1.LabelSelectorAsSelector(ar.Namespaces.Selector)
		if err != nil {
			l.cond.set("Accepted", false, "UnsupportedValue", "allowedRoutes.namespaces.selector: "+err.Error())
			return
		}
		l.selector = sel
	default:
		l.cond.set("Accepted", false, "UnsupportedValue", fmt.Sprintf("allowedRoutes.namespaces.from %q is not supported", l.from))
	}
}

func (b *builder) listenerTLS(l *listenerState) {
	t := l.spec.TLS
	if t == nil {
		l.cond.set("Accepted", false, "UnsupportedValue", "an HTTPS listener needs tls with certificateRefs")
		return
	}
	if t.Mode != nil && *t.Mode != gwv1.TLSModeTerminate {
		l.cond.set("Accepted", false, "UnsupportedValue", fmt.Sprintf("tls.mode %q is not valid on an HTTPS listener", *t.Mode))
		return
	}
	b.terminateTLS(l)
}

// terminateTLS resolves the certificates of an HTTPS listener or a TLS
// listener in mode Terminate.
func (b *builder) terminateTLS(l *listenerState) {
	t := l.spec.TLS
	if len(t.CertificateRefs) == 0 {
		l.cond.fail("ResolvedRefs", "InvalidCertificateRef", "tls.certificateRefs is empty")
		return
	}
	cfg := &ir.TLSConfig{}
	for i, ref := range t.CertificateRefs {
		cert, reason, msg := b.resolveCertificateFrom(l.owner(), ref)
		if cert == nil {
			l.cond.fail("ResolvedRefs", reason, fmt.Sprintf("tls.certificateRefs[%d]: %s", i, msg))
			continue
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	if !l.cond.isFalse("ResolvedRefs") {
		l.tls = cfg
		b.finishListenerTLS(l) // tls.go
	}
}

func (b *builder) resolveCertificate(gw *gwv1.Gateway, ref gwv1.SecretObjectReference) (*ir.Certificate, string, string) {
	return b.resolveCertificateFrom(objRef{group: resource.GroupGatewayAPI, kind: "Gateway", namespace: gw.Namespace, name: gw.Name}, ref)
}

// resolveCertificateFrom resolves a certificate reference of from (a
// Gateway or a ListenerSet), whose namespace is the default.
func (b *builder) resolveCertificateFrom(from objRef, ref gwv1.SecretObjectReference) (*ir.Certificate, string, string) {
	group, kind := "", "Secret"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := from.namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	if group != "" || kind != "Secret" {
		return nil, "InvalidCertificateRef", fmt.Sprintf("unsupported reference kind %s/%s; only core Secret", group, kind)
	}
	to := objRef{group: "", kind: "Secret", namespace: ns, name: string(ref.Name)}
	if !b.grants.allowed(from, to) {
		return nil, "RefNotPermitted", fmt.Sprintf("Secret %s/%s is in another namespace and no ReferenceGrant allows it", ns, ref.Name)
	}
	s := b.secrets[nsName{ns, string(ref.Name)}]
	if s == nil {
		return nil, "InvalidCertificateRef", fmt.Sprintf("Secret %s/%s not found", ns, ref.Name)
	}
	if s.Type != corev1.SecretTypeTLS {
		return nil, "InvalidCertificateRef", fmt.Sprintf("Secret %s/%s has type %q, want %q", ns, ref.Name, s.Type, corev1.SecretTypeTLS)
	}
	crt, key := secretValue(s, corev1.TLSCertKey), secretValue(s, corev1.TLSPrivateKeyKey)
	if len(crt) == 0 || len(key) == 0 {
		return nil, "InvalidCertificateRef", fmt.Sprintf("Secret %s/%s lacks %s or %s", ns, ref.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil, "InvalidCertificateRef", fmt.Sprintf("Secret %s/%s: %v", ns, ref.Name, err)
	}
	return &ir.Certificate{Name: ns + "/" + string(ref.Name), Certificate: crt, PrivateKey: key}, "", ""
}

func secretValue(s *corev1.Secret, k string) []byte {
	if v, ok := s.Data[k]; ok {
		return v
	}
	if v, ok := s.StringData[k]; ok {
		return []byte(v)
	}
	return nil
}

// markConflicts applies the listener compatibility rules: on one port all
// listeners must share a protocol, and no two may share a hostname. UDP
// listeners live in their own port space: a UDP and a TCP-based listener
// may use the same number.
func markConflicts(ls []*listenerState) {
	type portKey struct {
		port int32
		udp  bool
	}
	byPort := map[portKey][]*listenerState{}
	var ports []portKey
	for _, l := range ls {
		if l.cond.isFalse("Accepted") {
			continue
		}
		k := portKey{l.spec.Port, l.spec.Protocol == gwv1.UDPProtocolType}
		if _, ok := byPort[k]; !ok {
			ports = append(ports, k)
		}
		byPort[k] = append(byPort[k], l)
	}
	for _, p := range ports {
		group := byPort[p]
		protos := map[gwv1.ProtocolType]bool{}
		for _, l := range group {
			protos[portProtocol(l)] = true
		}
		if len(protos) > 1 {
			for _, l := range group {
				l.conflicted = true
				l.cond.set("Conflicted", true, "ProtocolConflict",
					fmt.Sprintf("port %d is used by listeners of different protocols", p.port))
			}
			continue
		}
		hosts := map[string][]*listenerState{}
		for _, l := range group {
			hosts[l.host] = append(hosts[l.host], l)
		}
		for h, same := range hosts {
			if len(same) < 2 {
				continue
			}
			for _, l := range same {
				l.conflicted = true
				l.cond.set("Conflicted", true, "HostnameConflict",
					fmt.Sprintf("port %d: hostname %q is used by %d listeners", p.port, domain(h), len(same)))
			}
		}
	}
}

// portProtocol is what a listener speaks on its port: HTTPS and TLS
// listeners may share a port, since both speak TLS and the server name
// picks the listener.
func portProtocol(l *listenerState) gwv1.ProtocolType {
	if l.spec.Protocol == gwv1.TLSProtocolType {
		return gwv1.HTTPSProtocolType
	}
	return l.spec.Protocol
}

// finishConditions fills in the positive conditions not already failed and
// decides whether the listener is programmable.
func (l *listenerState) finishConditions() {
	if l.cond.get("Accepted") == nil {
		l.cond.set("Accepted", true, "Accepted", "Listener is valid")
	}
	if l.cond.get("ResolvedRefs") == nil {
		l.cond.set("ResolvedRefs", true, "ResolvedRefs", "All references resolved")
	}
	if l.cond.get("Conflicted") == nil {
		l.cond.set("Conflicted", false, "NoConflicts", "No conflicts")
	}
	l.ready = !l.cond.isFalse("Accepted") && !l.cond.isFalse("ResolvedRefs") && !l.conflicted
	if l.ready {
		l.cond.set("Programmed", true, "Programmed", "Listener is programmed")
	} else {
		l.cond.set("Programmed", false, "Invalid", "Listener is invalid; see its other conditions")
	}
	l.cond.order("Accepted", "Programmed", "ResolvedRefs", "Conflicted")
}

// allowsNamespace applies allowedRoutes.namespaces to a route namespace.
func (b *builder) allowsNamespace(l *listenerState, ns string) bool {
	switch l.from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == l.owner().namespace
	case gwv1.NamespacesFromSelector:
		return l.selector != nil && l.selector.Matches(labels.Set(b.namespaceLabels(ns)))
	}
	return false
}

func (l *listenerState) bindPort(keep bool) uint32 {
	p := uint32(l.spec.Port)
	if p < 1024 && !keep {
		p += 10000
	}
	return p
}

func (l *listenerState) buildIR() *ir.HTTPListener {
	hl := &ir.HTTPListener{
		Name:        l.name(),
		Address:     "0.0.0.0",
		Port:        l.bindPort(l.gw.keep),
		GatewayPort: uint32(l.spec.Port),
		Hostname:    l.host,
		TLS:         l.tls,
		Metadata:    l.metadata(),
	}
	for _, h := range l.vhostOrder() { // vhost_order.go
		hl.VirtualHosts = append(hl.VirtualHosts, l.vhosts[h].build(l))
	}
	return hl
}

func (l *listenerState) metadata() *ir.Metadata {
	o := l.owner()
	return &ir.Metadata{Kind: o.kind, Namespace: o.namespace, Name: o.name, SectionName: string(l.spec.Name)}
}

func ptrTo[T any](v T) *T { return &v }
