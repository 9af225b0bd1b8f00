package ir

// Telemetry of a proxy (EnvoyProxy spec.telemetry): access logs, tracing
// and metrics. Collectors they send to are TelemetryServices: a cluster
// named as Envoy Gateway names it, whose backends translate resolved.

// TelemetryService is a collector a proxy sends logs, spans or metrics to.
type TelemetryService struct {
	// Destination is the cluster ("tracing", "accesslog_otel_0_1",
	// "metrics_otel_0" …) and its resolved backends. gRPC collectors'
	// backends are HTTP/2.
	Destination *RouteDestination
	// Authority is the :authority of gRPC calls; "" lets Envoy pick the
	// cluster name.
	Authority string `json:",omitempty"`
}

// AccessLogType is where an access log is written from.
type AccessLogType string

const (
	// AccessLogAll ("") logs from every route, and from the listener for
	// requests no route matched (Envoy Gateway's default).
	AccessLogAll      AccessLogType = ""
	AccessLogListener AccessLogType = "Listener"
	AccessLogRoute    AccessLogType = "Route"
	AccessLogUpstream AccessLogType = "Upstream"
)

// AccessLog is every access log of a proxy, in the EnvoyProxy's order.
type AccessLog struct {
	Entries []*AccessLogEntry
}

// AccessLogEntry is one sink of one access log setting. Exactly one of
// File, OpenTelemetry and ALS is set.
type AccessLogEntry struct {
	Type AccessLogType `json:",omitempty"`
	// Matches are CEL expressions; a request is logged when all hold.
	Matches []string `json:",omitempty"`
	// Text is the text format (command operators); JSON the fields of the
	// JSON format, sorted by key. A File entry has exactly one of them; an
	// OpenTelemetry entry uses Text as the body and JSON as attributes.
	Text string   `json:",omitempty" ir:"text"`
	JSON []Header `json:",omitempty"`

	File          *FileSink          `json:",omitempty"`
	OpenTelemetry *OpenTelemetrySink `json:",omitempty"`
	ALS           *ALSSink           `json:",omitempty"`
}

// FileSink writes to a file (or /dev/stdout).
type FileSink struct {
	Path string
}

// OpenTelemetrySink sends logs over OTLP/gRPC.
type OpenTelemetrySink struct {
	Service            *TelemetryService
	Headers            []Header `json:",omitempty"`
	ResourceAttributes []Header `json:",omitempty"`
	// PodAttributes adds k8s.namespace.name and k8s.pod.name to every
	// record, read from the ENVOY_POD_NAMESPACE and ENVOY_POD_NAME
	// environment variables (Envoy Gateway's default; its Deployment sets
	// them).
	PodAttributes bool `json:",omitempty"`
}

// ALSSink streams logs to an Envoy gRPC Access Log Service.
type ALSSink struct {
	Service *TelemetryService
	LogName string
	// TCP selects tcp_grpc logs; HTTP logs otherwise.
	TCP              bool     `json:",omitempty"`
	RequestHeaders   []string `json:",omitempty"`
	ResponseHeaders  []string `json:",omitempty"`
	ResponseTrailers []string `json:",omitempty"`
}

// TracingProvider is the span exporter.
type TracingProvider string

const (
	TracingOpenTelemetry TracingProvider = "OpenTelemetry"
	TracingZipkin        TracingProvider = "Zipkin"
	TracingDatadog       TracingProvider = "Datadog"
)

// Tracing is the HCM tracing of every HTTP listener of the proxy.
type Tracing struct {
	Provider TracingProvider
	Service  *TelemetryService
	// ServiceName names the proxy in spans (OpenTelemetry, Datadog).
	ServiceName string
	// RandomSampling is the percentage (0-100) of requests traced without
	// a prior decision; ClientSampling of those the client asks to trace
	// (x-client-trace-id); OverallSampling caps both.
	RandomSampling  float64
	ClientSampling  float64
	OverallSampling float64
	Tags            []ProxyTracingTag `json:",omitempty"`
	// SpanName overrides the operation names (command operators).
	ClientSpanName string `json:",omitempty"`
	ServerSpanName string `json:",omitempty"`
	// OpenTelemetry only.
	Headers            []Header     `json:",omitempty"`
	ResourceAttributes []Header     `json:",omitempty"`
	Sampler            *OTelSampler `json:",omitempty"`
	// Zipkin only.
	Zipkin128BitTraceID       bool `json:",omitempty"`
	ZipkinNoSharedSpanContext bool `json:",omitempty"`
}

// ProxyTracingTag adds a tag to every span: a Literal value, an Environment
// variable, a RequestHeader, or a Value with command operators.
type ProxyTracingTag struct {
	Name          string
	Literal       string `json:",omitempty"`
	Environment   string `json:",omitempty"`
	RequestHeader string `json:",omitempty"`
	Value         string `json:",omitempty"`
	Default       string `json:",omitempty"`
}

// OTelSampler decides which spans the OpenTelemetry tracer records.
type OTelSampler struct {
	// Type is AlwaysOn, AlwaysOff, TraceIdRatio, ParentBasedAlwaysOn,
	// ParentBasedAlwaysOff or ParentBasedTraceIdRatio.
	Type string
	// Numerator/Denominator is the ratio of the TraceIdRatio types
	// (Denominator 0 means 100).
	Numerator   int32 `json:",omitempty"`
	Denominator int32 `json:",omitempty"`
}

// Metrics are the proxy's statistics settings.
type Metrics struct {
	// Prometheus, when set, adds the stats listener that serves
	// /stats/prometheus from the admin interface.
	Prometheus *Prometheus `json:",omitempty"`
	// Sinks push stats over OTLP/gRPC.
	Sinks []*MetricSink `json:",omitempty"`
	// Matches keep only the stats that match one of them (all when empty).
	Matches              []StatMatch `json:",omitempty"`
	VirtualHostStats     bool        `json:",omitempty"`
	PerEndpointStats     bool        `json:",omitempty"`
	RequestResponseSizes bool        `json:",omitempty"`
	GRPCStats            bool        `json:",omitempty"`
	// GRPCStatsSet: enableGRPCStats is given, GRPCStats is the answer;
	// otherwise listeners that serve a GRPCRoute get the filter.
	GRPCStatsSet bool `json:",omitempty"`
	// ClusterStatName is the alt_stat_name pattern of route clusters
	// (%ROUTE_NAME% … operators).
	ClusterStatName string `json:",omitempty"`
}

// Prometheus configures the stats listener.
type Prometheus struct {
	// Compression of the answer: "", Gzip, Brotli or Zstd.
	Compression string `json:",omitempty"`
}

// MetricSink is an OpenTelemetry stats sink; its cluster lives in the
// bootstrap ("otel_metric_sink_N"), as stats sinks start before xDS.
type MetricSink struct {
	Service                  *TelemetryService
	Headers                  []Header `json:",omitempty"`
	ResourceAttributes       []Header `json:",omitempty"`
	ReportCountersAsDeltas   bool     `json:",omitempty"`
	ReportHistogramsAsDeltas bool     `json:",omitempty"`
}

// StatMatch matches a stat name: Type is Exact, Prefix, Suffix or
// RegularExpression.
type StatMatch struct {
	Type  string
	Value string
}
