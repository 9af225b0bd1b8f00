package translate

import (
	"reflect"
	"strings"
	"testing"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"sigs.k8s.io/yaml"
)

func clusterSettingsYAML(t *testing.T, s string) *egv1a1.ClusterSettings {
	t.Helper()
	cs := &egv1a1.ClusterSettings{}
	if err := yaml.UnmarshalStrict([]byte(s), cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestExtServiceSettingsSameAsBTP: a service's backendSettings and a
// BackendTrafficPolicy with the same fields give the same cluster
// settings: one translation, not two.
func TestExtServiceSettingsSameAsBTP(t *testing.T) {
	const s = `
loadBalancer: {type: RoundRobin, slowStart: {window: 10s}}
circuitBreaker: {maxConnections: 10, maxRequestsPerConnection: 5}
timeout: {tcp: {connectTimeout: 2s}, http: {connectionIdleTimeout: 30s}}
healthCheck: {active: {type: TCP, tcp: {}}, passive: {}}
tcpKeepalive: {probes: 3}
connection: {bufferLimit: 64Ki}
dns: {lookupFamily: IPv6}
http2: {maxConcurrentStreams: 9}
proxyProtocol: {version: V1}
`
	cs := clusterSettingsYAML(t, s)
	btp, err := clusterSettings(&egv1a1.BackendTrafficPolicySpec{ClusterSettings: *cs})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := extServiceSettings(cs, "spec.extAuth.grpc", "spec.extAuth.timeout")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(btp, ss.cluster) {
		t.Errorf("service settings differ from BackendTrafficPolicy's:\n%+v\n%+v", ss.cluster, btp)
	}
}

func TestExtServiceSettings(t *testing.T) {
	tests := []struct {
		name, yaml, timeoutField string
		check                    func(t *testing.T, ss serviceSettings)
		err                      string
	}{
		{name: "retry only: the filter's, no cluster settings", yaml: `retry: {numRetries: 2}`, timeoutField: "spec.extAuth.timeout",
			check: func(t *testing.T, ss serviceSettings) {
				if ss.cluster != nil || ss.retry == nil || ss.retry.NumRetries != 2 {
					t.Errorf("cluster %+v retry %+v", ss.cluster, ss.retry)
				}
			}},
		{name: "maxStreamDuration on the cluster", yaml: `timeout: {http: {maxStreamDuration: 3s}}`, timeoutField: "x",
			check: func(t *testing.T, ss serviceSettings) {
				if ss.cluster == nil || ss.cluster.MaxStreamDuration != 3*time.Second {
					t.Errorf("cluster %+v", ss.cluster)
				}
			}},
		{name: "requestTimeout for a fetch", yaml: `timeout: {http: {requestTimeout: 4s}, tcp: {connectTimeout: 1s}}`,
			check: func(t *testing.T, ss serviceSettings) {
				if ss.timeout != 4*time.Second || ss.cluster == nil || ss.cluster.ConnectTimeout != time.Second {
					t.Errorf("timeout %v cluster %+v", ss.timeout, ss.cluster)
				}
			}},
		{name: "requestTimeout where the filter has its own", yaml: `timeout: {http: {requestTimeout: 4s}}`, timeoutField: "spec.extProc[0].messageTimeout",
			err: "spec.x.backendSettings.timeout.http.requestTimeout: not applied to this service's calls (Envoy Gateway ignores it): use spec.extProc[0].messageTimeout"},
		{name: "streamIdleTimeout", yaml: `timeout: {http: {streamIdleTimeout: 1m}}`,
			err: "backendSettings.timeout.http.streamIdleTimeout: egctl cannot honour it"},
		{name: "consistentHash", yaml: `loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}`,
			err: "backendSettings.loadBalancer.consistentHash: egctl cannot honour it"},
		{name: "endpointOverride", yaml: `loadBalancer: {type: Random, endpointOverride: {extractFrom: [{header: x-host}]}}`,
			err: "backendSettings.loadBalancer.endpointOverride: egctl cannot honour it"},
		{name: "shared translation's errors carry the service's path", yaml: `tcpKeepalive: {idleTime: 1500ms}`,
			err: "spec.x.backendSettings.tcpKeepalive.idleTime: 1.5s is not a whole number of seconds"},
		{name: "retry fields the filter cannot take", yaml: `retry: {perRetry: {timeout: 1s}}`,
			err: "backendSettings.retry.perRetry.timeout: egctl does not apply it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := extServiceSettings(clusterSettingsYAML(t, tt.yaml), "spec.x", tt.timeoutField)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ss)
		})
	}
}

// TestExtAuthBackendSettings: the service's destination carries its
// cluster settings, and a fallback backendRef is priority 1 of the one
// cluster.
func TestExtAuthBackendSettings(t *testing.T) {
	b := spBuilder(t, Options{})
	p := spPolicy(t, "default", "a", `extAuth:
  grpc:
    backendRefs: [{name: authz, port: 9000}, {name: authz, port: 9000, fallback: true}]
    backendSettings: {circuitBreaker: {maxConnections: 3}}`)
	a, err := b.spExtAuth(effective{policy: p}, p.spec.(*egv1a1.SecurityPolicySpec))
	if err != nil {
		t.Fatal(err)
	}
	d := a.Destination
	if d.Cluster == nil || d.Cluster.CircuitBreaker == nil || d.Cluster.CircuitBreaker.MaxConnections != 3 {
		t.Errorf("cluster settings %+v", d.Cluster)
	}
	if len(d.Backends) != 2 || d.Backends[0].Priority != 0 || d.Backends[1].Priority != 1 {
		t.Errorf("backends %+v", d.Backends)
	}
}
