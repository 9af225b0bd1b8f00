package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/dynamic_modules/v3"
	dmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_modules/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

const dynamicModuleFilterType = "envoy.filters.http.dynamic_modules"

// Dynamic modules (EnvoyExtensionPolicy dynamicModule): one filter per
// module use, loading the shared library the EnvoyProxy allows.
func init() {
	register(&feature{
		name: dynamicModuleFilterType,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			return b.collectExt(h, func(e *ir.ExtensionSettings, add func(*hcmv3.HttpFilter, error)) {
				for _, d := range e.DynamicModules {
					add(b.dynamicModuleFilter(d))
				}
			})
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Extensions == nil {
				return nil
			}
			for _, d := range r.Extensions.DynamicModules {
				if err := b.enableOnRoute(out, dynamicModuleFilterType+"/"+d.Name, nil); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

func (b *builder) dynamicModuleFilter(d *ir.DynamicModule) (*hcmv3.HttpFilter, error) {
	return b.extFilter(dynamicModuleFilterType+"/"+d.Name, d, func() (proto.Message, error) {
		code, err := asyncSource(d.Code)
		if err != nil {
			return nil, err
		}
		if err := b.remoteCluster(d.Code.Remote); err != nil {
			return nil, err
		}
		cfg := &dmfilterv3.DynamicModuleFilter{
			DynamicModuleConfig: &dmv3.DynamicModuleConfig{
				DoNotClose:   d.DoNotClose,
				LoadGlobally: d.LoadGlobally,
				Module:       code,
			},
			FilterName:     d.FilterName,
			TerminalFilter: d.TerminalFilter,
		}
		if d.Config != "" {
			if cfg.FilterConfig, err = toAny(wrapperspb.String(d.Config)); err != nil {
				return nil, err
			}
		}
		return cfg, nil
	})
}
