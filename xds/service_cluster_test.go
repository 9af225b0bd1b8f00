package xds

import (
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	"github.com/egctl/egctl/ir"
)

func serviceBuilder() *builder {
	return &builder{
		proxy: &ir.Proxy{}, res: &Resources{},
		clusters:  map[string]*clusterv3.Cluster{},
		endpoints: map[string]*endpointv3.ClusterLoadAssignment{},
		secrets:   map[string]*tlsv3.Secret{},
	}
}

// TestServiceClusterSettings: an external service's settings reach its
// cluster through the route cluster features, maxStreamDuration on the
// cluster's protocol options.
func TestServiceClusterSettings(t *testing.T) {
	b := serviceBuilder()
	d := dest("securitypolicy/default/a/extauth/0", ipBackend("securitypolicy/default/a/extauth/0/backend/0", 1, 9000))
	d.Backends[0].Protocol = ir.ProtocolHTTP2
	d.Cluster = &ir.ClusterSettings{
		ConnectTimeout:    2 * time.Second,
		MaxStreamDuration: 3 * time.Second,
		CircuitBreaker:    &ir.CircuitBreaker{MaxConnections: 7, MaxPendingRequests: 1024, MaxParallelRequests: 1024, MaxParallelRetries: 1024},
	}
	if err := b.addServiceCluster(d); err != nil {
		t.Fatal(err)
	}
	c := b.clusters[d.Name]
	if c.GetConnectTimeout().AsDuration() != 2*time.Second {
		t.Errorf("connect timeout %v", c.GetConnectTimeout())
	}
	if got := c.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue(); got != 7 {
		t.Errorf("max connections %d, want 7", got)
	}
	var opts httpv3.HttpProtocolOptions
	if err := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey].UnmarshalTo(&opts); err != nil {
		t.Fatal(err)
	}
	if got := opts.GetCommonHttpProtocolOptions().GetMaxStreamDuration().AsDuration(); got != 3*time.Second {
		t.Errorf("max stream duration %v, want 3s", got)
	}
	if opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("a gRPC service's cluster lost HTTP/2: %v", &opts)
	}
}

// TestServiceClusterShared: services naming one cluster (a JWKS host) may
// share it when they ask the same of it, and fail when they do not: the
// second's settings would otherwise be dropped.
func TestServiceClusterShared(t *testing.T) {
	mk := func(cs *ir.ClusterSettings) *ir.RouteDestination {
		d := dest("keys_example_com_443", &ir.Backend{Name: "keys_example_com_443/backend/-1", Weight: 1, AddressType: ir.AddressFQDN,
			Endpoints: []ir.Endpoint{{Host: "keys.example.com", Port: 443}}})
		d.Cluster = cs
		return d
	}
	b := serviceBuilder()
	if err := b.addServiceCluster(mk(&ir.ClusterSettings{ConnectTimeout: time.Second})); err != nil {
		t.Fatal(err)
	}
	if err := b.addServiceCluster(mk(&ir.ClusterSettings{ConnectTimeout: time.Second})); err != nil {
		t.Errorf("equal settings refused: %v", err)
	}
	err := b.addServiceCluster(mk(nil))
	if err == nil || !strings.Contains(err.Error(), `"keys_example_com_443" is shared by external services whose backendSettings differ`) {
		t.Errorf("differing settings: %v", err)
	}
}
