package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Client certificate validation on HTTPS and TLS listeners, spelled as
// Envoy Gateway spells it: the trust anchors (and revocation lists) travel
// in an SDS validation secret named after where they come from
// ("gateway/<ns>/<gateway>/default/ca.crt" for a Gateway's
// spec.tls.frontend, "<ns>/<policy>/ca.crt" for a ClientTrafficPolicy),
// and what else is checked (untrusted chains accepted, expired
// certificates, pinned hashes, names) sits in a default validation context
// beside it; with nothing else the context names the secret alone.

// applyClientValidation asks downstream clients for a certificate and
// checks it against the Gateway's frontend trust anchors.
func (b *builder) applyClientValidation(ctx *tlsv3.DownstreamTlsContext, v *ir.ClientValidation) error {
	if v == nil {
		return nil
	}
	if v.CACertificates == "" {
		return fmt.Errorf("ClientValidation: empty CACertificates")
	}
	rest := &tlsv3.CertificateValidationContext{}
	if v.AllowInsecureFallback {
		// Ask for a certificate, but let the connection in without one or
		// with one that does not verify.
		rest.TrustChainVerification = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
	} else {
		ctx.RequireClientCertificate = wrapperspb.Bool(true)
	}
	return b.sdsClientValidation(ctx.CommonTlsContext, v.CAName, v.CACertificates, "", false, rest)
}

// sdsClientValidation points common at the validation secret name (derived
// from the content when empty) holding ca and crl, with rest beside it when
// it checks anything.
func (b *builder) sdsClientValidation(common *tlsv3.CommonTlsContext, name, ca, crl string, crlLeafOnly bool, rest *tlsv3.CertificateValidationContext) error {
	vc := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(ca)}},
	}
	if crl != "" {
		vc.Crl = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(crl)}}
		vc.OnlyVerifyLeafCertCrl = crlLeafOnly
	}
	if name == "" {
		sum := sha256.Sum256([]byte(ca + "\x00" + crl))
		name = "client-ca-" + hex.EncodeToString(sum[:8])
	}
	if old, ok := b.secrets[name]; ok {
		if !proto.Equal(old.GetValidationContext(), vc) {
			return fmt.Errorf("CA secret %q: two different sets of trust anchors share this name", name)
		}
	} else {
		b.secrets[name] = &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: vc}}
	}
	sds := &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()}
	if proto.Size(rest) == 0 {
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{ValidationContextSdsSecretConfig: sds}
		return nil
	}
	common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         rest,
			ValidationContextSdsSecretConfig: sds,
		},
	}
	return nil
}

// staticDownstreamTLS makes the SDS references of a listener's TLS context
// static (names of secrets in static_resources).
func staticDownstreamTLS(ctx *tlsv3.DownstreamTlsContext) {
	common := ctx.GetCommonTlsContext()
	for _, s := range common.GetTlsCertificateSdsSecretConfigs() {
		s.SdsConfig = nil
	}
	if s := common.GetValidationContextSdsSecretConfig(); s != nil {
		s.SdsConfig = nil
	}
	if s := common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); s != nil {
		s.SdsConfig = nil
	}
}
