package translate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// Envoy Gateway's Backend kind: endpoints given by address (IP, FQDN, unix
// socket), the protocol spoken to them, TLS, and whether they are a
// fallback. Every field of v1.9.1's BackendSpec is either honoured or
// makes the Backend Accepted=False with a message naming the field, so a
// route never silently loses something its Backend asks for.

// backendState is one Envoy Gateway Backend after validation.
type backendState struct {
	be        *egv1a1.Backend
	ok        bool
	msg       string
	addrType  ir.AddressType
	endpoints []ir.Endpoint // shared, read-only
	protocol  ir.AppProtocol
	// wantsTLS: appProtocol gateway.envoyproxy.io/wss, WebSocket over TLS.
	wantsTLS bool
	// priority is 1 for a fallback Backend.
	priority uint32
	// tls is spec.tls resolved, nil without one (backendkind_tls.go).
	tls *ir.BackendTLS
}

// processBackends validates every Backend up front: its status does not
// depend on who references it, and routes only need the verdict.
func (b *builder) processBackends() {
	for _, be := range b.out.Backends {
		k := nsName{be.Namespace, be.Name}
		if _, dup := b.egBackend[k]; dup {
			continue
		}
		st := b.validateBackend(be)
		b.egBackend[k] = st
		c := newConditions(be.Generation, b.now)
		if st.ok {
			c.set(string(egv1a1.BackendConditionAccepted), true, string(egv1a1.BackendReasonAccepted), "The Backend was accepted")
		} else {
			c.set(string(egv1a1.BackendConditionAccepted), false, string(egv1a1.BackendReasonInvalid), st.msg)
		}
		be.Status.Conditions = c.list
	}
}

// The CRD's patterns for FQDN and endpoint hostnames.
var (
	fqdnPattern     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$`)
	hostnamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// maxUnixPath is the longest socket path the kernel takes (sun_path).
const maxUnixPath = 108

func (b *builder) validateBackend(be *egv1a1.Backend) *backendState {
	st := &backendState{be: be, protocol: ir.ProtocolHTTP1}
	fail := func(format string, a ...any) *backendState {
		st.ok, st.msg, st.endpoints, st.tls = false, fmt.Sprintf(format, a...), nil, nil
		return st
	}
	spec := &be.Spec
	if spec.Type != nil && *spec.Type != egv1a1.BackendTypeEndpoints {
		// DynamicResolver would need Envoy's dynamic forward proxy (a
		// cluster and an HTTP filter resolving each request's Host).
		return fail("spec.type %q is not supported; only Endpoints", *spec.Type)
	}
	if msg := st.appProtocols(spec.AppProtocols); msg != "" {
		return fail("%s", msg)
	}
	if spec.Fallback != nil && *spec.Fallback {
		st.priority = 1
	}
	if len(spec.Endpoints) == 0 {
		return fail("spec.endpoints is empty")
	}
	if len(spec.Endpoints) > 256 {
		return fail("spec.endpoints has %d entries; at most 256", len(spec.Endpoints))
	}
	for i := range spec.Endpoints {
		t, e, msg := backendEndpoint(&spec.Endpoints[i])
		if msg != "" {
			return fail("spec.endpoints[%d]%s", i, msg)
		}
		switch {
		case st.addrType == "" || st.addrType == t:
		case st.addrType != ir.AddressFQDN && t != ir.AddressFQDN:
			// IPs and unix sockets are both static: one EDS cluster
			// holds them, each endpoint with its kind of address.
			t = ir.AddressIP
		default:
			return fail("spec.endpoints mixes DNS names with %s addresses; use one Backend for each", map[ir.AddressType]string{
				ir.AddressIP: "IP", ir.AddressUnix: "unix"}[other(st.addrType, t)])
		}
		st.addrType = t
		st.endpoints = append(st.endpoints, e)
	}
	if st.addrType == ir.AddressIP {
		for i := range st.endpoints {
			if st.endpoints[i].Port == 0 {
				st.endpoints[i].Unix = true // a socket path among IPs
			}
		}
	}
	sortEndpoints(st.endpoints)
	if spec.TLS != nil {
		t, msg := b.backendTLSSettings(be) // backendkind_tls.go
		if msg != "" {
			return fail("spec.tls%s", msg)
		}
		h2 := slices.Contains(t.ALPNProtocols, "h2")
		switch {
		case st.protocol == ir.ProtocolWS && h2:
			return fail("spec.tls.alpnProtocols offers h2, but WebSocket (appProtocols) needs HTTP/1.1")
		case st.protocol == ir.ProtocolHTTP2 && len(t.ALPNProtocols) > 0 && !h2:
			return fail("spec.tls.alpnProtocols does not offer h2, but the Backend speaks HTTP/2 (appProtocols)")
		}
		st.tls = t
	}
	st.ok = true
	return st
}

// appProtocols reads spec.appProtocols: h2c speaks HTTP/2 in clear text,
// ws and wss carry WebSocket upgrades over HTTP/1.1 (wss over TLS).
func (st *backendState) appProtocols(ps []egv1a1.AppProtocolType) string {
	h2, ws := false, false
	for i, p := range ps {
		switch p {
		case egv1a1.AppProtocolTypeH2C:
			h2 = true
		case egv1a1.AppProtocolTypeWS:
			ws = true
		case egv1a1.AppProtocolTypeWSS:
			ws, st.wantsTLS = true, true
		default:
			return fmt.Sprintf("spec.appProtocols[%d]: %q is not supported (gateway.envoyproxy.io/h2c, /ws or /wss)", i, p)
		}
	}
	switch {
	case h2 && ws:
		// WebSocket upgrades need HTTP/1.1 to the backend; an h2c-only
		// cluster could not carry them.
		return "spec.appProtocols: h2c and WebSocket cannot be combined; use one Backend for each"
	case h2:
		st.protocol = ir.ProtocolHTTP2
	case ws:
		st.protocol = ir.ProtocolWS
	}
	return ""
}

// backendEndpoint validates one endpoint; msg, when set, continues the
// field path ("[i]" already written).
func backendEndpoint(ep *egv1a1.BackendEndpoint) (t ir.AddressType, e ir.Endpoint, msg string) {
	n := 0
	if ep.IP != nil {
		n++
		t, e = ir.AddressIP, ir.Endpoint{Host: ep.IP.Address, Port: uint32(ep.IP.Port)}
		ip, err := netip.ParseAddr(ep.IP.Address)
		if err != nil || ip.Zone() != "" {
			return t, e, fmt.Sprintf(".ip.address %q is not an IPv4 or IPv6 address", ep.IP.Address)
		}
		e.Host = ip.String() // one spelling per address: "::1", not "0::1"
	}
	if ep.FQDN != nil {
		n++
		t, e = ir.AddressFQDN, ir.Endpoint{Host: ep.FQDN.Hostname, Port: uint32(ep.FQDN.Port)}
		if len(e.Host) > 253 || !fqdnPattern.MatchString(e.Host) {
			return t, e, fmt.Sprintf(".fqdn.hostname %q is not a lower-case DNS name", e.Host)
		}
		if _, err := netip.ParseAddr(e.Host); err == nil {
			return t, e, fmt.Sprintf(".fqdn.hostname %q is an IP address; use ip", e.Host)
		}
	}
	if ep.Unix != nil {
		n++
		t, e = ir.AddressUnix, ir.Endpoint{Host: ep.Unix.Path}
		if e.Host == "" || len(e.Host) > maxUnixPath {
			return t, e, fmt.Sprintf(".unix.path must have 1 to %d characters", maxUnixPath)
		}
	}
	if n != 1 {
		return t, e, " must set exactly one of ip, fqdn, unix"
	}
	if t != ir.AddressUnix && (e.Port == 0 || e.Port > 65535) {
		return t, e, fmt.Sprintf(": port %d is out of range 1-65535", e.Port)
	}
	if ep.Hostname != nil {
		h := *ep.Hostname
		if len(h) > 253 || !hostnamePattern.MatchString(h) {
			return t, e, fmt.Sprintf(".hostname %q is not a lower-case DNS name", h)
		}
		e.Hostname = h
	}
	if ep.Zone != nil {
		e.Zone = *ep.Zone
	}
	return t, e, ""
}

// resolveBackendKind turns a backendRef to a Backend into an IR backend.
// Backends are not namespaced by port: the port of the reference only
// selects a BackendTLSPolicy by sectionName, as in Envoy Gateway.
func (b *builder) resolveBackendKind(fromKind, ns, name string, port *gwv1.PortNumber, md *ir.Metadata) (*ir.Backend, *refError) {
	st := b.egBackend[nsName{ns, name}]
	if st == nil {
		return nil, &refError{"BackendNotFound", fmt.Sprintf("Backend %s/%s not found", ns, name)}
	}
	if !st.ok {
		return nil, &refError{"BackendNotFound", fmt.Sprintf("Backend %s/%s is invalid: %s", ns, name, st.msg)}
	}
	be := &ir.Backend{AddressType: st.addrType, Endpoints: st.endpoints, Protocol: st.protocol, Metadata: md, Priority: st.priority}
	if fromKind == "TCPRoute" || fromKind == "UDPRoute" {
		// Raw connections and datagrams: no HTTP protocol and no TLS
		// origination (BackendTLSPolicy's scope, kept for Backends too).
		be.Protocol = ir.ProtocolHTTP1
		return be, nil
	}
	section := ""
	if port != nil {
		section = strconv.Itoa(int(*port))
	}
	t, rerr := b.backendKindTLS(st, section) // backendkind_tls.go
	if rerr != nil {
		return nil, rerr
	}
	if t == errBackendTLS {
		be.Endpoints = nil // an unusable BackendTLSPolicy: fail, never plain text
		return be, nil
	}
	be.TLS = t
	return be, nil
}

// other returns whichever of a and b is not FQDN.
func other(a, b ir.AddressType) ir.AddressType {
	if a == ir.AddressFQDN {
		return b
	}
	return a
}
