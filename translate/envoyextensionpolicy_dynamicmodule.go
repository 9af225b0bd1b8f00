package translate

import (
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// buildDynamicModule translates spec.dynamicModule[i] of owner for the
// proxy of gateway gw: the module must be one the proxy's EnvoyProxy lists
// in spec.dynamicModules (the operator's allowlist), as Envoy Gateway
// requires. Envoy 1.40 loads dynamic modules (envoy.filters.http.dynamic_modules):
// a local shared library by path, or one it downloads and checks by SHA256.
func (b *builder) buildDynamicModule(owner *policy, dm *egv1a1.DynamicModule, i int, gw nsName) (*ir.DynamicModule, error) {
	field := fmt.Sprintf("spec.dynamicModule[%d]", i)
	var entry *egv1a1.DynamicModuleEntry
	ep := b.envoyProxyOf(gw)
	if ep != nil {
		for j := range ep.Spec.DynamicModules {
			if ep.Spec.DynamicModules[j].Name == dm.Name {
				entry = &ep.Spec.DynamicModules[j]
				break
			}
		}
	}
	if entry == nil {
		return nil, fieldErr(field+".name", "dynamic module %q is not registered in the EnvoyProxy dynamicModules allowlist", dm.Name)
	}
	if dm.TerminalFilter != nil && *dm.TerminalFilter {
		// Envoy requires a terminal HTTP filter to be the last one, where
		// the router is; a listener cannot have both, and Envoy refuses the
		// configuration Envoy Gateway generates for it.
		return nil, fieldErr(field+".terminalFilter", "not supported: Envoy accepts a terminal filter only as the last HTTP filter, and the listener's last filter is the router")
	}
	out := &ir.DynamicModule{
		Name:           eepName(owner, "dynamic-module", i),
		Module:         dm.Name,
		TerminalFilter: dm.TerminalFilter != nil && *dm.TerminalFilter,
		DoNotClose:     entry.DoNotClose != nil && *entry.DoNotClose,
		LoadGlobally:   entry.LoadGlobally != nil && *entry.LoadGlobally,
	}
	if dm.FilterName != nil {
		out.FilterName = *dm.FilterName
	}
	if dm.Config != nil && len(dm.Config.Raw) > 0 {
		out.Config = string(dm.Config.Raw)
	}
	src := entry.Source
	typ := egv1a1.LocalDynamicModuleSourceType
	if src.Type != nil && *src.Type != "" {
		typ = *src.Type
	}
	where := fmt.Sprintf("EnvoyProxy %s/%s dynamicModules %q", ep.Namespace, ep.Name, dm.Name)
	switch typ {
	case egv1a1.LocalDynamicModuleSourceType:
		if src.Local == nil || src.Local.Path == "" {
			return nil, fieldErr(field, "%s: source type Local has no local.path", where)
		}
		if src.Local.Path[0] != '/' {
			return nil, fieldErr(field, "%s: local.path %q is not absolute", where, src.Local.Path)
		}
		out.Code = &ir.ExtensionCode{Local: src.Local.Path}
	case egv1a1.RemoteDynamicModuleSourceType:
		if src.Remote == nil {
			return nil, fieldErr(field, "%s: source type Remote has no remote", where)
		}
		from := objRef{group: resource.GroupEnvoyGateway, kind: "EnvoyProxy", namespace: ep.Namespace, name: ep.Name}
		rs, err := b.remoteSource(from, field+" ("+where+" source.remote)", src.Remote.URL, src.Remote.SHA256, nil)
		if err != nil {
			return nil, err
		}
		out.Code = &ir.ExtensionCode{Remote: rs}
	default:
		return nil, fieldErr(field, "%s: unknown source type %q (Local or Remote)", where, typ)
	}
	return out, nil
}
