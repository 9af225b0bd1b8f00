package translate

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// nsName keys every namespaced index.
type nsName struct{ ns, name string }

// builder holds the indexes over one input and the state built from it.
type builder struct {
	opts Options
	now  metav1.Time
	out  *resource.Set // deep copies; statuses are written here

	classes   map[string]bool // names of GatewayClasses we accepted
	gateways  map[nsName]*gatewayState
	gwOrder   []*gatewayState
	nsLabels  map[string]map[string]string
	services  map[nsName]*corev1.Service
	slices    map[nsName][]*discoveryv1.EndpointSlice // by namespace/service
	secrets   map[nsName]*corev1.Secret
	egBackend map[nsName]*backendState
	grants    *grantIndex
	epCache   map[epKey][]ir.Endpoint
	// routes are the HTTPRoutes and GRPCRoutes with a parent of ours, in
	// processing order; their statuses are written last.
	routes []*routeState
	// btls indexes the BackendTLSPolicies (backendtlspolicy.go).
	btls *btlsIndex
	// mergedTLS holds a Backend's TLS merged with a BackendTLSPolicy's
	// (backendkind_tls.go).
	mergedTLS map[mergedTLSKey]*ir.BackendTLS
	// hrfs are the HTTPRouteFilters compiled so far, nil for a missing
	// one (httproutefilter.go).
	hrfs map[nsName]*hrfState
	// warnings collects Result.Warnings (warnings.go).
	warnings []Warning
	// bindIPs is the IP each Gateway asked for in spec.addresses
	// (addresses.go).
	bindIPs map[*gatewayState]string
	// refusedGW are the Gateways refused for their addresses.
	refusedGW map[*gatewayState]string
	// unusableGW are the accepted Gateways whose addresses cannot be used:
	// not programmed, no proxy (addresses.go).
	unusableGW map[*gatewayState]string
	// ourClasses are the GatewayClasses naming our controller, accepted
	// or not; classes holds only the accepted ones (gatewayclass.go).
	ourClasses map[string]bool
	// targets indexes what policies may target (attach.go).
	targets *targetIndex
	// spAuthSt caches SecurityPolicy OIDC and ext-auth settings
	// (sp_extauth_service.go).
	spAuthSt *spAuthState
	// eep is EnvoyExtensionPolicy's state (envoyextensionpolicy_state.go).
	eep *eepState
	// ep indexes the EnvoyProxies (envoyproxy.go).
	ep *epIndex
	// merge is the state of EnvoyProxy mergeBackends, nil when no Gateway
	// merges backends (mergebackends.go).
	merge *mergeState
}

func newBuilder(set *resource.Set, opts Options) *builder {
	b := &builder{
		opts:      opts,
		now:       metav1.NewTime(opts.Now),
		out:       set,
		classes:   map[string]bool{},
		gateways:  map[nsName]*gatewayState{},
		nsLabels:  map[string]map[string]string{},
		services:  make(map[nsName]*corev1.Service, len(set.Services)),
		slices:    map[nsName][]*discoveryv1.EndpointSlice{},
		secrets:   make(map[nsName]*corev1.Secret, len(set.Secrets)),
		egBackend: make(map[nsName]*backendState, len(set.Backends)),
		grants:    newGrantIndex(set.ReferenceGrants),
		epCache:   map[epKey][]ir.Endpoint{},
	}
	for _, ns := range set.Namespaces {
		labels := make(map[string]string, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			labels[k] = v
		}
		// The API server always adds this label; manifests often omit it.
		labels[metadataNameLabel] = ns.Name
		b.nsLabels[ns.Name] = labels
	}
	// First object wins on duplicate keys, matching "first read" order.
	for _, s := range set.Services {
		k := nsName{s.Namespace, s.Name}
		if _, dup := b.services[k]; !dup {
			b.services[k] = s
		}
	}
	for _, es := range set.EndpointSlices {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := nsName{es.Namespace, svc}
		b.slices[k] = append(b.slices[k], es)
	}
	for _, s := range set.Secrets {
		k := nsName{s.Namespace, s.Name}
		if _, dup := b.secrets[k]; !dup {
			b.secrets[k] = s
		}
	}
	return b
}

const metadataNameLabel = "kubernetes.io/metadata.name"

// namespaceLabels returns the labels of a namespace; one with no Namespace
// object in the input carries only the label the API server would add.
func (b *builder) namespaceLabels(ns string) map[string]string {
	if l, ok := b.nsLabels[ns]; ok {
		return l
	}
	return map[string]string{metadataNameLabel: ns}
}

func (b *builder) proxies() []*ir.Proxy {
	var out []*ir.Proxy
	for _, g := range b.gwOrder {
		if g.proxy != nil {
			out = append(out, g.proxy)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return b.mergeGatewayProxies(out) // envoyproxy_merge.go
}

func (b *builder) problems() []Problem {
	ps := &problemSink{set: b.out}
	for _, gc := range b.out.GatewayClasses {
		if b.ourClasses[gc.Name] {
			ps.add(resource.Key{Group: resource.GroupGatewayAPI, Kind: "GatewayClass", Name: gc.Name}, gc.Status.Conditions, "")
		}
	}
	for _, g := range b.gwOrder {
		gw := g.gw
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name}
		ps.add(k, gw.Status.Conditions, "")
		for _, ls := range gw.Status.Listeners {
			ps.add(k, ls.Conditions, "listener "+string(ls.Name)+": ")
		}
	}
	for _, r := range b.out.HTTPRoutes {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name}
		for _, p := range r.Status.Parents {
			if string(p.ControllerName) == b.opts.ControllerName {
				ps.add(k, p.Conditions, "")
			}
		}
	}
	for _, r := range b.out.GRPCRoutes {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "GRPCRoute", Namespace: r.Namespace, Name: r.Name}
		for _, p := range r.Status.Parents {
			if string(p.ControllerName) == b.opts.ControllerName {
				ps.add(k, p.Conditions, "")
			}
		}
	}
	l4 := func(kind, ns, name string, parents []gwv1.RouteParentStatus) {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: kind, Namespace: ns, Name: name}
		for _, p := range parents {
			if string(p.ControllerName) == b.opts.ControllerName {
				ps.add(k, p.Conditions, "")
			}
		}
	}
	for _, r := range b.out.TCPRoutes {
		l4("TCPRoute", r.Namespace, r.Name, r.Status.Parents)
	}
	for _, r := range b.out.TLSRoutes {
		l4("TLSRoute", r.Namespace, r.Name, r.Status.Parents)
	}
	for _, r := range b.out.UDPRoutes {
		l4("UDPRoute", r.Namespace, r.Name, r.Status.Parents)
	}
	for _, ls := range b.out.ListenerSets {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "ListenerSet", Namespace: ls.Namespace, Name: ls.Name}
		ps.add(k, ls.Status.Conditions, "")
		for _, l := range ls.Status.Listeners {
			ps.add(k, l.Conditions, "listener "+string(l.Name)+": ")
		}
	}
	for _, p := range b.out.BackendTLSPolicies {
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "BackendTLSPolicy", Namespace: p.Namespace, Name: p.Name}
		for _, a := range p.Status.Ancestors {
			if string(a.ControllerName) == b.opts.ControllerName {
				ps.add(k, a.Conditions, "")
			}
		}
	}
	for _, be := range b.out.Backends {
		k := resource.Key{Group: resource.GroupEnvoyGateway, Kind: "Backend", Namespace: be.Namespace, Name: be.Name}
		ps.add(k, be.Status.Conditions, "")
	}
	sortProblems(ps.list)
	return ps.list
}

// copySet deep-copies every object so statuses never touch the caller's
// values.
func copySet(in *resource.Set) *resource.Set {
	out := &resource.Set{
		GatewayClasses:         dcAll(in.GatewayClasses),
		Gateways:               dcAll(in.Gateways),
		ListenerSets:           dcAll(in.ListenerSets),
		HTTPRoutes:             dcAll(in.HTTPRoutes),
		GRPCRoutes:             dcAll(in.GRPCRoutes),
		TLSRoutes:              dcAll(in.TLSRoutes),
		TCPRoutes:              dcAll(in.TCPRoutes),
		UDPRoutes:              dcAll(in.UDPRoutes),
		ReferenceGrants:        dcAll(in.ReferenceGrants),
		BackendTLSPolicies:     dcAll(in.BackendTLSPolicies),
		Namespaces:             dcAll(in.Namespaces),
		Services:               dcAll(in.Services),
		EndpointSlices:         dcAll(in.EndpointSlices),
		Secrets:                dcAll(in.Secrets),
		ConfigMaps:             dcAll(in.ConfigMaps),
		EnvoyProxies:           dcAll(in.EnvoyProxies),
		Backends:               dcAll(in.Backends),
		ClientTrafficPolicies:  dcAll(in.ClientTrafficPolicies),
		BackendTrafficPolicies: dcAll(in.BackendTrafficPolicies),
		SecurityPolicies:       dcAll(in.SecurityPolicies),
		EnvoyExtensionPolicies: dcAll(in.EnvoyExtensionPolicies),
		EnvoyPatchPolicies:     dcAll(in.EnvoyPatchPolicies),
		HTTPRouteFilters:       dcAll(in.HTTPRouteFilters),
	}
	if in.Origins != nil {
		out.Origins = make(map[resource.Key]resource.Origin, len(in.Origins))
		for k, v := range in.Origins {
			out.Origins[k] = v
		}
	}
	return out
}

type deepCopier[T any] interface {
	comparable
	DeepCopy() T
}

func dcAll[T deepCopier[T]](in []T) []T {
	if in == nil {
		return nil
	}
	var zero T
	out := make([]T, 0, len(in))
	for _, o := range in {
		if o == zero { // a nil entry stays out rather than crash later
			continue
		}
		out = append(out, o.DeepCopy())
	}
	return out
}
