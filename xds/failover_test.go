package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// TestFallbackPriorities: a fallback backend is priority 1 of the rule's
// one cluster, which gets outlier detection; a destination of fallbacks
// only is plain priority 0 and gets none.
func TestFallbackPriorities(t *testing.T) {
	standby := ipBackend("d/backend/1", 1, 3001)
	standby.Priority = 1
	alone := ipBackend("only/backend/0", 1, 3002)
	alone.Priority = 1
	r := translateOne(t, oneRoute(
		&ir.HTTPRoute{Name: "a", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/a"},
			Destination: dest("d", ipBackend("d/backend/0", 1, 3000), standby)},
		&ir.HTTPRoute{Name: "b", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/b"},
			Destination: dest("only", alone)},
	))
	if firstRoute(t, r).GetRoute().GetCluster() == "" && r.Routes[0].VirtualHosts[0].Routes[1].GetRoute().GetCluster() == "" {
		t.Fatalf("routes do not point at one cluster each")
	}
	prios := map[string][]uint32{}
	for _, cla := range r.Endpoints {
		for _, l := range cla.Endpoints {
			prios[cla.ClusterName] = append(prios[cla.ClusterName], l.Priority)
		}
	}
	if got := prios["d"]; len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("cluster d priorities %v, want [0 1]", got)
	}
	if got := prios["only"]; len(got) != 1 || got[0] != 0 {
		t.Errorf("cluster only priorities %v, want [0]", got)
	}
	od := findCluster(t, r, "d").OutlierDetection
	if od == nil || od.GetConsecutiveLocalOriginFailure().GetValue() != 1 || !od.SplitExternalLocalOriginErrors ||
		od.GetEnforcingConsecutive_5Xx().GetValue() != 0 || od.GetMaxEjectionPercent().GetValue() != 100 {
		t.Errorf("cluster d outlier detection %v, want egctl's failover defaults", od)
	}
	if findCluster(t, r, "only").OutlierDetection != nil {
		t.Errorf("a destination without failover got outlier detection")
	}
}

// TestFailoverKeepsConfiguredHealth: what a feature set (a
// BackendTrafficPolicy health check) is kept: the default only fills in.
func TestFailoverKeepsConfiguredHealth(t *testing.T) {
	standby := ipBackend("x/backend/1", 1, 1)
	standby.Priority = 1
	backends := []*ir.Backend{ipBackend("x/backend/0", 1, 1), standby}
	b := &builder{secrets: map[string]*tlsv3.Secret{}}
	own := &clusterv3.OutlierDetection{BaseEjectionTime: durationpb.New(time.Minute)}
	c := &clusterv3.Cluster{Name: "x", OutlierDetection: own}
	if err := b.finishBackendCluster(c, backends); err != nil || c.OutlierDetection != own {
		t.Errorf("configured outlier detection replaced (%v)", err)
	}
	c = &clusterv3.Cluster{Name: "x", HealthChecks: []*corev3.HealthCheck{{}}}
	if err := b.finishBackendCluster(c, backends); err != nil || c.OutlierDetection != nil {
		t.Errorf("outlier detection added next to an active health check (%v)", err)
	}
}

// TestOneClusterInvalidShare: a destination that must stay one cluster
// keeps an unresolved backendRef's share as a fail-closed weight, and mixes
// IP and DNS backends in one STRICT_DNS cluster.
func TestOneClusterInvalidShare(t *testing.T) {
	dns := &ir.Backend{Name: "d/backend/1", Weight: 2, AddressType: ir.AddressFQDN, Endpoints: []ir.Endpoint{{Host: "standby.example.com", Port: 80}}}
	d := dest("d", ipBackend("d/backend/0", 3, 3000), dns)
	d.OneCluster, d.InvalidWeight = true, 1
	r := translateOne(t, oneRoute(&ir.HTTPRoute{Name: "a", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"}, Destination: d}))
	wc := firstRoute(t, r).GetRoute().GetWeightedClusters().GetClusters()
	if len(wc) != 2 || wc[0].Name != "d" || wc[0].Weight.GetValue() != 5 || wc[1].Name != InvalidBackendCluster || wc[1].Weight.GetValue() != 1 {
		t.Fatalf("weighted clusters %v, want d:5 and the fail-closed share 1", wc)
	}
	if got := findCluster(t, r, "d").GetType(); got != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("cluster type %v, want STRICT_DNS for IP and DNS backends", got)
	}
	if firstRoute(t, r).GetRoute().ClusterNotFoundResponseCode != routev3.RouteAction_INTERNAL_SERVER_ERROR {
		t.Errorf("the fail-closed share does not answer 500")
	}
}

// TestUpstreamOptionsMerge: auto SNI and a backend's credential join the
// HTTP protocol options a feature already set, keeping them.
func TestUpstreamOptionsMerge(t *testing.T) {
	idle := durationpb.New(time.Minute)
	mine := &hcmv3.HttpFilter{Name: "envoy.filters.http.admission_control"}
	codec := &hcmv3.HttpFilter{Name: upstreamCodecFilterName}
	o, err := toAny(&httpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: idle},
		HttpFilters:               []*hcmv3.HttpFilter{mine, codec},
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterv3.Cluster{Name: "x", TypedExtensionProtocolOptions: map[string]*anyMsg{httpProtocolOptionsKey: o}}
	be := ipBackend("x/backend/0", 1, 1)
	be.TLS = &ir.BackendTLS{AutoSNI: true, UseSystemCA: true}
	be.CredentialInjection = &ir.CredentialInjection{Name: "httproutefilter/ns/f", Credential: []byte("Bearer t")}
	b := &builder{secrets: map[string]*tlsv3.Secret{}}
	if err := b.finishBackendCluster(c, []*ir.Backend{be}); err != nil {
		t.Fatal(err)
	}
	got, err := clusterHTTPOptions(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetCommonHttpProtocolOptions().GetIdleTimeout().AsDuration() != time.Minute {
		t.Errorf("the feature's idle timeout was lost: %v", got)
	}
	// The name is checked by the TLS context (auto_sni_san_validation), as
	// Envoy Gateway spells it.
	if u := got.GetUpstreamHttpProtocolOptions(); !u.GetAutoSni() || u.GetAutoSanValidation() {
		t.Errorf("upstream options %v, want auto SNI", u)
	}
	names := []string{}
	for _, f := range got.HttpFilters {
		names = append(names, f.Name)
	}
	if len(names) != 3 || names[0] != credentialInjectorFilterName+"/httproutefilter/ns/f" || names[1] != mine.Name || names[2] != codec.Name {
		t.Errorf("upstream filters %v, want the credential injector first, then the feature's, then the codec", names)
	}
	if got.GetExplicitHttpConfig().GetHttpProtocolOptions() == nil {
		t.Errorf("the HTTP/1.1 protocol was lost: %v", got)
	}
	if _, ok := b.secrets["credential_injector/credential/httproutefilter/ns/f"]; !ok {
		t.Errorf("the credential's secret was not added")
	}
}

func TestCookiePath(t *testing.T) {
	for _, tc := range []struct {
		typ  ir.PathMatchType
		path string
		want string
	}{
		{ir.PathPrefix, "/", "/"},
		{ir.PathPrefix, "/shop", "/shop"},
		{ir.PathExact, "/cart/checkout", "/cart/checkout"},
		{ir.PathRegex, "/p1/p2/.*/p3", "/p1/p2"},
		{ir.PathRegex, "^/users/[0-9]+/profile", "/users"},
		{ir.PathRegex, "/literal/only", "/literal/only"},
		{ir.PathRegex, "/fo+", "/"},
		{ir.PathRegex, "(/a|/b)/c", "/"},
	} {
		if got := cookiePath(&ir.HTTPMatch{PathType: tc.typ, Path: tc.path}); got != tc.want {
			t.Errorf("cookiePath(%s %q) = %q, want %q", tc.typ, tc.path, got, tc.want)
		}
	}
}
