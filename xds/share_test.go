package xds

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
)

// sharedConfig has two routes of one source object to one Service (a new
// *ir.Metadata per backendRef, as translate makes them, but one endpoint
// slice), an h2c backend, an HTTPS listener (a secret to redact) and an
// FQDN backend (an inlined assignment).
func sharedConfig() *ir.Config {
	route := &ir.Metadata{Kind: "HTTPRoute", Namespace: "ns", Name: "r"}
	eps := []ir.Endpoint{{Host: "127.0.0.1", Port: 3000}, {Host: "127.0.0.2", Port: 3000}}
	mk := func(name, path string, proto ir.AppProtocol, at ir.AddressType) *ir.HTTPRoute {
		be := &ir.Backend{Name: name + "/backend/0", Weight: 1, AddressType: at, Endpoints: eps, Protocol: proto,
			Metadata: &ir.Metadata{Kind: "Service", Namespace: "ns", Name: "svc", SectionName: "3000"}}
		if at == ir.AddressFQDN {
			be.Endpoints = []ir.Endpoint{{Host: "backend.example", Port: 443}}
		}
		return &ir.HTTPRoute{Name: name, Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: path}, Metadata: route,
			Destination: &ir.RouteDestination{Name: name, Backends: []*ir.Backend{be}, Metadata: route}}
	}
	cfg := oneRoute(mk("r1", "/a", "", ir.AddressIP), mk("r2", "/b", "", ir.AddressIP),
		mk("r3", "/c", ir.ProtocolHTTP2, ir.AddressIP), mk("r4", "/d", ir.ProtocolHTTP2, ir.AddressIP),
		mk("r5", "/e", "", ir.AddressFQDN))
	cfg.Proxies[0].HTTP = append(cfg.Proxies[0].HTTP, &ir.HTTPListener{
		Name: "default/eg/https", Address: "0.0.0.0", Port: 10443, GatewayPort: 443, Hostname: "a.example",
		TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}},
		VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/https/a_example", Domains: []string{"a.example"}, Routes: []*ir.HTTPRoute{mk("r6", "/", "", ir.AddressIP)}}},
	})
	return cfg
}

// TestSharedPieces checks that identical pieces are built once and shared
// (the point of the caches), with the content a fresh build would give.
func TestSharedPieces(t *testing.T) {
	r := translateOne(t, sharedConfig())
	c1, c2, c3, c4 := findCluster(t, r, "r1"), findCluster(t, r, "r2"), findCluster(t, r, "r3"), findCluster(t, r, "r4")
	if c1.Metadata == nil || c1.Metadata != c2.Metadata {
		t.Error("clusters of one source object do not share their metadata")
	}
	want := buildMetadata(&ir.Metadata{Kind: "HTTPRoute", Namespace: "ns", Name: "r"})
	if !proto.Equal(c1.Metadata, want) {
		t.Errorf("shared metadata %v, want %v", c1.Metadata, want)
	}
	if c1.LoadBalancingPolicy != c2.LoadBalancingPolicy || c1.ConnectTimeout != c2.ConnectTimeout {
		t.Error("clusters do not share their defaults")
	}
	if c3.TypedExtensionProtocolOptions[httpProtocolOptionsKey] != c4.TypedExtensionProtocolOptions[httpProtocolOptionsKey] {
		t.Error("h2c clusters do not share their protocol options")
	}
	byName := map[string]int{}
	for i, e := range r.Endpoints {
		byName[e.GetClusterName()] = i
	}
	l1 := r.Endpoints[byName["r1"]].GetEndpoints()[0]
	l2 := r.Endpoints[byName["r2"]].GetEndpoints()[0]
	if len(l1.LbEndpoints) != 2 || &l1.LbEndpoints[0] != &l2.LbEndpoints[0] {
		t.Error("localities of one Service do not share their hosts")
	}
	if l1.Metadata == nil || l1.Metadata != l2.Metadata {
		t.Error("localities of one Service (equal metadata behind different pointers) do not share it")
	}
	if l1.Locality.GetRegion() != "r1/backend/0" || l2.Locality.GetRegion() != "r2/backend/0" {
		t.Errorf("regions %q %q: each locality must keep its own", l1.Locality.GetRegion(), l2.Locality.GetRegion())
	}
}

// TestSharedPiecesNotModified runs every consumer of Resources that makes
// a changed copy (static bootstrap, redacted and unredacted dumps, the
// snapshot) and checks that none of them wrote through a shared message.
func TestSharedPiecesNotModified(t *testing.T) {
	r := translateOne(t, sharedConfig())
	before := cloneResources(r)
	if len(r.Secrets) == 0 {
		t.Fatal("no secret: the redaction path is not exercised")
	}
	if _, err := StaticBootstrap(r, BootstrapOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ConfigDump(r, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ConfigDumpWithSecrets(r, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(r, "1"); err != nil {
		t.Fatal(err)
	}
	check := func(kind string, got, want []proto.Message) {
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("%s %d changed by a consumer", kind, i)
			}
		}
	}
	check("listener", msgsOf(r.Listeners), msgsOf(before.Listeners))
	check("route configuration", msgsOf(r.Routes), msgsOf(before.Routes))
	check("cluster", msgsOf(r.Clusters), msgsOf(before.Clusters))
	check("endpoint", msgsOf(r.Endpoints), msgsOf(before.Endpoints))
	check("secret", msgsOf(r.Secrets), msgsOf(before.Secrets))
}

func msgsOf[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// TestValidationNamesTheRightRoute: routes are validated with their route
// configuration; a failure must still name the listener, virtual host and
// route at fault, not the first ones.
func TestValidationNamesTheRightRoute(t *testing.T) {
	cfg := sharedConfig()
	bad := &ir.HTTPRoute{Name: "bad", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/z"}, DirectResponse: &ir.DirectResponse{StatusCode: 42}}
	https := cfg.Proxies[0].HTTP[1].VirtualHosts[0]
	https.Routes = append(https.Routes, bad)
	_, err := Translate(cfg)
	if err == nil {
		t.Fatal("status 42 accepted")
	}
	want := `xds: proxy default/eg: listener "default/eg/https": virtual host "default/eg/https/a_example": route "bad": `
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "DirectResponseAction.Status") {
		t.Errorf("error %q\nwant prefix %q and the field", err, want)
	}
}

// cloneResources is a deep copy of r's resources.
func cloneResources(r *Resources) *Resources {
	out := &Resources{Name: r.Name}
	for _, m := range r.Listeners {
		out.Listeners = append(out.Listeners, cloneOf(m))
	}
	for _, m := range r.Routes {
		out.Routes = append(out.Routes, cloneOf(m))
	}
	for _, m := range r.Clusters {
		out.Clusters = append(out.Clusters, cloneOf(m))
	}
	for _, m := range r.Endpoints {
		out.Endpoints = append(out.Endpoints, cloneOf(m))
	}
	for _, m := range r.Secrets {
		out.Secrets = append(out.Secrets, cloneOf(m))
	}
	return out
}
