package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

func upstreamTLSOf(t *testing.T, c *clusterv3.Cluster) *tlsv3.UpstreamTlsContext {
	t.Helper()
	ts := c.GetTransportSocket()
	if ts == nil || ts.GetName() != tlsTransportSocketName {
		t.Fatalf("cluster %q has no TLS transport socket", c.GetName())
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func TestUpstreamTLS(t *testing.T) {
	be := ipBackend("r/backend/0", 1, 8443)
	be.TLS = &ir.BackendTLS{SNI: "api.example.com", CACertificates: "ca-pem\n", ClientCertificate: testCert}
	sys := ipBackend("s/backend/0", 1, 443)
	sys.Protocol = ir.ProtocolHTTP2
	sys.TLS = &ir.BackendTLS{SNI: "sys.example.com", UseSystemCA: true,
		SubjectAltNames: []ir.SubjectAltName{{Type: ir.SANDNS, Value: "alt.example.com"}, {Type: ir.SANURI, Value: "spiffe://td/ns/x"}}}
	r1 := prefixRoute("r", "/r")
	r1.Destination = dest("r", be)
	r2 := prefixRoute("s", "/s")
	r2.Destination = dest("s", sys)
	res := translateOne(t, oneRoute(r1, r2))

	ctx := upstreamTLSOf(t, findCluster(t, res, "r"))
	if ctx.Sni != "api.example.com" {
		t.Errorf("SNI = %q", ctx.Sni)
	}
	vc := ctx.GetCommonTlsContext().GetValidationContext()
	if vc.GetTrustedCa().GetInlineString() != "ca-pem\n" {
		t.Errorf("trusted CA = %v", vc.GetTrustedCa())
	}
	if sans := vc.GetMatchTypedSubjectAltNames(); len(sans) != 1 || sans[0].SanType != tlsv3.SubjectAltNameMatcher_DNS || sans[0].GetMatcher().GetExact() != "api.example.com" {
		t.Errorf("SAN matchers = %v, want DNS api.example.com (the SNI)", sans)
	}
	if sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs(); len(sds) != 1 || sds[0].Name != testCert.Name {
		t.Errorf("client certificate SDS = %v", sds)
	}
	found := false
	for _, s := range res.Secrets {
		found = found || s.Name == testCert.Name
	}
	if !found {
		t.Errorf("client certificate secret %q missing", testCert.Name)
	}

	ctx = upstreamTLSOf(t, findCluster(t, res, "s"))
	vc = ctx.GetCommonTlsContext().GetValidationContext()
	if vc.GetTrustedCa().GetFilename() != SystemCABundle {
		t.Errorf("system CA = %v", vc.GetTrustedCa())
	}
	if sans := vc.GetMatchTypedSubjectAltNames(); len(sans) != 2 || sans[1].SanType != tlsv3.SubjectAltNameMatcher_URI {
		t.Errorf("SAN matchers = %v", sans)
	}
	if alpn := ctx.GetCommonTlsContext().GetAlpnProtocols(); len(alpn) != 1 || alpn[0] != "h2" {
		t.Errorf("ALPN = %v, want h2 for an HTTP/2 backend", alpn)
	}

	// The static bootstrap references the client certificate statically.
	bs, err := StaticBootstrap(res, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bs.GetStaticResources().GetClusters() {
		if c.Name != "r" {
			continue
		}
		sds := upstreamTLSOf(t, c).GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
		if len(sds) != 1 || sds[0].SdsConfig != nil {
			t.Errorf("static bootstrap client certificate reference = %v, want a static name", sds)
		}
	}
}

// Backends that differ in TLS cannot share a cluster.
func TestUpstreamTLSSplitsClusters(t *testing.T) {
	a := ipBackend("r/backend/0", 1, 8443)
	a.TLS = &ir.BackendTLS{SNI: "a.example.com", CACertificates: "ca"}
	b := ipBackend("r/backend/1", 1, 8080)
	r := prefixRoute("r", "/")
	r.Destination = dest("r", a, b)
	res := translateOne(t, oneRoute(r))
	upstreamTLSOf(t, findCluster(t, res, "r/backend/0"))
	if ts := findCluster(t, res, "r/backend/1").GetTransportSocket(); ts != nil {
		t.Errorf("plain backend got a transport socket %v", ts)
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

func TestDownstreamClientValidation(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		cfg := oneRoute(prefixRoute("r", "/"))
		cfg.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{Certificates: []*ir.Certificate{testCert},
			ClientValidation: &ir.ClientValidation{CACertificates: "client-ca", AllowInsecureFallback: fallback}}
		res := translateOne(t, cfg)
		ctx := tlsOf(t, res.Listeners[0].FilterChains[0])
		vc := ctx.GetCommonTlsContext().GetValidationContext()
		if vc.GetTrustedCa().GetInlineString() != "client-ca" {
			t.Errorf("fallback=%v: trusted CA = %v", fallback, vc.GetTrustedCa())
		}
		if got := ctx.GetRequireClientCertificate().GetValue(); got == fallback {
			t.Errorf("fallback=%v: require_client_certificate = %v", fallback, got)
		}
		wantTrust := tlsv3.CertificateValidationContext_VERIFY_TRUST_CHAIN
		if fallback {
			wantTrust = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
		}
		if vc.TrustChainVerification != wantTrust {
			t.Errorf("fallback=%v: trust chain verification = %v", fallback, vc.TrustChainVerification)
		}
	}
}
