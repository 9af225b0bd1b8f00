package translatecmd

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/egctl/egctl/resource"
)

var (
	gatewayV1 = schema.GroupVersion{Group: resource.GroupGatewayAPI, Version: "v1"}
	egV1a1    = schema.GroupVersion{Group: resource.GroupEnvoyGateway, Version: "v1alpha1"}
)

// typed is any API object whose apiVersion/kind can be set.
type typed interface {
	GetObjectKind() schema.ObjectKind
}

// statusSections are the objects that carry a status, under Envoy
// Gateway's keys. Objects are printed with the API version egctl converted
// them to, so apiVersion/kind are set explicitly.
func statusSections(s *resource.Set) ([]section, error) {
	l := &lists{}
	addList(l, "gatewayClasses", gatewayV1.WithKind("GatewayClass"), s.GatewayClasses)
	addList(l, "gateways", gatewayV1.WithKind("Gateway"), s.Gateways)
	addList(l, "listenerSets", gatewayV1.WithKind("ListenerSet"), s.ListenerSets)
	addList(l, "httpRoutes", gatewayV1.WithKind("HTTPRoute"), s.HTTPRoutes)
	addList(l, "grpcRoutes", gatewayV1.WithKind("GRPCRoute"), s.GRPCRoutes)
	addList(l, "tlsRoutes", gatewayV1.WithKind("TLSRoute"), s.TLSRoutes)
	addList(l, "tcpRoutes", gatewayV1.WithKind("TCPRoute"), s.TCPRoutes)
	addList(l, "udpRoutes", gatewayV1.WithKind("UDPRoute"), s.UDPRoutes)
	addList(l, "backendTLSPolicies", gatewayV1.WithKind("BackendTLSPolicy"), s.BackendTLSPolicies)
	addList(l, "backends", egV1a1.WithKind("Backend"), s.Backends)
	addList(l, "envoyProxies", egV1a1.WithKind("EnvoyProxy"), s.EnvoyProxies)
	addList(l, "clientTrafficPolicies", egV1a1.WithKind("ClientTrafficPolicy"), s.ClientTrafficPolicies)
	addList(l, "backendTrafficPolicies", egV1a1.WithKind("BackendTrafficPolicy"), s.BackendTrafficPolicies)
	addList(l, "securityPolicies", egV1a1.WithKind("SecurityPolicy"), s.SecurityPolicies)
	addList(l, "envoyExtensionPolicies", egV1a1.WithKind("EnvoyExtensionPolicy"), s.EnvoyExtensionPolicies)
	addList(l, "envoyPatchPolicies", egV1a1.WithKind("EnvoyPatchPolicy"), s.EnvoyPatchPolicies)
	return l.sections, l.err
}

type lists struct {
	sections []section
	err      error
}

func addList[T typed](l *lists, key string, gvk schema.GroupVersionKind, items []T) {
	if l.err != nil || len(items) == 0 {
		return
	}
	for _, o := range items {
		o.GetObjectKind().SetGroupVersionKind(gvk)
	}
	var b []byte
	b, l.err = json.Marshal(items)
	l.sections = append(l.sections, section{key: key, json: b})
}
