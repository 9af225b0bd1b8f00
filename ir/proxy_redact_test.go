package ir

import (
	"strings"
	"testing"
)

// TestRedactCollectorKeys: a collector's client key (EnvoyProxy backendTLS
// on a telemetry backend) is redacted like a route backend's, and the
// original is left alone.
func TestRedactCollectorKeys(t *testing.T) {
	cert := &Certificate{Name: "ns/client", Certificate: []byte("CERT"), PrivateKey: []byte("SECRET KEY")}
	svc := func() *TelemetryService {
		return &TelemetryService{Destination: &RouteDestination{Name: "tracing", Backends: []*Backend{{
			Name: "tracing/backend/0", Weight: 1, AddressType: AddressIP, TLS: &BackendTLS{SNI: "otel", ClientCertificate: cert}}}}}
	}
	p := &Proxy{Name: "p", Settings: &ProxySettings{
		Tracing:   &Tracing{Provider: TracingOpenTelemetry, Service: svc()},
		AccessLog: &AccessLog{Entries: []*AccessLogEntry{{OpenTelemetry: &OpenTelemetrySink{Service: svc()}}, {ALS: &ALSSink{Service: svc()}}}},
		Metrics:   &Metrics{Sinks: []*MetricSink{{Service: svc()}}},
	}}
	r := RedactSecrets(p)
	s := r.Settings
	for i, got := range []*TelemetryService{s.Tracing.Service, s.AccessLog.Entries[0].OpenTelemetry.Service, s.AccessLog.Entries[1].ALS.Service, s.Metrics.Sinks[0].Service} {
		if k := string(got.Destination.Backends[0].TLS.ClientCertificate.PrivateKey); k != Redacted {
			t.Errorf("collector %d: key %q", i, k)
		}
	}
	if !strings.Contains(string(cert.PrivateKey), "SECRET") {
		t.Errorf("the original was changed")
	}
}
