package xds

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// TestHealthCheckLogOnClusters: whichever feature added health checks to
// a cluster, the EnvoyProxy's health check log goes on them.
func TestHealthCheckLogOnClusters(t *testing.T) {
	cfg := oneRoute(prefixRoute("r", "/"))
	p := cfg.Proxies[0]
	p.Settings = &ir.ProxySettings{HealthCheckLog: &ir.ProxyHealthCheckLog{Paths: []string{"/dev/stdout"}, AlwaysLogFailures: true}}
	b := &builder{proxy: p, res: &Resources{Name: p.Name, settings: p.Settings},
		clusters: map[string]*clusterv3.Cluster{}, endpoints: map[string]*endpointv3.ClusterLoadAssignment{}, secrets: map[string]*tlsv3.Secret{}}
	withHC := &clusterv3.Cluster{Name: "checked", HealthChecks: []*corev3.HealthCheck{{}}}
	b.res.Clusters = []*clusterv3.Cluster{{Name: "plain"}, withHC}
	if err := epFinish(b, p); err != nil {
		t.Fatal(err)
	}
	hc := withHC.HealthChecks[0]
	if len(hc.EventLogger) != 1 || hc.EventLogger[0].GetName() != "envoy.health_check.event_sink.file" || !hc.AlwaysLogHealthCheckFailures || hc.AlwaysLogHealthCheckSuccess {
		t.Errorf("health check %v", hc)
	}
}

// TestTracingProviders: every provider and OpenTelemetry sampler builds a
// configuration that passes Envoy's validation rules.
func TestTracingProviders(t *testing.T) {
	svc := &ir.TelemetryService{Destination: dest("tracing", ipBackend("tracing/backend/0", 1, 4317))}
	for _, tr := range []*ir.Tracing{
		{Provider: ir.TracingDatadog, Service: svc, ServiceName: "edge", RandomSampling: 10, OverallSampling: 100},
		{Provider: ir.TracingZipkin, Service: svc, RandomSampling: 100, OverallSampling: 100},
		{Provider: ir.TracingOpenTelemetry, Service: svc, RandomSampling: 1, OverallSampling: 100, Sampler: &ir.OTelSampler{Type: "AlwaysOff"}},
		{Provider: ir.TracingOpenTelemetry, Service: svc, OverallSampling: 100, Sampler: &ir.OTelSampler{Type: "ParentBasedTraceIdRatio", Numerator: 1, Denominator: 3}},
		{Provider: ir.TracingOpenTelemetry, Service: svc, OverallSampling: 100, Sampler: &ir.OTelSampler{Type: "ParentBasedAlwaysOn"}},
	} {
		got, err := buildTracing(tr)
		if err != nil {
			t.Errorf("%s %+v: %v", tr.Provider, tr.Sampler, err)
			continue
		}
		if tr.Sampler != nil && got.GetRandomSampling().GetValue() != 100 {
			t.Errorf("with a sampler the HCM must not pre-sample: %v", got.GetRandomSampling())
		}
	}
	if f := fractionOf(1, 3); f.GetNumerator() != 333333 || f.GetDenominator().String() != "MILLION" {
		t.Errorf("1/3 = %v", f)
	}
}

// TestAccessLogPlacement: untyped logs are written by routes, and by
// listeners only for requests no route matched; typed ones only where
// their type says.
func TestAccessLogPlacement(t *testing.T) {
	al := &ir.AccessLog{Entries: []*ir.AccessLogEntry{
		{File: &ir.FileSink{Path: "/dev/stdout"}, Text: "all"},
		{Type: ir.AccessLogListener, File: &ir.FileSink{Path: "/dev/stdout"}, Text: "listener"},
		{Type: ir.AccessLogUpstream, File: &ir.FileSink{Path: "/dev/stdout"}, Text: "upstream"},
	}}
	count := func(where ir.AccessLogType) (int, string) {
		logs, err := buildAccessLogs(al, where)
		if err != nil {
			t.Fatal(err)
		}
		var filters []string
		for _, l := range logs {
			filters = append(filters, l.GetFilter().String())
		}
		return len(logs), strings.Join(filters, ";")
	}
	if n, f := count(ir.AccessLogListener); n != 2 || !strings.Contains(f, "NR") {
		t.Errorf("listener logs %d, filters %q", n, f)
	}
	if n, _ := count(ir.AccessLogRoute); n != 1 {
		t.Errorf("route logs %d, want 1", n)
	}
	if n, _ := count(ir.AccessLogUpstream); n != 1 {
		t.Errorf("upstream logs %d, want 1", n)
	}
}
