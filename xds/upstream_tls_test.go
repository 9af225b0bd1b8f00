package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// upstreamTLSOf is the TLS context of cluster c's socket match for backend i.
func upstreamTLSOf(t *testing.T, c *clusterv3.Cluster, i int) *tlsv3.UpstreamTlsContext {
	t.Helper()
	want := tlsMatchName(c.GetName(), i)
	for _, m := range c.GetTransportSocketMatches() {
		if m.GetName() != want {
			continue
		}
		if m.GetMatch().GetFields()["name"].GetStringValue() != want {
			t.Fatalf("cluster %q: match %q selects %v", c.GetName(), want, m.GetMatch())
		}
		ts := m.GetTransportSocket()
		if ts.GetName() != tlsTransportSocketName {
			t.Fatalf("cluster %q: match %q has socket %q", c.GetName(), want, ts.GetName())
		}
		ctx := &tlsv3.UpstreamTlsContext{}
		if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	t.Fatalf("cluster %q has no transport socket match %q: %v", c.GetName(), want, c.GetTransportSocketMatches())
	return nil
}

// matchOf is the transport socket match an endpoint's metadata names.
func matchOf(ep *endpointv3.LbEndpoint) string {
	return ep.GetMetadata().GetFilterMetadata()[tlsMatchKey].GetFields()["name"].GetStringValue()
}

func findSecret(t *testing.T, r *Resources, name string) *tlsv3.Secret {
	t.Helper()
	for _, s := range r.Secrets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("secret %q not found", name)
	return nil
}

func findEndpoints(t *testing.T, r *Resources, name string) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	for _, e := range r.Endpoints {
		if e.ClusterName == name {
			return e
		}
	}
	t.Fatalf("endpoints of %q not found", name)
	return nil
}

func TestUpstreamTLS(t *testing.T) {
	be := ipBackend("r/backend/0", 1, 8443)
	be.Protocol = ir.ProtocolHTTP1
	be.TLS = &ir.BackendTLS{SNI: "api.example.com", CACertificates: "ca-pem\n", CAName: "p/ns-ca", ClientCertificate: testCert}
	sys := ipBackend("s/backend/0", 1, 443)
	sys.Protocol = ir.ProtocolHTTP2
	sys.TLS = &ir.BackendTLS{SNI: "sys.example.com", UseSystemCA: true,
		SubjectAltNames: []ir.SubjectAltName{{Type: ir.SANDNS, Value: "alt.example.com"}, {Type: ir.SANURI, Value: "spiffe://td/ns/x"}}}
	r1 := prefixRoute("r", "/r")
	r1.Destination = dest("r", be)
	r2 := prefixRoute("s", "/s")
	r2.Destination = dest("s", sys)
	res := translateOne(t, oneRoute(r1, r2))

	c := findCluster(t, res, "r")
	ctx := upstreamTLSOf(t, c, 0)
	if ctx.Sni != "api.example.com" {
		t.Errorf("SNI = %q", ctx.Sni)
	}
	cvc := ctx.GetCommonTlsContext().GetCombinedValidationContext()
	if sds := cvc.GetValidationContextSdsSecretConfig(); sds.GetName() != "p/ns-ca" || sds.GetSdsConfig().GetAds() == nil {
		t.Errorf("trust anchors SDS = %v, want p/ns-ca over ADS", sds)
	}
	if got := findSecret(t, res, "p/ns-ca").GetValidationContext().GetTrustedCa().GetInlineBytes(); string(got) != "ca-pem\n" {
		t.Errorf("CA secret holds %q", got)
	}
	if sans := cvc.GetDefaultValidationContext().GetMatchTypedSubjectAltNames(); len(sans) != 1 || sans[0].SanType != tlsv3.SubjectAltNameMatcher_DNS || sans[0].GetMatcher().GetExact() != "api.example.com" {
		t.Errorf("SAN matchers = %v, want DNS api.example.com (the SNI)", sans)
	}
	if ctx.AutoSniSanValidation {
		t.Errorf("auto_sni_san_validation with a fixed name to check")
	}
	if sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs(); len(sds) != 1 || sds[0].Name != testCert.Name {
		t.Errorf("client certificate SDS = %v", sds)
	}
	findSecret(t, res, testCert.Name)
	// Every endpoint names the match; every backend speaks TLS, so the
	// cluster's own socket is the placeholder and ALPN picks the protocol.
	for _, loc := range findEndpoints(t, res, "r").Endpoints {
		for _, ep := range loc.LbEndpoints {
			if matchOf(ep) != "r/tls/0" {
				t.Errorf("endpoint metadata %v, want match r/tls/0", ep.GetMetadata())
			}
		}
	}
	if c.GetTransportSocket().GetName() != dummyTLSSocketName {
		t.Errorf("cluster socket %v, want the placeholder", c.GetTransportSocket())
	}
	o, err := clusterHTTPOptions(c)
	if err != nil {
		t.Fatal(err)
	}
	if ac := o.GetAutoConfig(); ac == nil || ac.GetHttp2ProtocolOptions() == nil || ac.GetHttpProtocolOptions() == nil {
		t.Errorf("protocol options %v, want auto_config (h2 or HTTP/1.1 by ALPN)", o)
	}

	s := findCluster(t, res, "s")
	ctx = upstreamTLSOf(t, s, 0)
	cvc = ctx.GetCommonTlsContext().GetCombinedValidationContext()
	if name := cvc.GetValidationContextSdsSecretConfig().GetName(); name != ir.SystemCASecret {
		t.Errorf("system trust anchors SDS = %q", name)
	}
	if f := findSecret(t, res, ir.SystemCASecret).GetValidationContext().GetTrustedCa().GetFilename(); f != SystemCABundle {
		t.Errorf("system CA secret reads %q", f)
	}
	if sans := cvc.GetDefaultValidationContext().GetMatchTypedSubjectAltNames(); len(sans) != 2 || sans[1].SanType != tlsv3.SubjectAltNameMatcher_URI {
		t.Errorf("SAN matchers = %v", sans)
	}
	// Envoy offers the cluster's protocol itself (h2 here) when the
	// context lists none; the e2e test shows the backend gets HTTP/2.
	if alpn := ctx.GetCommonTlsContext().GetAlpnProtocols(); len(alpn) != 0 {
		t.Errorf("ALPN = %v, want none", alpn)
	}
	if o, err := clusterHTTPOptions(s); err != nil || o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("HTTP/2 backend options %v (%v), want explicit HTTP/2", o, err)
	}

	// The static bootstrap names the secrets statically and holds them.
	bs, err := StaticBootstrap(res, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bs.GetStaticResources().GetClusters() {
		if c.Name != "r" {
			continue
		}
		ctx := upstreamTLSOf(t, c, 0)
		sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
		if len(sds) != 1 || sds[0].SdsConfig != nil {
			t.Errorf("static bootstrap client certificate reference = %v, want a static name", sds)
		}
		if v := ctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); v.GetName() != "p/ns-ca" || v.SdsConfig != nil {
			t.Errorf("static bootstrap trust anchors reference = %v, want a static name", v)
		}
	}
	names := map[string]bool{}
	for _, s := range bs.GetStaticResources().GetSecrets() {
		names[s.Name] = true
	}
	if !names["p/ns-ca"] || !names[ir.SystemCASecret] {
		t.Errorf("static secrets %v lack the CA secrets", names)
	}
}

// A TLS backend and a plain one share a cluster: the TLS one's endpoints
// pick its socket by metadata, the plain one's the cluster's default.
func TestUpstreamTLSMixedCluster(t *testing.T) {
	a := ipBackend("r/backend/0", 1, 8443)
	a.Protocol = ir.ProtocolHTTP1
	a.TLS = &ir.BackendTLS{SNI: "a.example.com", CACertificates: "ca"}
	b := ipBackend("r/backend/1", 1, 8080)
	b.Protocol = ir.ProtocolHTTP1
	r := prefixRoute("r", "/")
	r.Destination = dest("r", a, b)
	res := translateOne(t, oneRoute(r))
	c := findCluster(t, res, "r")
	upstreamTLSOf(t, c, 0)
	if len(c.TransportSocketMatches) != 1 {
		t.Errorf("matches %v, want one", c.TransportSocketMatches)
	}
	if ts := c.GetTransportSocket(); ts != nil {
		t.Errorf("a cluster with a plain backend got a default socket %v", ts)
	}
	if o := c.GetTypedExtensionProtocolOptions(); len(o) != 0 {
		t.Errorf("protocol options %v, want none (HTTP/1.1: the plain backend cannot negotiate)", o)
	}
	cla := findEndpoints(t, res, "r")
	if len(cla.Endpoints) != 2 {
		t.Fatalf("localities %v", cla.Endpoints)
	}
	if m := matchOf(cla.Endpoints[0].LbEndpoints[0]); m != "r/tls/0" {
		t.Errorf("TLS backend endpoint match %q", m)
	}
	if md := cla.Endpoints[1].LbEndpoints[0].GetMetadata(); md != nil {
		t.Errorf("plain backend endpoint metadata %v", md)
	}
	if route := firstRoute(t, res).GetRoute(); route.GetCluster() != "r" {
		t.Errorf("route action %v, want cluster r", route)
	}
}

// Backends whose TLS sets something cluster-wide that the other cannot
// take keep clusters of their own.
func TestUpstreamTLSSplitsClusters(t *testing.T) {
	a := ipBackend("r/backend/0", 1, 8443)
	a.TLS = &ir.BackendTLS{AutoSNI: true, CACertificates: "ca"}
	b := ipBackend("r/backend/1", 1, 8444)
	b.TLS = &ir.BackendTLS{SNI: "b.example.com", CACertificates: "ca"}
	r := prefixRoute("r", "/")
	r.Destination = dest("r", a, b)
	res := translateOne(t, oneRoute(r))
	if ctx := upstreamTLSOf(t, findCluster(t, res, "r/backend/0"), 0); !ctx.AutoSniSanValidation {
		t.Errorf("SNI from the Host without auto_sni_san_validation")
	}
	if ctx := upstreamTLSOf(t, findCluster(t, res, "r/backend/1"), 0); ctx.Sni != "b.example.com" {
		t.Errorf("SNI = %q", ctx.Sni)
	}
	// Two CA bundles under one derived name would be one: the name comes
	// from the content.
	if len(res.Secrets) != 1 {
		t.Errorf("secrets %v, want the one CA bundle", res.Secrets)
	}
}

// A cluster made from a URL (a remote JWKS) keeps one inline socket, and
// checks the certificate names the host.
func TestUpstreamTLSFromURL(t *testing.T) {
	be := &ir.Backend{Name: "keys/backend/-1", Weight: 1, AddressType: ir.AddressFQDN, Protocol: ir.ProtocolHTTP1,
		Endpoints: []ir.Endpoint{{Host: "keys.example.com", Port: 443}},
		TLS:       &ir.BackendTLS{SNI: "keys.example.com", UseSystemCA: true, FromURL: true}}
	r := prefixRoute("r", "/")
	r.Destination = dest("keys", be)
	res := translateOne(t, oneRoute(r))
	c := findCluster(t, res, "keys")
	if len(c.TransportSocketMatches) != 0 {
		t.Errorf("matches %v, want one socket", c.TransportSocketMatches)
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := c.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	vc := ctx.GetCommonTlsContext().GetValidationContext()
	if vc.GetTrustedCa().GetFilename() != SystemCABundle || ctx.Sni != "keys.example.com" {
		t.Errorf("context %v", ctx)
	}
	if sans := vc.GetMatchTypedSubjectAltNames(); len(sans) != 1 || sans[0].GetMatcher().GetExact() != "keys.example.com" {
		t.Errorf("SAN matchers %v, want the host", sans)
	}
	if len(res.Secrets) != 0 {
		t.Errorf("secrets %v, want none", res.Secrets)
	}
}

// Two different bundles under one name are refused.
func TestUpstreamTLSCASecretConflict(t *testing.T) {
	a := ipBackend("a/backend/0", 1, 8443)
	a.TLS = &ir.BackendTLS{SNI: "a", CACertificates: "one", CAName: "p/ns-ca"}
	b := ipBackend("b/backend/0", 1, 8443)
	b.TLS = &ir.BackendTLS{SNI: "b", CACertificates: "two", CAName: "p/ns-ca"}
	r1, r2 := prefixRoute("a", "/a"), prefixRoute("b", "/b")
	r1.Destination, r2.Destination = dest("a", a), dest("b", b)
	if _, err := Translate(oneRoute(r1, r2)); err == nil {
		t.Error("no error for two CA bundles named p/ns-ca")
	}
}

func TestUpstreamTLSErrors(t *testing.T) {
	for name, bt := range map[string]*ir.BackendTLS{
		"no SNI":       {CACertificates: "ca"},
		"no anchors":   {SNI: "x"},
		"both anchors": {SNI: "x", CACertificates: "ca", UseSystemCA: true},
	} {
		be := ipBackend("r/backend/0", 1, 8443)
		be.TLS = bt
		r := prefixRoute("r", "/")
		r.Destination = dest("r", be)
		if _, err := Translate(oneRoute(r)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
