package translate

import (
	"fmt"
	"math"
	"net"
	"sort"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"github.com/google/cel-go/cel"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// telemetry translates spec.telemetry: access logs, tracing, metrics,
// the request ID's trace handling and health check event logs.
func (t *epTranslator) telemetry(tel *egv1a1.ProxyTelemetry) {
	s := t.cfg.settings
	if tel == nil {
		if t.b.opts.EnvoyGatewayDefaults {
			s.AccessLog = defaultAccessLog()
			s.Metrics = &ir.Metrics{Prometheus: &ir.Prometheus{}}
		}
		return
	}
	t.accessLog(tel.AccessLog)
	t.tracing(tel.Tracing)
	t.metrics(tel.Metrics)
	if tel.RequestID != nil && tel.RequestID.Tracing != nil {
		switch a := *tel.RequestID.Tracing; a {
		case egv1a1.RequestIDExtensionActionPackAndSample:
		case egv1a1.RequestIDExtensionActionSample, egv1a1.RequestIDExtensionActionPack, egv1a1.RequestIDExtensionActionDisable:
			s.RequestID = ir.RequestIDAction(a)
		default:
			t.fail("spec.telemetry.requestID.tracing", "unsupported value %q (PackAndSample, Sample, Pack or Disable)", a)
		}
	}
	t.healthCheckLog(tel.HealthCheckLog)
}

// defaultJSONFields is Envoy Gateway's default JSON access log format.
var defaultJSONFields = sortedHeaders(map[string]string{
	"start_time":                        "%START_TIME%",
	"method":                            "%REQ(:METHOD)%",
	"x-envoy-origin-path":               "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                          "%PROTOCOL%",
	"response_code":                     "%RESPONSE_CODE%",
	"response_flags":                    "%RESPONSE_FLAGS%",
	"response_code_details":             "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details":    "%CONNECTION_TERMINATION_DETAILS%",
	"upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
	"bytes_received":                    "%BYTES_RECEIVED%",
	"bytes_sent":                        "%BYTES_SENT%",
	"duration":                          "%DURATION%",
	"x-envoy-upstream-service-time":     "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"x-forwarded-for":                   "%REQ(X-FORWARDED-FOR)%",
	"user-agent":                        "%REQ(USER-AGENT)%",
	"x-request-id":                      "%REQ(X-REQUEST-ID)%",
	":authority":                        "%REQ(:AUTHORITY)%",
	"upstream_host":                     "%UPSTREAM_HOST%",
	"upstream_cluster":                  "%UPSTREAM_CLUSTER%",
	"upstream_local_address":            "%UPSTREAM_LOCAL_ADDRESS%",
	"downstream_local_address":          "%DOWNSTREAM_LOCAL_ADDRESS%",
	"downstream_remote_address":         "%DOWNSTREAM_REMOTE_ADDRESS%",
	"requested_server_name":             "%REQUESTED_SERVER_NAME%",
	"route_name":                        "%ROUTE_NAME%",
})

// defaultAccessLog is what Envoy Gateway logs when nothing says otherwise:
// JSON with its default fields to standard output, from every route and
// from listeners for requests no route matched.
func defaultAccessLog() *ir.AccessLog {
	return &ir.AccessLog{Entries: []*ir.AccessLogEntry{{File: &ir.FileSink{Path: "/dev/stdout"}, JSON: defaultJSONFields}}}
}

func sortedHeaders(m map[string]string) []ir.Header {
	if len(m) == 0 {
		return nil
	}
	out := make([]ir.Header, 0, len(m))
	for k, v := range m {
		out = append(out, ir.Header{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var celEnv, _ = cel.NewEnv()

func (t *epTranslator) accessLog(al *egv1a1.ProxyAccessLog) {
	s := t.cfg.settings
	if al == nil {
		if t.b.opts.EnvoyGatewayDefaults {
			s.AccessLog = defaultAccessLog()
		}
		return
	}
	if al.Disable != nil && *al.Disable {
		return
	}
	if len(al.Settings) == 0 {
		// The API: "If unspecified, will send default format to stdout."
		s.AccessLog = defaultAccessLog()
		return
	}
	out := &ir.AccessLog{}
	for i, set := range al.Settings {
		path := fmt.Sprintf("spec.telemetry.accessLog.settings[%d]", i)
		var typ ir.AccessLogType
		if set.Type != nil {
			switch *set.Type {
			case egv1a1.ProxyAccessLogTypeListener, egv1a1.ProxyAccessLogTypeRoute, egv1a1.ProxyAccessLogTypeUpstream:
				typ = ir.AccessLogType(*set.Type)
			default:
				t.fail(path+".type", "unsupported value %q (Listener, Route or Upstream)", *set.Type)
			}
		}
		for j, m := range set.Matches {
			if _, iss := celEnv.Parse(m); iss != nil && iss.Err() != nil {
				t.fail(fmt.Sprintf("%s.matches[%d]", path, j), "invalid CEL expression %q: %v", m, iss.Err())
			}
		}
		// The format: JSON unless text alone is given or the type says Text.
		text, jsonFields, isText := "", defaultJSONFields, false
		if f := set.Format; f != nil {
			switch {
			case f.Type != nil && *f.Type == egv1a1.ProxyAccessLogFormatTypeText:
				if f.Text == nil || *f.Text == "" {
					t.fail(path+".format.text", "required for format type Text")
				}
				if f.JSON != nil {
					t.fail(path+".format.json", "must be unset for format type Text")
				}
				isText = true
			case f.Type != nil && *f.Type == egv1a1.ProxyAccessLogFormatTypeJSON:
				if len(f.JSON) == 0 {
					t.fail(path+".format.json", "required for format type JSON")
				}
				if f.Text != nil {
					t.fail(path+".format.text", "must be unset for format type JSON")
				}
			case f.Type != nil:
				t.fail(path+".format.type", "unsupported value %q (Text or JSON)", *f.Type)
			case f.Text == nil && f.JSON == nil:
				t.fail(path+".format", "set text or json")
			case f.Text != nil && f.JSON == nil:
				isText = true
			}
			if f.Text != nil {
				text = *f.Text
			}
			if len(f.JSON) > 0 {
				jsonFields = sortedHeaders(f.JSON)
			}
		}
		if len(set.Sinks) == 0 {
			t.fail(path+".sinks", "name at least one sink")
		}
		for j, sink := range set.Sinks {
			spath := fmt.Sprintf("%s.sinks[%d]", path, j)
			e := &ir.AccessLogEntry{Type: typ, Matches: set.Matches}
			if (sink.File != nil) != (sink.Type == egv1a1.ProxyAccessLogSinkTypeFile) ||
				(sink.OpenTelemetry != nil) != (sink.Type == egv1a1.ProxyAccessLogSinkTypeOpenTelemetry) ||
				(sink.ALS != nil) != (sink.Type == egv1a1.ProxyAccessLogSinkTypeALS) {
				t.fail(spath, "type %q must come with exactly its own field (file, openTelemetry or als)", sink.Type)
				continue
			}
			switch sink.Type {
			case egv1a1.ProxyAccessLogSinkTypeFile:
				if sink.File.Path == "" {
					t.fail(spath+".file.path", "required")
					continue
				}
				e.File = &ir.FileSink{Path: sink.File.Path}
				if isText {
					e.Text = text
				} else {
					e.JSON = jsonFields
				}
			case egv1a1.ProxyAccessLogSinkTypeOpenTelemetry:
				o := sink.OpenTelemetry
				if o.Resources != nil && o.ResourceAttributes != nil {
					t.fail(spath+".openTelemetry", "set resources or resourceAttributes, not both")
				}
				svc := t.service(spath+".openTelemetry", fmt.Sprintf("accesslog_otel_%d_%d", i, j), o.BackendCluster, o.Host, o.Port, true)
				e.OpenTelemetry = &ir.OpenTelemetrySink{Service: svc, Headers: httpHeaders(o.Headers), ResourceAttributes: sortedHeaders(o.GetResourceAttributes()),
					PodAttributes: t.b.opts.EnvoyGatewayDefaults}
				// OpenTelemetry carries a body (text) and attributes (json)
				// side by side; with neither, the default fields are
				// attributes.
				f := set.Format
				if f == nil || f.Type == nil || *f.Type == egv1a1.ProxyAccessLogFormatTypeText {
					e.Text = text
				}
				if f == nil || f.Type == nil || *f.Type == egv1a1.ProxyAccessLogFormatTypeJSON {
					if f != nil && len(f.JSON) > 0 {
						e.JSON = jsonFields
					} else if e.Text == "" {
						e.JSON = defaultJSONFields
					}
				}
			case egv1a1.ProxyAccessLogSinkTypeALS:
				a := sink.ALS
				als := &ir.ALSSink{LogName: t.owner().Namespace + "/" + t.owner().Name}
				if a.LogName != nil {
					als.LogName = *a.LogName
				}
				switch a.Type {
				case egv1a1.ALSEnvoyProxyAccessLogTypeHTTP:
					if a.HTTP != nil {
						als.RequestHeaders, als.ResponseHeaders, als.ResponseTrailers = a.HTTP.RequestHeaders, a.HTTP.ResponseHeaders, a.HTTP.ResponseTrailers
					}
				case egv1a1.ALSEnvoyProxyAccessLogTypeTCP:
					if a.HTTP != nil {
						t.fail(spath+".als.http", "only for type HTTP")
					}
					als.TCP = true
				default:
					t.fail(spath+".als.type", "unsupported value %q (HTTP or TCP)", a.Type)
				}
				als.Service = t.service(spath+".als", fmt.Sprintf("accesslog_als_%d_%d", i, j), a.BackendCluster, nil, 0, true)
				e.ALS = als
			default:
				t.fail(spath+".type", "unsupported value %q (File, OpenTelemetry or ALS)", sink.Type)
				continue
			}
			out.Entries = append(out.Entries, e)
		}
	}
	s.AccessLog = out
}

func httpHeaders(hs []gwv1.HTTPHeader) []ir.Header {
	var out []ir.Header
	for _, h := range hs {
		out = append(out, ir.Header{Name: string(h.Name), Value: h.Value})
	}
	return out
}

// service resolves a collector: backendRefs (Services or Backends, from
// the EnvoyProxy's namespace; elsewhere with a ReferenceGrant), or the
// deprecated host and port. name is the cluster name Envoy Gateway uses.
func (t *epTranslator) service(path, name string, bc egv1a1.BackendCluster, host *string, port int32, grpc bool) *ir.TelemetryService {
	if bc.BackendRef != nil {
		t.fail(path+".backendRef", "not supported; use backendRefs")
		return nil
	}
	if bc.BackendSettings != nil {
		t.fail(path+".backendSettings", "egctl does not apply cluster settings to telemetry collectors yet; remove it")
		return nil
	}
	owner := t.owner()
	md := &ir.Metadata{Kind: "EnvoyProxy", Namespace: owner.Namespace, Name: owner.Name}
	dest := &ir.RouteDestination{Name: name, Metadata: md}
	svc := &ir.TelemetryService{Destination: dest}
	proto := ir.ProtocolHTTP1
	if grpc {
		proto = ir.ProtocolHTTP2
	}
	switch {
	case len(bc.BackendRefs) > 0:
		total := uint64(0)
		for k, ref := range bc.BackendRefs {
			rpath := fmt.Sprintf("%s.backendRefs[%d]", path, k)
			// As in Envoy Gateway, an EnvoyProxy (an operator's object,
			// usually in the controller's namespace) reaches collectors in
			// any namespace without a ReferenceGrant.
			ns := owner.Namespace
			if ref.Namespace != nil && *ref.Namespace != "" {
				ns = string(*ref.Namespace)
			}
			from := objRef{group: resource.GroupEnvoyGateway, kind: "EnvoyProxy", namespace: ns, name: owner.Name}
			if ref.Fallback != nil && *ref.Fallback {
				t.fail(rpath+".fallback", "fallback collectors are not supported")
				continue
			}
			w := uint32(1)
			if ref.Weight != nil {
				w = *ref.Weight
			}
			total += uint64(w)
			if !t.resolve {
				continue
			}
			be, rerr := t.b.resolveBackend(from, &ref.BackendObjectReference)
			if rerr != nil {
				t.fail(rpath, "%s", rerr.msg)
				continue
			}
			if len(be.Endpoints) == 0 {
				t.fail(rpath, "%s %s/%s has no endpoint to send to", be.Metadata.Kind, be.Metadata.Namespace, be.Metadata.Name)
				continue
			}
			be.Protocol = proto
			if t := be.TLS; t != nil && t.AutoSNI && be.Metadata != nil && be.Metadata.Kind == backendKind &&
				be.AddressType == ir.AddressFQDN && len(be.Endpoints) == 1 {
				// A collector's stream has no request Host to take the
				// server name from: the Backend's DNS name is sent and
				// checked (Envoy Gateway's rule, and its spelling).
				nt := *t
				nt.SNI, nt.AutoSNI = be.Endpoints[0].Host, false
				be.TLS = &nt
			}
			be.Name = fmt.Sprintf("%s/backend/%d", name, k)
			be.Weight = w
			dest.Backends = append(dest.Backends, be)
		}
		if total == 0 {
			t.fail(path+".backendRefs", "every weight is 0")
		}
		if len(dest.Backends) > 0 {
			svc.Authority = authorityOf(dest.Backends[0])
		}
	case host != nil && *host != "":
		if port == 0 {
			port = 4317
		}
		if port < 0 || port > 65535 {
			t.fail(path+".port", "%d is out of range", port)
			return nil
		}
		at := ir.AddressFQDN
		if net.ParseIP(*host) != nil {
			at = ir.AddressIP
		}
		dest.Backends = []*ir.Backend{{Name: name + "/backend/0", Weight: 1, AddressType: at, Protocol: proto,
			Endpoints: []ir.Endpoint{{Host: *host, Port: uint32(port)}}, Metadata: md}}
		svc.Authority = *host
	default:
		t.fail(path, "set backendRefs (or the deprecated host)")
		return nil
	}
	return svc
}

// authorityOf is the gRPC authority Envoy Gateway derives for a collector:
// the TLS server name, a DNS name, or the Service's cluster-local name.
func authorityOf(be *ir.Backend) string {
	if be.TLS != nil && be.TLS.SNI != "" {
		return be.TLS.SNI
	}
	if be.AddressType == ir.AddressFQDN && len(be.Endpoints) > 0 {
		return be.Endpoints[0].Host
	}
	if md := be.Metadata; md != nil && md.Name != "" {
		if md.Kind == "Service" {
			return md.Name + "." + md.Namespace + ".svc"
		}
		return md.Name + "." + md.Namespace
	}
	return ""
}

// percent turns a Gateway API fraction into a percentage in [0, 100].
func percent(f *gwv1.Fraction) float64 {
	den := int32(100)
	if f.Denominator != nil {
		den = *f.Denominator
	}
	if den <= 0 {
		return 100
	}
	return math.Max(0, math.Min(100, float64(f.Numerator)*100/float64(den)))
}

func (t *epTranslator) tracing(tr *egv1a1.ProxyTracing) {
	if tr == nil {
		return
	}
	const path = "spec.telemetry.tracing"
	out := &ir.Tracing{RandomSampling: 100, ClientSampling: 0, OverallSampling: 100}
	switch {
	case tr.SamplingRate != nil && tr.SamplingFraction != nil:
		t.fail(path, "set samplingRate or samplingFraction, not both")
	case tr.SamplingRate != nil:
		if *tr.SamplingRate > 100 {
			t.fail(path+".samplingRate", "%d is above 100", *tr.SamplingRate)
		}
		out.RandomSampling = float64(*tr.SamplingRate)
	case tr.SamplingFraction != nil:
		out.RandomSampling = percent(tr.SamplingFraction)
	}
	if tr.ClientSamplingFraction != nil {
		out.ClientSampling = percent(tr.ClientSamplingFraction)
	}
	if tr.OverallSamplingFraction != nil {
		out.OverallSampling = percent(tr.OverallSamplingFraction)
	}
	tags := map[string]ir.ProxyTracingTag{}
	for name, ct := range tr.CustomTags {
		tp := path + ".customTags." + name
		tag := ir.ProxyTracingTag{Name: name}
		switch ct.Type {
		case egv1a1.CustomTagTypeLiteral, "":
			if ct.Literal == nil {
				t.fail(tp+".literal", "required for type Literal")
				continue
			}
			tag.Literal = ct.Literal.Value
		case egv1a1.CustomTagTypeEnvironment:
			if ct.Environment == nil {
				t.fail(tp+".environment", "required for type Environment")
				continue
			}
			tag.Environment = ct.Environment.Name
			if ct.Environment.DefaultValue != nil {
				tag.Default = *ct.Environment.DefaultValue
			}
		case egv1a1.CustomTagTypeRequestHeader:
			if ct.RequestHeader == nil {
				t.fail(tp+".requestHeader", "required for type RequestHeader")
				continue
			}
			tag.RequestHeader = ct.RequestHeader.Name
			if ct.RequestHeader.DefaultValue != nil {
				tag.Default = *ct.RequestHeader.DefaultValue
			}
		default:
			t.fail(tp+".type", "unsupported value %q (Literal, Environment or RequestHeader)", ct.Type)
			continue
		}
		tags[name] = tag
	}
	for name, v := range tr.Tags { // tags win over customTags
		tags[name] = ir.ProxyTracingTag{Name: name, Value: v}
	}
	for _, tag := range tags {
		out.Tags = append(out.Tags, tag)
	}
	sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Name < out.Tags[j].Name })
	if sn := tr.SpanName; sn != nil {
		out.ClientSpanName, out.ServerSpanName = sn.Client, sn.Server
	}
	p := &tr.Provider
	switch p.Type {
	case egv1a1.TracingProviderTypeOpenTelemetry, "":
		out.Provider = ir.TracingOpenTelemetry
	case egv1a1.TracingProviderTypeZipkin:
		out.Provider = ir.TracingZipkin
		if p.ServiceName != nil {
			t.cfg.warnings = append(t.cfg.warnings, epWarning{envoyProxyKey(t.owner()),
				"spec.telemetry.tracing.provider.serviceName has no effect with Zipkin: Envoy names the service after its node cluster (the proxy name)"})
		}
	case egv1a1.TracingProviderTypeDatadog:
		out.Provider = ir.TracingDatadog
	default:
		t.fail(path+".provider.type", "unsupported value %q (OpenTelemetry, Zipkin or Datadog)", p.Type)
	}
	if p.OpenTelemetry != nil {
		if out.Provider != ir.TracingOpenTelemetry {
			t.fail(path+".provider.openTelemetry", "only for type OpenTelemetry")
		}
		out.Headers = httpHeaders(p.OpenTelemetry.Headers)
		out.ResourceAttributes = sortedHeaders(p.OpenTelemetry.ResourceAttributes)
		if sm := p.OpenTelemetry.Sampler; sm != nil {
			os := &ir.OTelSampler{Type: string(sm.Type)}
			switch sm.Type {
			case egv1a1.OTelSamplerTypeAlwaysOn, egv1a1.OTelSamplerTypeAlwaysOff, egv1a1.OTelSamplerTypeParentBasedAlwaysOn, egv1a1.OTelSamplerTypeParentBasedAlwaysOff:
				if sm.SamplingPercentage != nil {
					t.fail(path+".provider.openTelemetry.sampler.samplingPercentage", "only for TraceIdRatio and ParentBasedTraceIdRatio")
				}
			case egv1a1.OTelSamplerTypeTraceIDRatio, egv1a1.OTelSamplerTypeParentBasedTraceIDRatio:
				os.Numerator, os.Denominator = 100, 100
				if f := sm.SamplingPercentage; f != nil {
					os.Numerator, os.Denominator = f.Numerator, 100
					if f.Denominator != nil {
						os.Denominator = *f.Denominator
					}
					if os.Denominator <= 0 || os.Numerator < 0 || os.Numerator > os.Denominator {
						t.fail(path+".provider.openTelemetry.sampler.samplingPercentage", "%d/%d is not a fraction between 0 and 1", os.Numerator, os.Denominator)
					}
				}
			default:
				t.fail(path+".provider.openTelemetry.sampler.type", "unsupported value %q", sm.Type)
			}
			out.Sampler = os
		}
	}
	if z := p.Zipkin; z != nil {
		if out.Provider != ir.TracingZipkin {
			t.fail(path+".provider.zipkin", "only for type Zipkin")
		}
		out.Zipkin128BitTraceID = z.Enable128BitTraceID != nil && *z.Enable128BitTraceID
		out.ZipkinNoSharedSpanContext = z.DisableSharedSpanContext != nil && *z.DisableSharedSpanContext
	}
	if p.ServiceName != nil {
		if *p.ServiceName == "" {
			t.fail(path+".provider.serviceName", "must not be empty")
		}
		out.ServiceName = *p.ServiceName
		t.cfg.tracingNamed = true
	}
	out.Service = t.service(path+".provider", "tracing", p.BackendCluster, p.Host, p.Port, out.Provider == ir.TracingOpenTelemetry)
	t.cfg.settings.Tracing = out
}

func (t *epTranslator) metrics(m *egv1a1.ProxyMetrics) {
	s := t.cfg.settings
	if m == nil {
		if t.b.opts.EnvoyGatewayDefaults {
			s.Metrics = &ir.Metrics{Prometheus: &ir.Prometheus{}}
		}
		return
	}
	const path = "spec.telemetry.metrics"
	out := &ir.Metrics{}
	// As in Envoy Gateway, the Prometheus endpoint is on unless disabled.
	if p := m.Prometheus; p == nil || !p.Disable {
		out.Prometheus = &ir.Prometheus{}
		if p != nil && p.Compression != nil {
			switch c := p.Compression.Type; c {
			case egv1a1.GzipCompressorType, egv1a1.BrotliCompressorType, egv1a1.ZstdCompressorType:
				out.Prometheus.Compression = string(c)
			default:
				t.fail(path+".prometheus.compression.type", "unsupported value %q (Gzip, Brotli or Zstd)", c)
			}
		}
	}
	seen := map[string]bool{}
	for i, sink := range m.Sinks {
		sp := fmt.Sprintf("%s.sinks[%d]", path, i)
		if sink.Type != egv1a1.MetricSinkTypeOpenTelemetry && sink.Type != "" {
			t.fail(sp+".type", "unsupported value %q (OpenTelemetry)", sink.Type)
			continue
		}
		o := sink.OpenTelemetry
		if o == nil {
			t.fail(sp+".openTelemetry", "required for type OpenTelemetry")
			continue
		}
		svc := t.service(sp+".openTelemetry", fmt.Sprintf("otel_metric_sink_%d", len(out.Sinks)), o.BackendCluster, o.Host, o.Port, true)
		if svc == nil {
			continue
		}
		// Two sinks to the same address would double every metric.
		if len(svc.Destination.Backends) > 0 && len(svc.Destination.Backends[0].Endpoints) > 0 {
			ep := svc.Destination.Backends[0].Endpoints[0]
			a := net.JoinHostPort(ep.Host, fmt.Sprint(ep.Port))
			if seen[a] {
				continue
			}
			seen[a] = true
		}
		out.Sinks = append(out.Sinks, &ir.MetricSink{Service: svc, Headers: httpHeaders(o.Headers), ResourceAttributes: sortedHeaders(o.ResourceAttributes),
			ReportCountersAsDeltas: o.ReportCountersAsDeltas != nil && *o.ReportCountersAsDeltas, ReportHistogramsAsDeltas: o.ReportHistogramsAsDeltas != nil && *o.ReportHistogramsAsDeltas})
	}
	for i, mt := range m.Matches {
		typ := egv1a1.StringMatchExact
		if mt.Type != nil {
			typ = *mt.Type
		}
		switch typ {
		case egv1a1.StringMatchExact, egv1a1.StringMatchPrefix, egv1a1.StringMatchSuffix:
		case egv1a1.StringMatchRegularExpression:
			if err := checkEnvoyRegex(mt.Value); err != nil {
				t.fail(fmt.Sprintf("%s.matches[%d].value", path, i), "%v", err)
				continue
			}
		default:
			t.fail(fmt.Sprintf("%s.matches[%d].type", path, i), "unsupported value %q", typ)
			continue
		}
		out.Matches = append(out.Matches, ir.StatMatch{Type: string(typ), Value: mt.Value})
	}
	b := func(p *bool) bool { return p != nil && *p }
	out.VirtualHostStats, out.PerEndpointStats = b(m.EnableVirtualHostStats), b(m.EnablePerEndpointStats)
	out.RequestResponseSizes, out.GRPCStats = b(m.EnableRequestResponseSizesStats), b(m.EnableGRPCStats)
	out.GRPCStatsSet = m.EnableGRPCStats != nil
	if m.ClusterStatName != nil {
		if err := checkClusterStatName(*m.ClusterStatName); err != nil {
			t.fail(path+".clusterStatName", "%v", err)
		}
		out.ClusterStatName = *m.ClusterStatName
	}
	s.Metrics = out
}

func (t *epTranslator) healthCheckLog(h *egv1a1.ProxyHealthCheckLog) {
	if h == nil {
		return
	}
	const path = "spec.telemetry.healthCheckLog"
	out := &ir.ProxyHealthCheckLog{}
	if len(h.Matches) == 0 {
		out.AlwaysLogFailures, out.AlwaysLogSuccess = true, true
	}
	fail, succ := false, false
	for i, m := range h.Matches {
		switch m {
		case egv1a1.ProxyHealthCheckLogEventTypeFailure:
			out.AlwaysLogFailures, fail = true, true
		case egv1a1.ProxyHealthCheckLogEventTypeFailureSeriesStart:
			fail = true
		case egv1a1.ProxyHealthCheckLogEventTypeSuccess:
			out.AlwaysLogSuccess, succ = true, true
		case egv1a1.ProxyHealthCheckLogEventTypeHealthyTransition:
			succ = true
		default:
			t.fail(fmt.Sprintf("%s.matches[%d]", path, i), "unsupported value %q", m)
		}
	}
	if len(h.Matches) > 0 && fail != succ {
		t.fail(path+".matches", "name a failure type and a success type together")
	}
	for i, sink := range h.Sinks {
		if sink.Type != egv1a1.ProxyHealthCheckLogSinkTypeFile || sink.File == nil || sink.File.Path == "" {
			t.fail(fmt.Sprintf("%s.sinks[%d]", path, i), "only type File with file.path is supported")
			continue
		}
		out.Paths = append(out.Paths, sink.File.Path)
	}
	if len(h.Sinks) == 0 {
		out.Paths = []string{"/dev/stdout"}
	}
	t.cfg.settings.HealthCheckLog = out
}

// clusterStatOperators are the operators clusterStatName may use.
var clusterStatOperators = map[string]bool{
	"%ROUTE_NAME%": true, "%ROUTE_NAMESPACE%": true, "%ROUTE_KIND%": true,
	"%ROUTE_RULE_NAME%": true, "%ROUTE_RULE_NUMBER%": true, "%BACKEND_REFS%": true,
}

func checkClusterStatName(s string) error {
	rest := s
	for {
		i := indexByte(rest, '%')
		if i < 0 {
			return nil
		}
		j := indexByte(rest[i+1:], '%')
		if j < 0 {
			return fmt.Errorf("%q has an unterminated %% operator", s)
		}
		op := rest[i : i+j+2]
		if !clusterStatOperators[op] {
			return fmt.Errorf("unsupported operator %s (supported: %%ROUTE_NAME%%, %%ROUTE_NAMESPACE%%, %%ROUTE_KIND%%, %%ROUTE_RULE_NAME%%, %%ROUTE_RULE_NUMBER%%, %%BACKEND_REFS%%)", op)
		}
		rest = rest[i+j+2:]
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
