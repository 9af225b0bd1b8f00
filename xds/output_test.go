package xds

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/egctl/egctl/ir"
)

func httpsConfig() *ir.Config {
	cfg := oneRoute(prefixRoute("r", "/"))
	cfg.Proxies[0].HTTP = append(cfg.Proxies[0].HTTP, &ir.HTTPListener{
		Name: "default/eg/https", Address: "0.0.0.0", Port: 10443, Hostname: "s.example.com",
		TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}},
		VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/https/s", Domains: []string{"s.example.com"}, Routes: []*ir.HTTPRoute{prefixRoute("r2", "/")}}},
	})
	fqdn := prefixRoute("r3", "/dns")
	fqdn.Destination = dest("dns", &ir.Backend{Name: "dns/backend/0", Weight: 1, AddressType: ir.AddressFQDN, Endpoints: []ir.Endpoint{{Host: "localhost", Port: 80}}})
	vh := cfg.Proxies[0].HTTP[0].VirtualHosts[0]
	vh.Routes = append([]*ir.HTTPRoute{fqdn}, vh.Routes...)
	return cfg
}

func TestStaticBootstrap(t *testing.T) {
	r := translateOne(t, httpsConfig())
	bs, err := StaticBootstrap(r, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := bs.Admin.Address.GetSocketAddress(); a.Address != "127.0.0.1" || a.GetPortValue() != 19000 {
		t.Errorf("admin %v", a)
	}
	if bs.DynamicResources != nil {
		t.Error("static bootstrap must not have dynamic resources")
	}
	sr := bs.StaticResources
	if len(sr.Listeners) != 2 || len(sr.Clusters) != len(r.Clusters) || len(sr.Secrets) != 1 {
		t.Fatalf("static resources: %d listeners %d clusters %d secrets", len(sr.Listeners), len(sr.Clusters), len(sr.Secrets))
	}
	for _, l := range sr.Listeners {
		chains := append(l.FilterChains, l.DefaultFilterChain)
		for _, fc := range chains {
			if fc == nil {
				continue
			}
			hcm := hcmOf(t, fc)
			if hcm.GetRds() != nil || hcm.GetRouteConfig() == nil || hcm.GetRouteConfig().GetValidateClusters().GetValue() {
				t.Errorf("listener %q: route config must be inlined with validate_clusters false", l.Name)
			}
			if fc.TransportSocket != nil {
				for _, s := range tlsOf(t, fc).CommonTlsContext.TlsCertificateSdsSecretConfigs {
					if s.SdsConfig != nil {
						t.Errorf("static SDS ref %q must not carry sds_config", s.Name)
					}
				}
			}
		}
	}
	for _, c := range sr.Clusters {
		switch c.Name {
		case "dns":
			if c.GetType() != clusterv3.Cluster_STRICT_DNS {
				t.Errorf("dns cluster type %v", c.GetType())
			}
		default:
			if c.GetType() != clusterv3.Cluster_STATIC || c.EdsClusterConfig != nil || c.LoadAssignment == nil {
				t.Errorf("cluster %q: want STATIC with inline assignment, got %v", c.Name, c.GetType())
			}
		}
	}
	// The translated resources themselves are untouched.
	if r.Clusters[0].GetType() == clusterv3.Cluster_STATIC {
		t.Error("StaticBootstrap modified its input")
	}

	bs, err = StaticBootstrap(r, BootstrapOptions{AdminAddress: "127.0.0.2", AdminPort: 9901})
	if err != nil || bs.Admin.Address.GetSocketAddress().GetPortValue() != 9901 {
		t.Errorf("admin options ignored: %v %v", err, bs.GetAdmin())
	}
}

func TestDynamicBootstrap(t *testing.T) {
	bs, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: "default/eg", XDSHost: "xds.local", XDSPort: 18000})
	if err != nil {
		t.Fatal(err)
	}
	if bs.Node.Id != "default/eg" || bs.Node.Cluster != "default/eg" {
		t.Errorf("node %v", bs.Node)
	}
	ads := bs.DynamicResources.AdsConfig
	if ads.ApiType.String() != "GRPC" || ads.GrpcServices[0].GetEnvoyGrpc().GetClusterName() != XDSClusterName {
		t.Errorf("ads %v", ads)
	}
	if bs.DynamicResources.LdsConfig.GetAds() == nil || bs.DynamicResources.CdsConfig.GetAds() == nil {
		t.Error("LDS and CDS must come over ADS")
	}
	c := bs.StaticResources.Clusters[0]
	if c.Name != XDSClusterName || c.GetType() != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("xds cluster %v %v", c.Name, c.GetType())
	}
	if _, ok := c.TypedExtensionProtocolOptions[httpProtocolOptionsKey]; !ok {
		t.Error("xds cluster must speak HTTP/2")
	}
	if _, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: "x"}); err == nil {
		t.Error("missing xDS address must fail")
	}
}

func TestSnapshotIsConsistent(t *testing.T) {
	r := translateOne(t, httpsConfig())
	snap, err := Snapshot(r, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(snap.GetResources(resource.ListenerType)); got != 2 {
		t.Errorf("listeners %d", got)
	}
	if got := len(snap.GetResources(resource.SecretType)); got != 1 {
		t.Errorf("secrets %d", got)
	}
	if snap.GetVersion(resource.RouteType) != "v1" {
		t.Errorf("version %q", snap.GetVersion(resource.RouteType))
	}
	// Dropping the endpoints breaks EDS references: Snapshot must say so.
	broken := *r
	broken.Endpoints = nil
	if _, err := Snapshot(&broken, "v2"); err == nil {
		t.Error("inconsistent snapshot accepted")
	}
}

func TestConfigDump(t *testing.T) {
	r := translateOne(t, httpsConfig())
	bs, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000})
	if err != nil {
		t.Fatal(err)
	}
	d, err := ConfigDump(r, bs, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range d.Configs {
		kinds = append(kinds, c.TypeUrl[strings.LastIndex(c.TypeUrl, ".")+1:])
	}
	want := "BootstrapConfigDump EndpointsConfigDump ClustersConfigDump ListenersConfigDump RoutesConfigDump SecretsConfigDump"
	if strings.Join(kinds, " ") != want {
		t.Errorf("sections %v, want %s", kinds, want)
	}
	sec := &adminv3.SecretsConfigDump{}
	if err := d.Configs[5].UnmarshalTo(sec); err != nil {
		t.Fatal(err)
	}
	s := &tlsv3.Secret{}
	if err := sec.DynamicActiveSecrets[0].Secret.UnmarshalTo(s); err != nil {
		t.Fatal(err)
	}
	if s.GetTlsCertificate().GetPrivateKey().GetInlineString() != redacted {
		t.Errorf("private key not redacted: %v", s.GetTlsCertificate().GetPrivateKey())
	}
	if string(r.Secrets[0].GetTlsCertificate().GetPrivateKey().GetInlineBytes()) != "key-pem" {
		t.Error("ConfigDump redacted the translated secret itself")
	}

	d, err = ConfigDump(r, nil, []string{"route", "listener"})
	if err != nil || len(d.Configs) != 2 || !strings.HasSuffix(d.Configs[0].TypeUrl, "ListenersConfigDump") {
		t.Errorf("listener+route dump: %v %v", err, d)
	}
	if _, err := ConfigDump(r, nil, []string{"bootstrap"}); err == nil {
		t.Error("bootstrap asked without one must fail")
	}
	if _, err := ConfigDump(r, nil, []string{"routes"}); err == nil {
		t.Error("unknown type must fail")
	}
}

func TestMarshal(t *testing.T) {
	r := translateOne(t, httpsConfig())
	d, err := ConfigDump(r, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := Marshal(d, "json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(j) || !bytes.Contains(j, []byte(`"ignorePortInHostMatching": true`)) || !bytes.HasPrefix(j, []byte("{\n  \"configs\"")) {
		t.Errorf("json output not camelCase/indented:\n%.300s", j)
	}
	y, err := Marshal(d, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(y, []byte("ignorePortInHostMatching: true")) || !bytes.Contains(y, []byte("'@type': type.googleapis.com/envoy.admin.v3.ClustersConfigDump")) {
		t.Errorf("yaml output:\n%.300s", y)
	}
	for i := 0; i < 20; i++ { // protojson randomizes whitespace; the output must not vary
		again, _ := Marshal(d, "json")
		if !bytes.Equal(again, j) {
			t.Fatal("json output is not stable")
		}
	}
	if _, err := Marshal(d, "toml"); err == nil {
		t.Error("unknown format must fail")
	}
}

func TestDeterminism(t *testing.T) {
	render := func() []byte {
		var out []byte
		for _, in := range goldenCases(t) {
			for _, name := range []string{"xds.yaml", "static.yaml", "dynamic.yaml"} {
				out = append(out, goldenOutputs(t, loadIR(t, in))[name]...)
			}
		}
		return out
	}
	first := render()
	for i := 0; i < 5; i++ {
		if !bytes.Equal(render(), first) {
			t.Fatal("same IR gave different bytes")
		}
	}
}
