package xds

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// applyClientTLS adds what a ClientTrafficPolicy asks of a downstream TLS
// context (ir.ClientTLS) to one buildDownstreamTLS made: key exchange
// groups, signature algorithms, ALPN off, session resumption and client
// certificate validation.
func (b *builder) applyClientTLS(ctx *tlsv3.DownstreamTlsContext, c *ir.ClientTLS) error {
	if c == nil {
		return nil
	}
	common := ctx.GetCommonTlsContext()
	if len(c.ECDHCurves) > 0 || len(c.SignatureAlgorithms) > 0 {
		if common.TlsParams == nil {
			common.TlsParams = &tlsv3.TlsParameters{}
		}
		common.TlsParams.EcdhCurves = append([]string(nil), c.ECDHCurves...)
		common.TlsParams.SignatureAlgorithms = append([]string(nil), c.SignatureAlgorithms...)
	}
	if c.DisableALPN {
		common.AlpnProtocols = nil
	}
	if c.StatelessResumption {
		ctx.SessionTicketKeysType = nil
	}
	if c.StatefulResumption {
		ctx.DisableStatefulSessionResumption = false
	}
	if v := c.Validation; v != nil {
		vc, err := clientValidationContext(v)
		if err != nil {
			return err
		}
		ctx.RequireClientCertificate = wrapperspb.Bool(v.RequireCertificate)
		if v.CACertificates == "" {
			// Nothing to trust (modes that do not verify): inline.
			common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
			return nil
		}
		vc.TrustedCa, vc.Crl, vc.OnlyVerifyLeafCertCrl = nil, nil, false
		return b.sdsClientValidation(common, v.CAName, v.CACertificates, v.CRL, v.CRLLeafOnly, vc) // downstream_validation.go
	}
	return nil
}

// clientValidationContext checks client certificates as asked: trust
// anchors and revocation lists inline (they are public), pinned hashes,
// subject alternative names.
func clientValidationContext(v *ir.ClientCertValidation) (*tlsv3.CertificateValidationContext, error) {
	vc := &tlsv3.CertificateValidationContext{
		VerifyCertificateSpki:   append([]string(nil), v.SPKIHashes...),
		VerifyCertificateHash:   append([]string(nil), v.CertificateHashes...),
		AllowExpiredCertificate: v.AllowExpired,
	}
	if v.CACertificates != "" {
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v.CACertificates}}
	}
	if v.AcceptUntrusted {
		vc.TrustChainVerification = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
	}
	if v.CRL != "" {
		vc.Crl = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v.CRL}}
		vc.OnlyVerifyLeafCertCrl = v.CRLLeafOnly
	}
	for i, s := range v.SubjectAltNames {
		m, err := valueMatcher(s.Match)
		if err != nil {
			return nil, fmt.Errorf("SubjectAltNames[%d]: %w", i, err)
		}
		sm := &tlsv3.SubjectAltNameMatcher{Matcher: m}
		switch s.Type {
		case "DNS":
			sm.SanType = tlsv3.SubjectAltNameMatcher_DNS
		case "EMAIL":
			sm.SanType = tlsv3.SubjectAltNameMatcher_EMAIL
		case "IP_ADDRESS":
			sm.SanType = tlsv3.SubjectAltNameMatcher_IP_ADDRESS
		case "URI":
			sm.SanType = tlsv3.SubjectAltNameMatcher_URI
		case "OTHER_NAME":
			sm.SanType, sm.Oid = tlsv3.SubjectAltNameMatcher_OTHER_NAME, s.OID
		default:
			return nil, fmt.Errorf("SubjectAltNames[%d]: unknown type %q", i, s.Type)
		}
		vc.MatchTypedSubjectAltNames = append(vc.MatchTypedSubjectAltNames, sm)
	}
	return vc, nil
}

// valueMatcher spells a name-less IR string match (Exact, Prefix, Suffix,
// RegularExpression) as an Envoy matcher.
func valueMatcher(m ir.StringMatch) (*matcherv3.StringMatcher, error) {
	switch m.Type {
	case ir.MatchExact, "":
		return exactMatcher(m.Value), nil
	case ir.MatchPrefix:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: m.Value}}, nil
	case ir.MatchSuffix:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: m.Value}}, nil
	case ir.MatchRegex:
		if err := checkRegex(m.Value); err != nil {
			return nil, err
		}
		return regexMatcher(m.Value), nil
	}
	return nil, fmt.Errorf("unknown match type %q", m.Type)
}
