package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

const extProcFilterType = "envoy.filters.http.ext_proc"

// External processors (EnvoyExtensionPolicy extProc): one ext_proc filter
// per processor, calling its gRPC cluster.
func init() {
	register(&feature{
		name: extProcFilterType,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			return b.collectExt(h, func(e *ir.ExtensionSettings, add func(*hcmv3.HttpFilter, error)) {
				for _, ep := range e.ExtProcs {
					add(b.extProcFilter(ep))
				}
			})
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Extensions == nil {
				return nil
			}
			for _, ep := range r.Extensions.ExtProcs {
				if err := b.enableOnRoute(out, extProcFilterType+"/"+ep.Name, nil); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

func (b *builder) extProcFilter(ep *ir.ExtProc) (*hcmv3.HttpFilter, error) {
	return b.extFilter(extProcFilterType+"/"+ep.Name, ep, func() (proto.Message, error) {
		d := ep.Destination
		if err := b.addServiceCluster(d); err != nil {
			return nil, err
		}
		return extProcConfig(ep), nil
	})
}

func extProcConfig(ep *ir.ExtProc) *extprocv3.ExternalProcessor {
	cfg := &extprocv3.ExternalProcessor{
		GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
				ClusterName: ep.Destination.Name,
				Authority:   ep.Authority,
			}},
			Timeout: durationpb.New(extServiceTimeout),
		},
		ProcessingMode:     processingMode(ep),
		FailureModeAllow:   ep.FailOpen,
		ObservabilityMode:  ep.Observability,
		RequestAttributes:  append([]string(nil), ep.RequestAttributes...),
		ResponseAttributes: append([]string(nil), ep.ResponseAttributes...),
		AllowModeOverride:  ep.AllowModeOverride,
	}
	if ep.MessageTimeout > 0 {
		cfg.MessageTimeout = durationpb.New(ep.MessageTimeout)
	}
	if ep.StatusOnError != 0 {
		cfg.StatusOnError = &typev3.HttpStatus{Code: typev3.StatusCode(ep.StatusOnError)}
	}
	if len(ep.ForwardingNamespaces)+len(ep.ReceivingNamespaces) > 0 {
		mo := &extprocv3.MetadataOptions{}
		if len(ep.ForwardingNamespaces) > 0 {
			mo.ForwardingNamespaces = &extprocv3.MetadataOptions_MetadataNamespaces{Untyped: append([]string(nil), ep.ForwardingNamespaces...)}
		}
		if len(ep.ReceivingNamespaces) > 0 {
			mo.ReceivingNamespaces = &extprocv3.MetadataOptions_MetadataNamespaces{Untyped: append([]string(nil), ep.ReceivingNamespaces...)}
		}
		cfg.MetadataOptions = mo
	}
	return cfg
}

// processingMode sends nothing unless asked: headers when the direction is
// listed, bodies in the mode given, trailers with full-duplex streaming
// (which needs them to know where the body ends).
func processingMode(ep *ir.ExtProc) *extprocv3.ProcessingMode {
	pm := &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SKIP,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SKIP,
		RequestBodyMode:     bodyMode(ep.RequestBody),
		ResponseBodyMode:    bodyMode(ep.ResponseBody),
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
	if ep.RequestHeaders {
		pm.RequestHeaderMode = extprocv3.ProcessingMode_SEND
	}
	if ep.ResponseHeaders {
		pm.ResponseHeaderMode = extprocv3.ProcessingMode_SEND
	}
	if ep.RequestBody == ir.BodyFullDuplexStreamed {
		pm.RequestTrailerMode = extprocv3.ProcessingMode_SEND
	}
	if ep.ResponseBody == ir.BodyFullDuplexStreamed {
		pm.ResponseTrailerMode = extprocv3.ProcessingMode_SEND
	}
	return pm
}

func bodyMode(m ir.ExtProcBodyMode) extprocv3.ProcessingMode_BodySendMode {
	switch m {
	case ir.BodyStreamed:
		return extprocv3.ProcessingMode_STREAMED
	case ir.BodyBuffered:
		return extprocv3.ProcessingMode_BUFFERED
	case ir.BodyBufferedPartial:
		return extprocv3.ProcessingMode_BUFFERED_PARTIAL
	case ir.BodyFullDuplexStreamed:
		return extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED
	}
	return extprocv3.ProcessingMode_NONE
}
