package xds

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	zstdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.compressor (and the deprecated spec.compression): one compressor
// filter per library, named as Envoy Gateway names them
// (envoy.filters.http.compressor.gzip), disabled on the HCM and enabled by
// the routes that ask for it. The minimum length and "choose first" live in
// the filter, not in the per-route override, so routes that disagree on
// them get a filter each: the first configuration seen on the proxy keeps
// the plain name, others are named …gzip/1, …gzip/2.
const compressorFilterName = "envoy.filters.http.compressor"

func init() {
	register(&feature{name: compressorFilterName, httpFilters: compressorFilters, patchRoute: patchCompressor})
}

// compressorKey is what distinguishes two compressor filters of a library.
type compressorKey struct {
	typ         ir.CompressorType
	minLength   uint32
	chooseFirst bool
}

// compressorNames assigns filter names to compressor configurations, once
// per proxy.
type compressorNames struct {
	names   map[compressorKey]string
	perType map[ir.CompressorType]int
	route   *anypb.Any // the per-route override, the same for every route
}

func (b *builder) compressorNames() *compressorNames {
	return featureState(b, "compressorNames", func() *compressorNames {
		return &compressorNames{names: map[compressorKey]string{}, perType: map[ir.CompressorType]int{}}
	})
}

func (n *compressorNames) name(c *ir.Compressor) string {
	k := compressorKey{c.Type, c.MinContentLength, c.ChooseFirst}
	if s, ok := n.names[k]; ok {
		return s
	}
	s := compressorFilterName + "." + strings.ToLower(string(c.Type))
	if i := n.perType[c.Type]; i > 0 {
		s = fmt.Sprintf("%s/%d", s, i)
	}
	n.perType[c.Type]++
	n.names[k] = s
	return s
}

func compressorFilters(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	names := b.compressorNames()
	seen := map[string]bool{}
	var out []*hcmv3.HttpFilter
	var err error
	h.routes(func(r *ir.HTTPRoute) bool {
		if r.Traffic == nil {
			return true
		}
		for _, c := range r.Traffic.Compressors {
			name := names.name(c)
			if seen[name] {
				continue
			}
			seen[name] = true
			var f *hcmv3.HttpFilter
			if f, err = compressorFilter(name, c); err != nil {
				return false
			}
			out = append(out, f)
		}
		return true
	})
	return out, err
}

func compressorFilter(name string, c *ir.Compressor) (*hcmv3.HttpFilter, error) {
	var lib string
	var msg proto.Message
	switch c.Type {
	case ir.CompressorGzip:
		lib, msg = "envoy.compression.gzip.compressor", &gzipv3.Gzip{}
	case ir.CompressorBrotli:
		lib, msg = "envoy.compression.brotli.compressor", &brotliv3.Brotli{}
	case ir.CompressorZstd:
		lib, msg = "envoy.compression.zstd.compressor", &zstdv3.Zstd{}
	default:
		return nil, fmt.Errorf("unknown compressor %q", c.Type)
	}
	la, err := toAny(msg)
	if err != nil {
		return nil, err
	}
	cfg := &compressorv3.Compressor{
		CompressorLibrary: &corev3.TypedExtensionConfig{Name: lib, TypedConfig: la},
		ChooseFirst:       c.ChooseFirst,
	}
	if c.MinContentLength > 0 {
		cfg.ResponseDirectionConfig = &compressorv3.Compressor_ResponseDirectionConfig{
			CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{MinContentLength: wrapperspb.UInt32(c.MinContentLength)},
		}
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: name, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}

func patchCompressor(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	if r.Traffic == nil || len(r.Traffic.Compressors) == 0 {
		return nil
	}
	names := b.compressorNames()
	if names.route == nil {
		a, err := toAny(&compressorv3.CompressorPerRoute{Override: &compressorv3.CompressorPerRoute_Overrides{
			Overrides: &compressorv3.CompressorOverrides{ResponseDirectionConfig: &compressorv3.ResponseDirectionOverrides{}},
		}})
		if err != nil {
			return err
		}
		names.route = a
	}
	for _, c := range r.Traffic.Compressors {
		setPerFilterConfig(out, names.name(c), names.route)
	}
	// The backend must not compress on its own: Envoy does, in the
	// encoding the client prefers among those configured (as Envoy
	// Gateway does).
	out.RequestHeadersToRemove = append(out.RequestHeadersToRemove, "accept-encoding")
	return nil
}
