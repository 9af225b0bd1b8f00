package translate

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// refError is why a backend reference did not resolve: a ResolvedRefs
// reason and a message naming the reference.
type refError struct{ reason, msg string }

// resolveRouteBackend resolves a backendRef (or mirror ref) of an HTTPRoute
// or GRPCRoute. gRPC always needs HTTP/2 upstream, whatever the Service's
// appProtocol says.
func (b *builder) resolveRouteBackend(rs *routeState, ref *gwv1.BackendObjectReference) (*ir.Backend, *refError) {
	be, err := b.resolveBackend(objRef{group: resource.GroupGatewayAPI, kind: rs.kind, namespace: rs.r.Namespace, name: rs.r.Name}, ref)
	if be != nil && rs.kind == "GRPCRoute" {
		be.Protocol = ir.ProtocolHTTP2
	}
	return be, err
}

// resolveBackend turns one backendRef of the route from into an IR backend
// without weight or name.
func (b *builder) resolveBackend(from objRef, ref *gwv1.BackendObjectReference) (*ir.Backend, *refError) {
	group, kind := "", "Service"
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
	name := string(ref.Name)
	switch {
	case group == "" && kind == "Service":
	case group == resource.GroupEnvoyGateway && kind == "Backend":
	default:
		return nil, &refError{"InvalidKind", fmt.Sprintf("backend kind %s is not supported (use Service or %s/Backend)", groupKind(group, kind), resource.GroupEnvoyGateway)}
	}
	if !b.grants.allowed(from, objRef{group: group, kind: kind, namespace: ns, name: name}) {
		return nil, &refError{"RefNotPermitted", fmt.Sprintf("%s %s/%s is in another namespace and no ReferenceGrant allows it", kind, ns, name)}
	}
	md := &ir.Metadata{Kind: kind, Namespace: ns, Name: name}
	if ref.Port != nil {
		md.SectionName = strconv.Itoa(int(*ref.Port))
	}
	if kind == "Backend" {
		return b.resolveBackendKind(from.kind, ns, name, ref.Port, md) // backendkind.go
	}
	if ref.Port == nil {
		return nil, &refError{"BackendNotFound", fmt.Sprintf("Service %s/%s: backendRef port is required", ns, name)}
	}
	svc := b.services[nsName{ns, name}]
	if svc == nil {
		return nil, &refError{"BackendNotFound", fmt.Sprintf("Service %s/%s not found", ns, name)}
	}
	sp, mismatch := servicePort(svc, *ref.Port, from.kind) // serviceport.go
	if mismatch != "" && svc.Spec.Type != corev1.ServiceTypeExternalName {
		return nil, &refError{"BackendNotFound", mismatch}
	}
	if sp == nil && svc.Spec.Type != corev1.ServiceTypeExternalName {
		return nil, &refError{"BackendNotFound", fmt.Sprintf("Service %s/%s has no port %d", ns, name, *ref.Port)}
	}
	be := &ir.Backend{AddressType: ir.AddressIP, Protocol: ir.ProtocolHTTP1, Metadata: md}
	if sp != nil && sp.AppProtocol != nil {
		switch *sp.AppProtocol {
		case "kubernetes.io/h2c":
			be.Protocol = ir.ProtocolHTTP2
		case "kubernetes.io/ws", "kubernetes.io/wss":
			be.Protocol = ir.ProtocolWS
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		be.AddressType = ir.AddressFQDN
		be.Endpoints = []ir.Endpoint{{Host: svc.Spec.ExternalName, Port: uint32(*ref.Port)}}
		if rerr := b.applyBackendTLS(from.kind, be, svc, sp); rerr != nil { // backendtlspolicy.go
			return nil, rerr
		}
		return be, nil
	}
	be.Endpoints = b.serviceEndpoints(svc, sp)
	// TLS to the backend (BackendTLSPolicy); an appProtocol that needs TLS
	// without a policy fails rather than silently downgrading.
	if rerr := b.applyBackendTLS(from.kind, be, svc, sp); rerr != nil { // backendtlspolicy.go
		return nil, rerr
	}
	return be, nil
}

// serviceEndpoints lists the ready endpoints of a Service port. Without any
// EndpointSlice in the input the cluster IP stands in, so manifests written
// for a cluster still compile to something routable.
//
// Results are cached per Service port: many routes share few Services, and
// the endpoints slice is read-only once built.
func (b *builder) serviceEndpoints(svc *corev1.Service, sp *corev1.ServicePort) []ir.Endpoint {
	ck := epKey{svc.Namespace, svc.Name, sp.Port}
	if eps, ok := b.epCache[ck]; ok {
		return eps
	}
	eps := b.computeEndpoints(svc, sp)
	b.epCache[ck] = eps
	return eps
}

type epKey struct {
	ns, name string
	port     int32
}

func (b *builder) computeEndpoints(svc *corev1.Service, sp *corev1.ServicePort) []ir.Endpoint {
	slices, ok := b.slices[nsName{svc.Namespace, svc.Name}]
	if !ok {
		ip := svc.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone || !endpointIP(ip) {
			return nil
		}
		return []ir.Endpoint{{Host: ip, Port: uint32(sp.Port)}}
	}
	seen := map[ir.Endpoint]bool{}
	var out []ir.Endpoint
	for _, es := range slices {
		var port int32 = -1
		for _, p := range es.Ports {
			pn := ""
			if p.Name != nil {
				pn = *p.Name
			}
			if pn == sp.Name && p.Port != nil {
				port = *p.Port
				break
			}
		}
		if port < 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if !endpointIP(a) {
					continue
				}
				e := ir.Endpoint{Host: a, Port: uint32(port)}
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	sortEndpoints(out)
	return out
}

func sortEndpoints(eps []ir.Endpoint) {
	sort.Slice(eps, func(i, j int) bool {
		if eps[i].Host != eps[j].Host {
			return eps[i].Host < eps[j].Host
		}
		return eps[i].Port < eps[j].Port
	})
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// endpointIP reports whether a is an IP address Envoy takes as a static
// endpoint. The API server validates Service and EndpointSlice addresses;
// offline nothing has, and one malformed address (or an FQDN slice) would
// make Envoy refuse the whole configuration, so such an address is
// skipped: its traffic fails closed like any unready endpoint.
func endpointIP(a string) bool {
	ip, err := netip.ParseAddr(a)
	return err == nil && ip.Zone() == ""
}
