package xds

import (
	"fmt"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	otelalv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/open_telemetry/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	reqwithoutqueryv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/formatter/req_without_query/v3"
	otlpcommonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/egctl/egctl/ir"
)

// Access loggers and filters, by the names Envoy registers them under.
const (
	fileAccessLogName     = "envoy.access_loggers.file"
	otelAccessLogName     = "envoy.access_loggers.open_telemetry"
	httpGRPCAccessLogName = "envoy.access_loggers.http_grpc"
	tcpGRPCAccessLogName  = "envoy.access_loggers.tcp_grpc"
	celLogFilterName      = "envoy.access_loggers.extension_filters.cel"
	// otelLogName is the log name Envoy Gateway's OpenTelemetry logs carry.
	otelLogName = "otel_envoy_accesslog"
)

// buildAccessLogs returns the access logs of al that are written where:
// from listeners, from routes (the HCM, tcp_proxy, udp_proxy) or from the
// router for every upstream request. An entry of no type is written from
// routes, and from listeners only for requests no route matched (the
// response flag NR): otherwise a request would be logged twice.
func buildAccessLogs(al *ir.AccessLog, where ir.AccessLogType) ([]*accesslogv3.AccessLog, error) {
	var out []*accesslogv3.AccessLog
	for i, e := range al.Entries {
		if e.Type != where && (e.Type != ir.AccessLogAll || where == ir.AccessLogUpstream) {
			continue
		}
		log, err := buildAccessLog(e, where == ir.AccessLogListener && e.Type == ir.AccessLogAll)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, log)
	}
	return out, nil
}

func buildAccessLog(e *ir.AccessLogEntry, noRouteOnly bool) (*accesslogv3.AccessLog, error) {
	var name string
	var cfg proto.Message
	switch {
	case e.File != nil:
		name = fileAccessLogName
		fl := &filev3.FileAccessLog{Path: e.File.Path}
		format := &corev3.SubstitutionFormatString{}
		switch {
		case e.Text != "":
			text := e.Text
			if !strings.HasSuffix(text, "\n") {
				// Envoy writes the format as is; one entry per line.
				text += "\n"
			}
			format.Format = &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: text}}}
			format.Formatters = formatters(e.Text)
		case len(e.JSON) > 0:
			st := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(e.JSON))}
			all := ""
			for _, f := range e.JSON {
				st.Fields[f.Name] = structpb.NewStringValue(f.Value)
				all += f.Value
			}
			format.Format = &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: st}
			format.Formatters = formatters(all)
		default:
			return nil, fmt.Errorf("file log %s: no format", e.File.Path)
		}
		fl.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: format}
		cfg = fl
	case e.OpenTelemetry != nil:
		name = otelAccessLogName
		o := e.OpenTelemetry
		svc, err := grpcService(o.Service, o.Headers)
		if err != nil {
			return nil, err
		}
		ol := &otelalv3.OpenTelemetryAccessLogConfig{
			CommonConfig: &grpcalsv3.CommonGrpcAccessLogConfig{
				LogName: otelLogName, GrpcService: svc, TransportApiVersion: corev3.ApiVersion_V3,
			},
			ResourceAttributes: keyValues(o.ResourceAttributes),
		}
		all := e.Text
		if e.Text != "" {
			ol.Body = &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: e.Text}}
		}
		if len(e.JSON) > 0 {
			ol.Attributes = keyValues(e.JSON)
			for _, f := range e.JSON {
				all += f.Value
			}
		}
		if o.PodAttributes {
			pod := []*otlpcommonv1.KeyValue{
				{Key: "k8s.namespace.name", Value: &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: "%ENVIRONMENT(ENVOY_POD_NAMESPACE)%"}}},
				{Key: "k8s.pod.name", Value: &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: "%ENVIRONMENT(ENVOY_POD_NAME)%"}}},
			}
			ol.Attributes = &otlpcommonv1.KeyValueList{Values: append(pod, ol.GetAttributes().GetValues()...)}
		}
		ol.Formatters = formatters(all)
		cfg = ol
	case e.ALS != nil:
		a := e.ALS
		svc, err := grpcService(a.Service, nil)
		if err != nil {
			return nil, err
		}
		common := &grpcalsv3.CommonGrpcAccessLogConfig{LogName: a.LogName, GrpcService: svc, TransportApiVersion: corev3.ApiVersion_V3}
		if a.TCP {
			name, cfg = tcpGRPCAccessLogName, &grpcalsv3.TcpGrpcAccessLogConfig{CommonConfig: common}
		} else {
			name, cfg = httpGRPCAccessLogName, &grpcalsv3.HttpGrpcAccessLogConfig{
				CommonConfig:                    common,
				AdditionalRequestHeadersToLog:   a.RequestHeaders,
				AdditionalResponseHeadersToLog:  a.ResponseHeaders,
				AdditionalResponseTrailersToLog: a.ResponseTrailers,
			}
		}
	default:
		return nil, fmt.Errorf("no sink")
	}
	typed, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	filter, err := accessLogFilter(e.Matches, noRouteOnly)
	if err != nil {
		return nil, err
	}
	return &accesslogv3.AccessLog{Name: name, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: typed}, Filter: filter}, nil
}

// accessLogFilter is the AND of the CEL expressions and, for untyped logs
// on listeners, the no-route response flag.
func accessLogFilter(exprs []string, noRouteOnly bool) (*accesslogv3.AccessLogFilter, error) {
	var fs []*accesslogv3.AccessLogFilter
	for _, x := range exprs {
		a, err := toAny(&celv3.ExpressionFilter{Expression: x})
		if err != nil {
			return nil, err
		}
		fs = append(fs, &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{
			ExtensionFilter: &accesslogv3.ExtensionFilter{Name: celLogFilterName, ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: a}},
		}})
	}
	if noRouteOnly {
		fs = append(fs, &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"NR"}},
		}})
	}
	switch len(fs) {
	case 0:
		return nil, nil
	case 1:
		return fs[0], nil
	}
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_AndFilter{AndFilter: &accesslogv3.AndFilter{Filters: fs}}}, nil
}

// formatters are the formatter extensions a format needs: command
// operators outside Envoy's core set.
func formatters(format string) []*corev3.TypedExtensionConfig {
	if !strings.Contains(format, "%REQ_WITHOUT_QUERY") {
		return nil
	}
	a, err := toAny(&reqwithoutqueryv3.ReqWithoutQuery{})
	if err != nil {
		return nil
	}
	return []*corev3.TypedExtensionConfig{{Name: "envoy.formatter.req_without_query", TypedConfig: a}}
}

func keyValues(hs []ir.Header) *otlpcommonv1.KeyValueList {
	if len(hs) == 0 {
		return nil
	}
	out := &otlpcommonv1.KeyValueList{}
	for _, h := range hs {
		out.Values = append(out.Values, &otlpcommonv1.KeyValue{Key: h.Name,
			Value: &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: h.Value}}})
	}
	return out
}

// grpcService calls a collector's cluster through Envoy's gRPC client.
func grpcService(svc *ir.TelemetryService, headers []ir.Header) (*corev3.GrpcService, error) {
	if svc == nil || svc.Destination == nil {
		return nil, fmt.Errorf("no collector")
	}
	g := &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
		ClusterName: svc.Destination.Name, Authority: svc.Authority,
	}}}
	for _, h := range headers {
		g.InitialMetadata = append(g.InitialMetadata, &corev3.HeaderValue{Key: h.Name, Value: h.Value})
	}
	return g, nil
}

// routerWithUpstreamLog returns f (the router) logging every upstream
// request to logs, built once per distinct router config.
func (st *proxyState) routerWithUpstreamLog(f *hcmv3.HttpFilter, logs []*accesslogv3.AccessLog) (*hcmv3.HttpFilter, error) {
	a := f.GetTypedConfig()
	if nf, ok := st.routers[a]; ok {
		return nf, nil
	}
	r := &routerv3.Router{}
	if err := a.UnmarshalTo(r); err != nil {
		return nil, err
	}
	r.UpstreamLog = logs
	r.UpstreamLogOptions = &routerv3.Router_UpstreamAccessLogOptions{FlushUpstreamLogOnUpstreamStream: true}
	na, err := toAny(r)
	if err != nil {
		return nil, err
	}
	nf := &hcmv3.HttpFilter{Name: f.GetName(), ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: na}}
	st.routers[a] = nf
	return nf, nil
}
