// Package resource holds the typed input of one translation: every object
// read from the manifests, already converted to the newest API version egctl
// works with, plus where each object came from so errors can point at it.
//
// Nothing here does I/O; manifest fills a Set, translate reads it.
package resource

import (
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Key identifies one object. Group is "" for the core API group.
type Key struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// String renders the key the way kubectl users read it: "Kind ns/name", or
// "Kind name" for cluster-scoped objects.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// Origin is where an object was read from. Line is 1-based; 0 means unknown
// (for example an object built by a test).
type Origin struct {
	File string
	Line int
}

func (o Origin) String() string {
	switch {
	case o.File == "":
		return ""
	case o.Line <= 0:
		return o.File
	default:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	}
}

// Set is the whole input. Slices keep the order objects were read in;
// consumers that need a canonical order sort themselves.
type Set struct {
	// Gateway API (every served version is converted to v1 on load).
	GatewayClasses     []*gwv1.GatewayClass
	Gateways           []*gwv1.Gateway
	ListenerSets       []*gwv1.ListenerSet
	HTTPRoutes         []*gwv1.HTTPRoute
	GRPCRoutes         []*gwv1.GRPCRoute
	TLSRoutes          []*gwv1.TLSRoute
	TCPRoutes          []*gwv1.TCPRoute
	UDPRoutes          []*gwv1.UDPRoute
	ReferenceGrants    []*gwv1.ReferenceGrant
	BackendTLSPolicies []*gwv1.BackendTLSPolicy

	// Kubernetes core.
	Namespaces     []*corev1.Namespace
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMaps     []*corev1.ConfigMap

	// Envoy Gateway extension kinds (gateway.envoyproxy.io/v1alpha1).
	EnvoyProxies           []*egv1a1.EnvoyProxy
	Backends               []*egv1a1.Backend
	ClientTrafficPolicies  []*egv1a1.ClientTrafficPolicy
	BackendTrafficPolicies []*egv1a1.BackendTrafficPolicy
	SecurityPolicies       []*egv1a1.SecurityPolicy
	EnvoyExtensionPolicies []*egv1a1.EnvoyExtensionPolicy
	EnvoyPatchPolicies     []*egv1a1.EnvoyPatchPolicy
	HTTPRouteFilters       []*egv1a1.HTTPRouteFilter

	// Origins records where each object was read. Missing entries are fine.
	Origins map[Key]Origin
}

// Origin returns where the object with key k was read, if known.
func (s *Set) Origin(k Key) Origin {
	if s == nil || s.Origins == nil {
		return Origin{}
	}
	return s.Origins[k]
}

// SetOrigin records where the object with key k was read.
func (s *Set) SetOrigin(k Key, o Origin) {
	if s.Origins == nil {
		s.Origins = make(map[Key]Origin)
	}
	s.Origins[k] = o
}

// API groups used in keys.
const (
	GroupCore         = ""
	GroupGatewayAPI   = "gateway.networking.k8s.io"
	GroupEnvoyGateway = "gateway.envoyproxy.io"
	GroupDiscovery    = "discovery.k8s.io"
)
