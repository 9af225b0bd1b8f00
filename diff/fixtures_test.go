package diff

import (
	"time"

	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Hand-made resources for one proxy "default/eg": a listener whose HCM
// uses RDS, a route configuration with two virtual hosts, two clusters
// with their endpoints and one TLS secret.

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func listener(t *testing.T, name string, port uint32, filters ...string) *listenerv3.Listener {
	var hf []*hcmv3.HttpFilter
	for _, f := range filters {
		hf = append(hf, &hcmv3.HttpFilter{Name: f})
	}
	hf = append(hf, &hcmv3.HttpFilter{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}})
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:     "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: name}},
		HttpFilters:    hf,
	}
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
		}}},
	}
}

func route(name, prefix, cluster string) *routev3.Route {
	return &routev3.Route{
		Name:   name,
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}},
	}
}

func vhost(name, domain string, routes ...*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: []string{domain}, Routes: routes}
}

func cluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(10e9),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			ResourceApiVersion:    corev3.ApiVersion_V3,
		}},
	}
}

func endpoints(name string, ports ...uint32) *endpointv3.ClusterLoadAssignment {
	var lbs []*endpointv3.LbEndpoint
	for _, p := range ports {
		lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: p},
			}}},
		}}})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}}}
}

func tlsSecret(name, cert, key string) *tlsv3.Secret {
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: cert}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(key)}},
	}}}
}

const (
	testCert   = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
	testKeyOld = "-----BEGIN PRIVATE KEY-----\nOLDSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"
	testKeyNew = "-----BEGIN PRIVATE KEY-----\nNEWSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"
)

// oldSnapshot is the "before" state.
func oldSnapshot(t *testing.T) *Snapshot {
	return &Snapshot{
		Listeners: []*listenerv3.Listener{listener(t, "default/eg/http", 10080)},
		Routes: []*routev3.RouteConfiguration{{
			Name: "default/eg/http",
			VirtualHosts: []*routev3.VirtualHost{
				vhost("default/eg/http/api_example_com", "api.example.com",
					route("httproute/default/api/rule/0/match/0/api_example_com", "/v1", "httproute/default/api/rule/0"),
					route("httproute/default/api/rule/1/match/0/api_example_com", "/", "httproute/default/web/rule/0"),
				),
				vhost("default/eg/http/www_example_com", "www.example.com",
					route("httproute/default/web/rule/0/match/0/www_example_com", "/", "httproute/default/web/rule/0"),
				),
			},
		}},
		Clusters:  []*clusterv3.Cluster{cluster("httproute/default/api/rule/0"), cluster("httproute/default/web/rule/0")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{endpoints("httproute/default/api/rule/0", 3000), endpoints("httproute/default/web/rule/0", 3001)},
		Secrets:   []*tlsv3.Secret{tlsSecret("default/tls", testCert, testKeyOld)},
	}
}

// newSnapshot: the api routes swapped (order matters), a filter added, the
// web cluster replaced by "static", an endpoint port changed and the key
// rotated.
func newSnapshot(t *testing.T) *Snapshot {
	return &Snapshot{
		Listeners: []*listenerv3.Listener{listener(t, "default/eg/http", 10080, "envoy.filters.http.cors")},
		Routes: []*routev3.RouteConfiguration{{
			Name: "default/eg/http",
			VirtualHosts: []*routev3.VirtualHost{
				vhost("default/eg/http/www_example_com", "www.example.com",
					route("httproute/default/web/rule/0/match/0/www_example_com", "/", "httproute/default/static/rule/0"),
				),
				vhost("default/eg/http/api_example_com", "api.example.com",
					route("httproute/default/api/rule/1/match/0/api_example_com", "/", "httproute/default/web/rule/0"),
					route("httproute/default/api/rule/0/match/0/api_example_com", "/v1", "httproute/default/api/rule/0"),
				),
			},
		}},
		Clusters:  []*clusterv3.Cluster{cluster("httproute/default/static/rule/0"), cluster("httproute/default/api/rule/0")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{endpoints("httproute/default/static/rule/0", 3002), endpoints("httproute/default/api/rule/0", 3005)},
		Secrets:   []*tlsv3.Secret{tlsSecret("default/tls", testCert, testKeyNew)},
	}
}

func timestampAt(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
