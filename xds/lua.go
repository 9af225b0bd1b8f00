package xds

import (
	"encoding/json"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/egctl/egctl/ir"
)

const luaFilterType = "envoy.filters.http.lua"

// Lua scripts (EnvoyExtensionPolicy lua): one Lua filter per script, its
// filter context given per route.
func init() {
	register(&feature{
		name: luaFilterType,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			return b.collectExt(h, func(e *ir.ExtensionSettings, add func(*hcmv3.HttpFilter, error)) {
				for _, l := range e.Luas {
					add(b.luaFilter(l))
				}
			})
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Extensions == nil {
				return nil
			}
			for _, l := range r.Extensions.Luas {
				var per proto.Message
				if l.FilterContext != "" {
					ctx, err := luaFilterContext(l.FilterContext)
					if err != nil {
						return fmt.Errorf("lua %s: filter context: %w", l.Name, err)
					}
					per = &luav3.LuaPerRoute{FilterContext: ctx}
				}
				if err := b.enableOnRoute(out, luaFilterType+"/"+l.Name, per); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

func (b *builder) luaFilter(l *ir.Lua) (*hcmv3.HttpFilter, error) {
	return b.extFilter(luaFilterType+"/"+l.Name, l, func() (proto.Message, error) {
		return &luav3.Lua{DefaultSourceCode: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: l.Code},
		}}, nil
	})
}

func luaFilterContext(raw string) (*structpb.Struct, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, err
	}
	return structpb.NewStruct(m)
}
