package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	resdetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	samplersv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/samplers/v3"
	tracingtypev3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Tracer names, as Envoy registers them.
const (
	otelTracerName    = "envoy.tracers.opentelemetry"
	zipkinTracerName  = "envoy.tracers.zipkin"
	datadogTracerName = "envoy.tracers.datadog"
	// zipkinEndpoint is where Zipkin collectors take spans (v2 JSON).
	zipkinEndpoint = "/api/v2/spans"
)

// buildTracing is the HCM tracing of a proxy. Envoy samples a request
// when the client forces it (x-client-trace-id, ClientSampling), else at
// random (RandomSampling), then caps both (OverallSampling); an
// OpenTelemetry sampler, when set, decides alone.
func buildTracing(t *ir.Tracing) (*hcmv3.HttpConnectionManager_Tracing, error) {
	var name string
	var cfg proto.Message
	switch t.Provider {
	case ir.TracingOpenTelemetry:
		name = otelTracerName
		svc, err := grpcService(t.Service, t.Headers)
		if err != nil {
			return nil, err
		}
		oc := &tracev3.OpenTelemetryConfig{GrpcService: svc, ServiceName: t.ServiceName}
		if len(t.ResourceAttributes) > 0 {
			attrs := map[string]string{}
			for _, h := range t.ResourceAttributes {
				attrs[h.Name] = h.Value
			}
			a, err := toAny(&resdetv3.StaticConfigResourceDetectorConfig{Attributes: attrs})
			if err != nil {
				return nil, err
			}
			oc.ResourceDetectors = []*corev3.TypedExtensionConfig{{Name: "envoy.tracers.opentelemetry.resource_detectors.static_config", TypedConfig: a}}
		}
		if t.Sampler != nil {
			s, err := otelSampler(t.Sampler)
			if err != nil {
				return nil, err
			}
			oc.Sampler = s
		}
		cfg = oc
	case ir.TracingZipkin:
		name = zipkinTracerName
		if t.Service == nil || t.Service.Destination == nil {
			return nil, fmt.Errorf("no collector")
		}
		cfg = &tracev3.ZipkinConfig{
			CollectorCluster:         t.Service.Destination.Name,
			CollectorEndpoint:        zipkinEndpoint,
			TraceId_128Bit:           t.Zipkin128BitTraceID,
			SharedSpanContext:        wrapperspb.Bool(!t.ZipkinNoSharedSpanContext),
			CollectorEndpointVersion: tracev3.ZipkinConfig_HTTP_JSON,
		}
	case ir.TracingDatadog:
		name = datadogTracerName
		if t.Service == nil || t.Service.Destination == nil {
			return nil, fmt.Errorf("no collector")
		}
		cfg = &tracev3.DatadogConfig{CollectorCluster: t.Service.Destination.Name, ServiceName: t.ServiceName}
	default:
		return nil, fmt.Errorf("unknown provider %q", t.Provider)
	}
	typed, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	random := t.RandomSampling
	if t.Sampler != nil {
		// The sampler decides; the HCM must not drop requests first.
		random = 100
	}
	out := &hcmv3.HttpConnectionManager_Tracing{
		ClientSampling:    &typev3.Percent{Value: t.ClientSampling},
		RandomSampling:    &typev3.Percent{Value: random},
		OverallSampling:   &typev3.Percent{Value: t.OverallSampling},
		Provider:          &tracev3.Tracing_Http{Name: name, ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: typed}},
		SpawnUpstreamSpan: wrapperspb.Bool(true),
		Operation:         t.ClientSpanName,
		UpstreamOperation: t.ServerSpanName,
	}
	for _, tag := range t.Tags {
		ct := &tracingtypev3.CustomTag{Tag: tag.Name}
		switch {
		case tag.Literal != "":
			ct.Type = &tracingtypev3.CustomTag_Literal_{Literal: &tracingtypev3.CustomTag_Literal{Value: tag.Literal}}
		case tag.Environment != "":
			ct.Type = &tracingtypev3.CustomTag_Environment_{Environment: &tracingtypev3.CustomTag_Environment{Name: tag.Environment, DefaultValue: tag.Default}}
		case tag.RequestHeader != "":
			ct.Type = &tracingtypev3.CustomTag_RequestHeader{RequestHeader: &tracingtypev3.CustomTag_Header{Name: tag.RequestHeader, DefaultValue: tag.Default}}
		default:
			ct.Type = &tracingtypev3.CustomTag_Value{Value: tag.Value}
		}
		out.CustomTags = append(out.CustomTags, ct)
	}
	if err := out.ValidateAll(); err != nil {
		return nil, err
	}
	return out, nil
}

// otelSampler builds the OpenTelemetry sampler extension. AlwaysOff is a
// ratio of zero, as Envoy has no always-off sampler.
func otelSampler(s *ir.OTelSampler) (*corev3.TypedExtensionConfig, error) {
	ratio := func(num, den int32) (*corev3.TypedExtensionConfig, error) {
		fp := &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED}
		if den > 0 {
			fp = fractionOf(num, den)
		}
		a, err := toAny(&samplersv3.TraceIdRatioBasedSamplerConfig{SamplingPercentage: fp})
		if err != nil {
			return nil, err
		}
		return &corev3.TypedExtensionConfig{Name: "envoy.tracers.opentelemetry.samplers.trace_id_ratio_based", TypedConfig: a}, nil
	}
	alwaysOn := func() (*corev3.TypedExtensionConfig, error) {
		a, err := toAny(&samplersv3.AlwaysOnSamplerConfig{})
		if err != nil {
			return nil, err
		}
		return &corev3.TypedExtensionConfig{Name: "envoy.tracers.opentelemetry.samplers.always_on", TypedConfig: a}, nil
	}
	parent := func(w *corev3.TypedExtensionConfig, err error) (*corev3.TypedExtensionConfig, error) {
		if err != nil {
			return nil, err
		}
		a, err := toAny(&samplersv3.ParentBasedSamplerConfig{WrappedSampler: w})
		if err != nil {
			return nil, err
		}
		return &corev3.TypedExtensionConfig{Name: "envoy.tracers.opentelemetry.samplers.parent_based", TypedConfig: a}, nil
	}
	switch s.Type {
	case "AlwaysOn":
		return alwaysOn()
	case "AlwaysOff":
		return ratio(0, 0)
	case "TraceIdRatio":
		return ratio(s.Numerator, s.Denominator)
	case "ParentBasedAlwaysOn":
		return parent(alwaysOn())
	case "ParentBasedAlwaysOff":
		return parent(ratio(0, 0))
	case "ParentBasedTraceIdRatio":
		return parent(ratio(s.Numerator, s.Denominator))
	}
	return nil, fmt.Errorf("unknown sampler %q", s.Type)
}

// fractionOf is num/den as an Envoy fractional percent, exact when den is
// 100, 10,000 or 1,000,000, else rounded to parts per million.
func fractionOf(num, den int32) *typev3.FractionalPercent {
	switch den {
	case 100:
		return &typev3.FractionalPercent{Numerator: uint32(num), Denominator: typev3.FractionalPercent_HUNDRED}
	case 10000:
		return &typev3.FractionalPercent{Numerator: uint32(num), Denominator: typev3.FractionalPercent_TEN_THOUSAND}
	case 1000000:
		return &typev3.FractionalPercent{Numerator: uint32(num), Denominator: typev3.FractionalPercent_MILLION}
	}
	return &typev3.FractionalPercent{Numerator: uint32(int64(num) * 1000000 / int64(den)), Denominator: typev3.FractionalPercent_MILLION}
}
