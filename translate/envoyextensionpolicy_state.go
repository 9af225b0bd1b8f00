package translate

import (
	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/resource"
)

// eepState is what EnvoyExtensionPolicy translation keeps per input.
type eepState struct {
	luaChecked map[luaCheck]error
	configMaps map[nsName]*corev1.ConfigMap
}

func (b *builder) eepState() *eepState {
	if b.eep == nil {
		b.eep = &eepState{luaChecked: map[luaCheck]error{}}
	}
	return b.eep
}

// configMap finds a ConfigMap (the first one read wins).
func (b *builder) configMap(ns, name string) *corev1.ConfigMap {
	st := b.eepState()
	if st.configMaps == nil {
		st.configMaps = make(map[nsName]*corev1.ConfigMap, len(b.out.ConfigMaps))
		for _, cm := range b.out.ConfigMaps {
			k := nsName{cm.Namespace, cm.Name}
			if _, dup := st.configMaps[k]; !dup {
				st.configMaps[k] = cm
			}
		}
	}
	return st.configMaps[nsName{ns, name}]
}

// envoyProxyOf is the EnvoyProxy that configures gw's proxy: the Gateway's
// infrastructure.parametersRef, else its GatewayClass's parametersRef.
// Only luaValidation and dynamicModules are read here.
func (b *builder) envoyProxyOf(gw nsName) *egv1a1.EnvoyProxy {
	g := b.gateways[gw]
	if g == nil {
		return nil
	}
	if g.ep != nil && g.ep.object != nil {
		return g.ep.object // resolved and merged (envoyproxy.go)
	}
	find := func(ns, name string) *egv1a1.EnvoyProxy {
		for _, ep := range b.out.EnvoyProxies {
			if ep.Namespace == ns && ep.Name == name {
				return ep
			}
		}
		return nil
	}
	if inf := g.gw.Spec.Infrastructure; inf != nil && inf.ParametersRef != nil {
		p := inf.ParametersRef
		if string(p.Group) == resource.GroupEnvoyGateway && p.Kind == "EnvoyProxy" {
			if ep := find(g.gw.Namespace, p.Name); ep != nil {
				return ep
			}
		}
	}
	for _, gc := range b.out.GatewayClasses {
		if gc.Name != string(g.gw.Spec.GatewayClassName) {
			continue
		}
		p := gc.Spec.ParametersRef
		if p != nil && string(p.Group) == resource.GroupEnvoyGateway && p.Kind == "EnvoyProxy" && p.Namespace != nil {
			return find(string(*p.Namespace), p.Name)
		}
		return nil
	}
	return nil
}
