package manifest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1a3 "sigs.k8s.io/gateway-api/apis/v1alpha3"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	sigsjson "sigs.k8s.io/json"

	"github.com/egctl/egctl/resource"
)

// object is what every decoded API object offers through its ObjectMeta
// and TypeMeta.
type object interface {
	GetName() string
	GetNamespace() string
	SetNamespace(string)
	SetGroupVersionKind(schema.GroupVersionKind)
}

// kindInfo says how to decode one group/version/kind and where the result
// goes in the Set.
type kindInfo struct {
	group, version, kind string
	clusterScoped        bool
	// stored is the version kept in the Set (objects of older versions
	// are converted to it).
	stored string
	decode func(data []byte) (object, []error, error)
	// fresh, for kinds decoded straight into the stored type, returns a
	// new empty object for validate.Doc.Decode (fastload.go).
	fresh func() object
	add   func(*resource.Set, object)
}

func (k *kindInfo) apiVersion() string { return joinGV(k.group, k.version) }

func joinGV(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// splitGV splits an apiVersion ("group/version" or "version").
func splitGV(apiVersion string) (group, version string) {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}

// direct registers a kind decoded straight into the type the Set holds.
func direct[T any, P interface {
	*T
	object
}](group, version, kind string, cluster bool, add func(*resource.Set, P)) *kindInfo {
	return &kindInfo{
		group: group, version: version, kind: kind, clusterScoped: cluster, stored: version,
		decode: func(data []byte) (object, []error, error) {
			p := P(new(T))
			strict, err := sigsjson.UnmarshalStrict(data, p)
			return p, strict, err
		},
		fresh: func() object { return P(new(T)) },
		add:   func(s *resource.Set, o object) { add(s, o.(P)) },
	}
}

// converted registers an older version: it is strict-decoded with its own
// type (so its own schema is enforced), then moved to the stored version
// by a JSON round trip. The round trip is strict too, so a field that has
// no place in the newer version is reported instead of being dropped.
func converted[Old any, T any, P interface {
	*T
	object
}](group, version, kind, stored string, cluster bool, add func(*resource.Set, P)) *kindInfo {
	return &kindInfo{
		group: group, version: version, kind: kind, clusterScoped: cluster, stored: stored,
		decode: func(data []byte) (object, []error, error) {
			old := new(Old)
			strict, err := sigsjson.UnmarshalStrict(data, old)
			if err != nil || len(strict) > 0 {
				return nil, strict, err
			}
			b, err := json.Marshal(old)
			if err != nil {
				return nil, nil, &conversionError{fmt.Sprintf("cannot convert %s/%s to %s: %v", group, version, stored, err)}
			}
			p := P(new(T))
			strict, err = sigsjson.UnmarshalStrict(b, p)
			if err != nil || len(strict) > 0 {
				var msgs []string
				for _, e := range strict {
					msgs = append(msgs, e.Error())
				}
				if err != nil {
					msgs = append(msgs, err.Error())
				}
				return nil, nil, &conversionError{fmt.Sprintf("cannot convert %s/%s to %s: %s", group, version, stored, strings.Join(msgs, "; "))}
			}
			return p, nil, nil
		},
		add: func(s *resource.Set, o object) { add(s, o.(P)) },
	}
}

type conversionError struct{ msg string }

func (e *conversionError) Error() string { return e.msg }

type gvk struct{ group, version, kind string }

// registry maps every accepted group/version/kind to its decoder.
var registry = map[gvk]*kindInfo{}

// ownedGroups are API groups egctl fully understands: an unknown version
// or kind there is a mistake, not something to skip.
var ownedGroups = map[string]bool{
	resource.GroupGatewayAPI:   true,
	resource.GroupEnvoyGateway: true,
}

// ignoredOwnedKinds are kinds of owned groups that egctl deliberately does
// not read (Envoy Gateway's own configuration file).
var ignoredOwnedKinds = map[gvk]bool{
	{resource.GroupEnvoyGateway, "v1alpha1", "EnvoyGateway"}: true,
}

func register(ks ...*kindInfo) {
	for _, k := range ks {
		registry[gvk{k.group, k.version, k.kind}] = k
	}
}

// supportedKinds lists the kinds accepted for one apiVersion, for error
// messages.
func supportedKinds(group, version string) []string {
	var out []string
	for k := range registry {
		if k.group == group && k.version == version {
			out = append(out, k.kind)
		}
	}
	sort.Strings(out)
	return out
}

// supportedVersions lists the versions accepted for group/kind.
func supportedVersions(group, kind string) []string {
	var out []string
	for k := range registry {
		if k.group == group && k.kind == kind {
			out = append(out, joinGV(k.group, k.version))
		}
	}
	sort.Strings(out)
	return out
}

func init() {
	const gw, eg = resource.GroupGatewayAPI, resource.GroupEnvoyGateway

	addGatewayClass := func(s *resource.Set, o *gwv1.GatewayClass) { s.GatewayClasses = append(s.GatewayClasses, o) }
	addGateway := func(s *resource.Set, o *gwv1.Gateway) { s.Gateways = append(s.Gateways, o) }
	addHTTPRoute := func(s *resource.Set, o *gwv1.HTTPRoute) { s.HTTPRoutes = append(s.HTTPRoutes, o) }
	addGRPCRoute := func(s *resource.Set, o *gwv1.GRPCRoute) { s.GRPCRoutes = append(s.GRPCRoutes, o) }
	addTLSRoute := func(s *resource.Set, o *gwv1.TLSRoute) { s.TLSRoutes = append(s.TLSRoutes, o) }
	addTCPRoute := func(s *resource.Set, o *gwv1.TCPRoute) { s.TCPRoutes = append(s.TCPRoutes, o) }
	addUDPRoute := func(s *resource.Set, o *gwv1.UDPRoute) { s.UDPRoutes = append(s.UDPRoutes, o) }
	addRefGrant := func(s *resource.Set, o *gwv1.ReferenceGrant) { s.ReferenceGrants = append(s.ReferenceGrants, o) }
	addBTLS := func(s *resource.Set, o *gwv1.BackendTLSPolicy) {
		s.BackendTLSPolicies = append(s.BackendTLSPolicies, o)
	}

	register(
		// gateway.networking.k8s.io/v1: every kind apis/v1 registers in v1.6.3.
		direct(gw, "v1", "GatewayClass", true, addGatewayClass),
		direct(gw, "v1", "Gateway", false, addGateway),
		direct(gw, "v1", "ListenerSet", false, func(s *resource.Set, o *gwv1.ListenerSet) { s.ListenerSets = append(s.ListenerSets, o) }),
		direct(gw, "v1", "HTTPRoute", false, addHTTPRoute),
		direct(gw, "v1", "GRPCRoute", false, addGRPCRoute),
		direct(gw, "v1", "TLSRoute", false, addTLSRoute),
		direct(gw, "v1", "TCPRoute", false, addTCPRoute),
		direct(gw, "v1", "UDPRoute", false, addUDPRoute),
		direct(gw, "v1", "ReferenceGrant", false, addRefGrant),
		direct(gw, "v1", "BackendTLSPolicy", false, addBTLS),

		// v1beta1
		converted[gwv1b1.GatewayClass](gw, "v1beta1", "GatewayClass", "v1", true, addGatewayClass),
		converted[gwv1b1.Gateway](gw, "v1beta1", "Gateway", "v1", false, addGateway),
		converted[gwv1b1.HTTPRoute](gw, "v1beta1", "HTTPRoute", "v1", false, addHTTPRoute),
		converted[gwv1b1.ReferenceGrant](gw, "v1beta1", "ReferenceGrant", "v1", false, addRefGrant),

		// v1alpha2 (GRPCRoute and ReferenceGrant are no longer served by
		// the v1.6.3 CRDs but their types still exist; old manifests that
		// use them are accepted rather than rejected).
		converted[gwv1a2.GRPCRoute](gw, "v1alpha2", "GRPCRoute", "v1", false, addGRPCRoute),
		converted[gwv1a2.TLSRoute](gw, "v1alpha2", "TLSRoute", "v1", false, addTLSRoute),
		converted[gwv1a2.TCPRoute](gw, "v1alpha2", "TCPRoute", "v1", false, addTCPRoute),
		converted[gwv1a2.UDPRoute](gw, "v1alpha2", "UDPRoute", "v1", false, addUDPRoute),
		converted[gwv1a2.ReferenceGrant](gw, "v1alpha2", "ReferenceGrant", "v1", false, addRefGrant),

		// v1alpha3
		converted[gwv1a3.BackendTLSPolicy](gw, "v1alpha3", "BackendTLSPolicy", "v1", false, addBTLS),
		converted[gwv1a3.TLSRoute](gw, "v1alpha3", "TLSRoute", "v1", false, addTLSRoute),

		// Envoy Gateway extension kinds.
		direct(eg, "v1alpha1", "EnvoyProxy", false, func(s *resource.Set, o *egv1a1.EnvoyProxy) { s.EnvoyProxies = append(s.EnvoyProxies, o) }),
		direct(eg, "v1alpha1", "Backend", false, func(s *resource.Set, o *egv1a1.Backend) { s.Backends = append(s.Backends, o) }),
		direct(eg, "v1alpha1", "ClientTrafficPolicy", false, func(s *resource.Set, o *egv1a1.ClientTrafficPolicy) {
			s.ClientTrafficPolicies = append(s.ClientTrafficPolicies, o)
		}),
		direct(eg, "v1alpha1", "BackendTrafficPolicy", false, func(s *resource.Set, o *egv1a1.BackendTrafficPolicy) {
			s.BackendTrafficPolicies = append(s.BackendTrafficPolicies, o)
		}),
		direct(eg, "v1alpha1", "SecurityPolicy", false, func(s *resource.Set, o *egv1a1.SecurityPolicy) { s.SecurityPolicies = append(s.SecurityPolicies, o) }),
		direct(eg, "v1alpha1", "EnvoyExtensionPolicy", false, func(s *resource.Set, o *egv1a1.EnvoyExtensionPolicy) {
			s.EnvoyExtensionPolicies = append(s.EnvoyExtensionPolicies, o)
		}),
		direct(eg, "v1alpha1", "EnvoyPatchPolicy", false, func(s *resource.Set, o *egv1a1.EnvoyPatchPolicy) {
			s.EnvoyPatchPolicies = append(s.EnvoyPatchPolicies, o)
		}),
		direct(eg, "v1alpha1", "HTTPRouteFilter", false, func(s *resource.Set, o *egv1a1.HTTPRouteFilter) { s.HTTPRouteFilters = append(s.HTTPRouteFilters, o) }),

		// Kubernetes core and discovery.
		direct(resource.GroupCore, "v1", "Namespace", true, func(s *resource.Set, o *corev1.Namespace) { s.Namespaces = append(s.Namespaces, o) }),
		direct(resource.GroupCore, "v1", "Service", false, func(s *resource.Set, o *corev1.Service) { s.Services = append(s.Services, o) }),
		direct(resource.GroupCore, "v1", "Secret", false, func(s *resource.Set, o *corev1.Secret) { s.Secrets = append(s.Secrets, o) }),
		direct(resource.GroupCore, "v1", "ConfigMap", false, func(s *resource.Set, o *corev1.ConfigMap) { s.ConfigMaps = append(s.ConfigMaps, o) }),
		direct(resource.GroupDiscovery, "v1", "EndpointSlice", false, func(s *resource.Set, o *discoveryv1.EndpointSlice) {
			s.EndpointSlices = append(s.EndpointSlices, o)
		}),
	)
}

// gvkOf is the type information objects carry once in the Set.
func gvkOf(k *kindInfo) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: k.group, Version: k.stored, Kind: k.kind}
}
