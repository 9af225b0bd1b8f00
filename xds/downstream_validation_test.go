package xds

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// A Gateway's frontend validation: trust anchors in the named SDS secret;
// the fallback mode adds a default context accepting untrusted chains.
func TestDownstreamClientValidation(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		cfg := oneRoute(prefixRoute("r", "/"))
		cfg.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{Certificates: []*ir.Certificate{testCert},
			ClientValidation: &ir.ClientValidation{CACertificates: "client-ca", CAName: "gateway/ns/gw/default/ca.crt", AllowInsecureFallback: fallback}}
		res := translateOne(t, cfg)
		ctx := tlsOf(t, res.Listeners[0].FilterChains[0])
		common := ctx.GetCommonTlsContext()
		sds := common.GetValidationContextSdsSecretConfig()
		if fallback {
			cvc := common.GetCombinedValidationContext()
			sds = cvc.GetValidationContextSdsSecretConfig()
			if cvc.GetDefaultValidationContext().GetTrustChainVerification() != tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED {
				t.Errorf("fallback: default validation context %v, want untrusted chains accepted", cvc.GetDefaultValidationContext())
			}
		}
		if sds.GetName() != "gateway/ns/gw/default/ca.crt" || sds.GetSdsConfig().GetAds() == nil {
			t.Errorf("fallback=%v: trust anchors SDS = %v (context %v)", fallback, sds, common)
		}
		if got := findSecret(t, res, "gateway/ns/gw/default/ca.crt").GetValidationContext().GetTrustedCa().GetInlineBytes(); string(got) != "client-ca" {
			t.Errorf("fallback=%v: CA secret holds %q", fallback, got)
		}
		if got := ctx.GetRequireClientCertificate().GetValue(); got == fallback {
			t.Errorf("fallback=%v: require_client_certificate = %v", fallback, got)
		}
		// The static bootstrap names the secret statically.
		bs, err := StaticBootstrap(res, BootstrapOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sctx := tlsOf(t, bs.GetStaticResources().GetListeners()[0].FilterChains[0])
		s := sctx.GetCommonTlsContext().GetValidationContextSdsSecretConfig()
		if fallback {
			s = sctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig()
		}
		if s.GetName() != "gateway/ns/gw/default/ca.crt" || s.SdsConfig != nil {
			t.Errorf("fallback=%v: static reference %v, want a static name", fallback, s)
		}
	}
}

// A ClientTrafficPolicy's validation: CA and CRL in the secret, hashes and
// names in the default validation context; it replaces the Gateway's.
func TestDownstreamPolicyValidation(t *testing.T) {
	cfg := oneRoute(prefixRoute("r", "/"))
	cfg.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{Certificates: []*ir.Certificate{testCert},
		ClientValidation: &ir.ClientValidation{CACertificates: "gateway-ca", CAName: "gateway/ns/gw/default/ca.crt"},
		Client: &ir.ClientTLS{Validation: &ir.ClientCertValidation{CACertificates: "policy-ca", CAName: "ns/ctp/ca.crt",
			RequireCertificate: true, CRL: "crl", CRLLeafOnly: true, SPKIHashes: []string{"NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A="}}}}
	res := translateOne(t, cfg)
	ctx := tlsOf(t, res.Listeners[0].FilterChains[0])
	cvc := ctx.GetCommonTlsContext().GetCombinedValidationContext()
	if cvc.GetValidationContextSdsSecretConfig().GetName() != "ns/ctp/ca.crt" {
		t.Errorf("SDS %v, want ns/ctp/ca.crt", cvc.GetValidationContextSdsSecretConfig())
	}
	if d := cvc.GetDefaultValidationContext(); len(d.GetVerifyCertificateSpki()) != 1 || d.GetTrustedCa() != nil || d.GetCrl() != nil {
		t.Errorf("default validation context %v, want the hash only", d)
	}
	vc := findSecret(t, res, "ns/ctp/ca.crt").GetValidationContext()
	if string(vc.GetTrustedCa().GetInlineBytes()) != "policy-ca" || string(vc.GetCrl().GetInlineBytes()) != "crl" || !vc.OnlyVerifyLeafCertCrl {
		t.Errorf("CA secret %v", vc)
	}
	for _, s := range res.Secrets {
		if s.Name == "gateway/ns/gw/default/ca.crt" {
			t.Errorf("the replaced Gateway validation left its secret")
		}
	}
	if !ctx.GetRequireClientCertificate().GetValue() {
		t.Errorf("require_client_certificate off")
	}
}
