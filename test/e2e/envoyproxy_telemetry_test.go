package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	accesslogdatav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	logsv1 "go.opentelemetry.io/proto/otlp/logs/v1"
	metricsv1 "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Collectors written here, against the real wire protocols: an OTLP/gRPC
// receiver (traces, logs, metrics) and a Zipkin v2 JSON receiver. Envoy
// sends to them what the EnvoyProxy's telemetry asks for.

// otlpReceiver is an OTLP/gRPC collector on a loopback port. The export
// requests carry one repeated field 1 (resource spans, logs or metrics),
// which is the wire form of the TracesData, LogsData and MetricsData
// messages it decodes them into; answers are empty, as a collector's are.
type otlpReceiver struct {
	Port    int
	mu      sync.Mutex
	spans   []*tracev1.ResourceSpans
	logs    []*logsv1.ResourceLogs
	metrics []*metricsv1.ResourceMetrics
	headers []metadata.MD
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{Port: l.Addr().(*net.TCPAddr).Port}
	s := grpc.NewServer()
	for _, svc := range []struct {
		name string
		msg  func() proto.Message
		add  func(proto.Message)
	}{
		{"opentelemetry.proto.collector.trace.v1.TraceService", func() proto.Message { return &tracev1.TracesData{} },
			func(m proto.Message) { r.spans = append(r.spans, m.(*tracev1.TracesData).ResourceSpans...) }},
		{"opentelemetry.proto.collector.logs.v1.LogsService", func() proto.Message { return &logsv1.LogsData{} },
			func(m proto.Message) { r.logs = append(r.logs, m.(*logsv1.LogsData).ResourceLogs...) }},
		{"opentelemetry.proto.collector.metrics.v1.MetricsService", func() proto.Message { return &metricsv1.MetricsData{} },
			func(m proto.Message) { r.metrics = append(r.metrics, m.(*metricsv1.MetricsData).ResourceMetrics...) }},
	} {
		svc := svc
		s.RegisterService(&grpc.ServiceDesc{
			ServiceName: svc.name,
			HandlerType: (*any)(nil),
			Methods: []grpc.MethodDesc{{MethodName: "Export", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				m := svc.msg()
				if err := dec(m); err != nil {
					return nil, err
				}
				r.mu.Lock()
				svc.add(m)
				if md, ok := metadata.FromIncomingContext(ctx); ok {
					r.headers = append(r.headers, md)
				}
				r.mu.Unlock()
				return &emptypb.Empty{}, nil
			}}},
		}, r)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return r
}

// waitFor polls until cond holds on the receiver's data.
func (r *otlpReceiver) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	Eventually(t, 20*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !cond() {
			return fmt.Errorf("the OTLP receiver has not received %s yet (%d resource spans, %d resource logs, %d resource metrics)",
				what, len(r.spans), len(r.logs), len(r.metrics))
		}
		return nil
	})
}

func attr(kvs []*commonv1.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// zipkinReceiver takes Zipkin v2 JSON spans on /api/v2/spans.
type zipkinReceiver struct {
	*HTTPBackend
	mu    sync.Mutex
	spans []zipkinSpan
}

type zipkinSpan struct {
	TraceID       string            `json:"traceId"`
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Tags          map[string]string `json:"tags"`
	LocalEndpoint struct {
		ServiceName string `json:"serviceName"`
	} `json:"localEndpoint"`
}

func startZipkinReceiver(t *testing.T) *zipkinReceiver {
	z := &zipkinReceiver{}
	z.HTTPBackend = StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/spans" {
			http.NotFound(w, r)
			return
		}
		var spans []zipkinSpan
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &spans); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		z.mu.Lock()
		z.spans = append(z.spans, spans...)
		z.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	return z
}

// flushNow makes Envoy export every span and stat at once instead of in
// batches of five every few seconds: a bootstrap Merge of the runtime
// (itself one more thing the tests check the EnvoyProxy does).
const flushNow = `  bootstrap:
    type: Merge
    value: |
      stats_flush_interval: 0.5s
      layered_runtime:
        layers:
        - name: egctl-e2e-flush
          static_layer:
            tracing.opentelemetry.min_flush_spans: 1
            tracing.opentelemetry.flush_interval_ms: 200
            tracing.zipkin.min_flush_spans: 1
            tracing.zipkin.flush_interval_ms: 200`

// TestEnvoyProxyTracingOpenTelemetry: every request is traced (samplingFraction
// 1/1) and the spans reach an OTLP/gRPC collector with the service name,
// the tags and the export headers asked for.
func TestEnvoyProxyTracingOpenTelemetry(t *testing.T) {
	envoyTest(t)
	otlp := startOTLPReceiver(t)
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := fmt.Sprintf(`  telemetry:
    tracing:
      samplingFraction: {numerator: 1, denominator: 1}
      customTags:
        env: {type: Literal, literal: {value: e2e}}
        user: {type: RequestHeader, requestHeader: {name: x-user, defaultValue: nobody}}
      provider:
        type: OpenTelemetry
        serviceName: egctl-e2e-gateway
        backendRefs: [{name: otel, port: %d}]
        openTelemetry:
          headers: [{name: x-tenant, value: e2e}]
          resourceAttributes: {deployment.environment: test}
`, otlp.Port) + flushNow
	epDeploy(t, epManifests(spec, port, staticService("otel", otlp.Port)+staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))
	if code, _, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/traced", port), "www.example.com", "x-user", "alice"); code != 200 {
		t.Fatalf("request: %d", code)
	}
	var server *tracev1.Span
	var res []*commonv1.KeyValue
	otlp.waitFor(t, "the request's server span", func() bool {
		for _, rs := range otlp.spans {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					if s.GetKind() == tracev1.Span_SPAN_KIND_SERVER {
						server, res = s, rs.GetResource().GetAttributes()
					}
				}
			}
		}
		return server != nil
	})
	if got := attr(res, "service.name"); got != "egctl-e2e-gateway" {
		t.Errorf("resource service.name %q", got)
	}
	if got := attr(res, "deployment.environment"); got != "test" {
		t.Errorf("resource deployment.environment %q", got)
	}
	if a := server.GetAttributes(); attr(a, "env") != "e2e" || attr(a, "user") != "alice" {
		t.Errorf("span tags env=%q user=%q", attr(a, "env"), attr(a, "user"))
	}
	otlp.mu.Lock()
	defer otlp.mu.Unlock()
	if len(otlp.headers) == 0 || strings.Join(otlp.headers[0]["x-tenant"], ",") != "e2e" {
		t.Errorf("export headers %v", otlp.headers)
	}
}

// TestEnvoyProxyTracingZipkin: spans reach a Zipkin collector as v2 JSON,
// with the literal tag, sampled by samplingRate 100.
func TestEnvoyProxyTracingZipkin(t *testing.T) {
	envoyTest(t)
	zk := startZipkinReceiver(t)
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := fmt.Sprintf(`  telemetry:
    tracing:
      samplingRate: 100
      customTags: {env: {type: Literal, literal: {value: e2e}}}
      provider:
        type: Zipkin
        backendRefs: [{name: zipkin, port: %d}]
        zipkin: {enable128BitTraceId: true}
`, zk.Port) + flushNow
	epDeploy(t, epManifests(spec, port, staticService("zipkin", zk.Port)+staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))
	if code, _, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/zipkin", port), "www.example.com"); code != 200 {
		t.Fatalf("request: %d", code)
	}
	Eventually(t, 20*time.Second, func() error {
		zk.mu.Lock()
		defer zk.mu.Unlock()
		for _, s := range zk.spans {
			if s.Kind == "SERVER" {
				if s.Tags["env"] != "e2e" || len(s.TraceID) != 32 || s.LocalEndpoint.ServiceName != "default/gw" {
					return fmt.Errorf("server span %+v: want tag env=e2e, a 128-bit trace ID and service default/gw", s)
				}
				return nil
			}
		}
		return fmt.Errorf("no server span among %d received", len(zk.spans))
	})
}

// TestEnvoyProxyOpenTelemetryLogsAndMetrics: an OpenTelemetry access log
// sink and an OpenTelemetry stat sink deliver to an OTLP collector: the log
// record of the request with its attributes, and Envoy's stats.
func TestEnvoyProxyOpenTelemetryLogsAndMetrics(t *testing.T) {
	envoyTest(t)
	otlp := startOTLPReceiver(t)
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := fmt.Sprintf(`  telemetry:
    accessLog:
      settings:
      - format: {type: JSON, json: {method: "%%REQ(:METHOD)%%", path: "%%REQ(:PATH)%%", code: "%%RESPONSE_CODE%%"}}
        sinks:
        - type: OpenTelemetry
          openTelemetry:
            backendRefs: [{name: otel, port: %[1]d}]
            resourceAttributes: {service.name: egctl-e2e-logs}
    metrics:
      prometheus: {disable: true}
      sinks: [{type: OpenTelemetry, openTelemetry: {host: 127.0.0.1, port: %[1]d}}]
`, otlp.Port) + flushNow
	epDeploy(t, epManifests(spec, port, staticService("otel", otlp.Port)+staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))
	if code, _, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/logged", port), "www.example.com"); code != 200 {
		t.Fatalf("request: %d", code)
	}
	otlp.waitFor(t, "the request's log record", func() bool {
		for _, rl := range otlp.logs {
			if attr(rl.GetResource().GetAttributes(), "service.name") != "egctl-e2e-logs" {
				continue
			}
			for _, sl := range rl.GetScopeLogs() {
				for _, lr := range sl.GetLogRecords() {
					if attr(lr.GetAttributes(), "path") == "/logged" && attr(lr.GetAttributes(), "method") == "GET" && attr(lr.GetAttributes(), "code") == "200" {
						return true
					}
				}
			}
		}
		return false
	})
	otlp.waitFor(t, "Envoy's stats", func() bool {
		for _, rm := range otlp.metrics {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					if m.GetName() == "server.live" {
						return true
					}
				}
			}
		}
		return false
	})
}

// alsReceiver is an Envoy gRPC Access Log Service (envoy.service.accesslog.v3).
type alsReceiver struct {
	alsv3.UnimplementedAccessLogServiceServer
	Port    int
	mu      sync.Mutex
	logName []string
	entries []*accesslogdatav3.HTTPAccessLogEntry
}

func (a *alsReceiver) StreamAccessLogs(s alsv3.AccessLogService_StreamAccessLogsServer) error {
	for {
		m, err := s.Recv()
		if err != nil {
			return nil
		}
		a.mu.Lock()
		if id := m.GetIdentifier(); id != nil {
			a.logName = append(a.logName, id.GetLogName())
		}
		a.entries = append(a.entries, m.GetHttpLogs().GetLogEntry()...)
		a.mu.Unlock()
	}
}

func startALSReceiver(t *testing.T) *alsReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &alsReceiver{Port: l.Addr().(*net.TCPAddr).Port}
	s := grpc.NewServer()
	alsv3.RegisterAccessLogServiceServer(s, a)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return a
}

// TestEnvoyProxyALSUpstreamLog: an ALS sink of type Upstream streams one
// HTTP log entry per upstream request, from the router, with the log name
// and the request header asked for.
func TestEnvoyProxyALSUpstreamLog(t *testing.T) {
	envoyTest(t)
	als := startALSReceiver(t)
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := fmt.Sprintf(`  telemetry:
    accessLog:
      settings:
      - type: Upstream
        sinks:
        - type: ALS
          als:
            type: HTTP
            logName: egctl-upstream
            backendRefs: [{name: als, port: %d}]
            http: {requestHeaders: [x-trace-me]}`, als.Port)
	epDeploy(t, epManifests(spec, port, staticService("als", als.Port)+staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))
	if code, _, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/upstream-logged", port), "www.example.com", "x-trace-me", "yes"); code != 200 {
		t.Fatalf("request: %d", code)
	}
	Eventually(t, 20*time.Second, func() error {
		als.mu.Lock()
		defer als.mu.Unlock()
		for _, e := range als.entries {
			if e.GetRequest().GetPath() == "/upstream-logged" {
				if got := e.GetRequest().GetRequestHeaders()["x-trace-me"]; got != "yes" {
					return fmt.Errorf("entry without the asked header: %v", e.GetRequest().GetRequestHeaders())
				}
				if e.GetCommonProperties().GetUpstreamCluster() != "httproute/default/app/rule/0" {
					return fmt.Errorf("upstream cluster %q", e.GetCommonProperties().GetUpstreamCluster())
				}
				if len(als.logName) == 0 || als.logName[0] != "egctl-upstream" {
					return fmt.Errorf("log name %v", als.logName)
				}
				return nil
			}
		}
		return fmt.Errorf("no entry for /upstream-logged among %d", len(als.entries))
	})
}
