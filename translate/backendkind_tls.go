package translate

import (
	"crypto/tls"
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// TLS to an Envoy Gateway Backend comes from its spec.tls, from a
// BackendTLSPolicy targeting it, or from both: the policy's hostname and
// validation then win, the Backend keeps its client certificate and TLS
// parameters (Envoy Gateway's merge).

// errBackendTLS marks a Backend whose BackendTLSPolicy is unusable: its
// traffic fails instead of leaving in plain text.
var errBackendTLS = &ir.BackendTLS{}

// backendTLSSettings resolves a Backend's spec.tls. msg continues the
// field path ("spec.tls" already written) when the Backend is invalid.
func (b *builder) backendTLSSettings(be *egv1a1.Backend) (*ir.BackendTLS, string) {
	s := be.Spec.TLS
	t := &ir.BackendTLS{}
	wellKnown := s.WellKnownCACertificates != nil && *s.WellKnownCACertificates != ""
	skip := s.InsecureSkipVerify != nil && *s.InsecureSkipVerify
	autoHost := s.AutoSNIFromEndpointHostname != nil && *s.AutoSNIFromEndpointHostname
	switch {
	case wellKnown && len(s.CACertificateRefs) > 0:
		return nil, ": caCertificateRefs and wellKnownCACertificates are mutually exclusive"
	case skip && (wellKnown || len(s.CACertificateRefs) > 0):
		return nil, ": insecureSkipVerify cannot be combined with caCertificateRefs or wellKnownCACertificates"
	case s.SNI != nil && autoHost:
		return nil, ": sni and autoSNIFromEndpointHostname are mutually exclusive"
	}
	switch {
	case s.SNI != nil:
		if err := checkPreciseHostname(string(*s.SNI)); err != nil { // validate_crd.go
			return nil, ".sni: " + err.Error()
		}
		t.SNI = strings.ToLower(string(*s.SNI))
	case autoHost:
		for i, ep := range be.Spec.Endpoints {
			if ep.FQDN == nil && ep.Hostname == nil {
				return nil, fmt.Sprintf(".autoSNIFromEndpointHostname: spec.endpoints[%d] has no hostname to send", i)
			}
		}
		t.AutoHostSNI = true
	default:
		// Envoy Gateway's default: the request's Host is the server name.
		t.AutoSNI = true
	}
	switch {
	case skip:
		t.InsecureSkipVerify = true
	case wellKnown:
		if *s.WellKnownCACertificates != gwv1.WellKnownCACertificatesSystem {
			return nil, fmt.Sprintf(".wellKnownCACertificates %q is not supported; only System", *s.WellKnownCACertificates)
		}
		t.UseSystemCA = true
		t.CAName = ir.SystemCASecret
	case len(s.CACertificateRefs) > 0:
		from := objRef{group: resource.GroupEnvoyGateway, kind: "Backend", namespace: be.Namespace, name: be.Name}
		var bundle []string
		for i, ref := range s.CACertificateRefs {
			if ref.Group == "" && ref.Kind == "ClusterTrustBundle" {
				return nil, fmt.Sprintf(".caCertificateRefs[%d]: ClusterTrustBundle is not supported; use a ConfigMap or Secret with ca.crt", i)
			}
			pemText, reason, msg := b.resolveCA(from, string(ref.Group), string(ref.Kind), be.Namespace, string(ref.Name)) // tls.go
			if reason != "" {
				return nil, fmt.Sprintf(".caCertificateRefs[%d]: %s", i, msg)
			}
			bundle = append(bundle, pemText)
		}
		t.CACertificates = strings.Join(bundle, "")
		t.CAName = caSecretName(be.Name, be.Namespace) // backendtlspolicy.go
	default:
		// No trust anchors of its own: a BackendTLSPolicy must give them
		// (checked per backendRef, whose port picks the policy).
		if !b.backendTLSPoliciesCover(be) {
			return nil, ": set caCertificateRefs or wellKnownCACertificates (or insecureSkipVerify: true), " +
				"or target the Backend with a BackendTLSPolicy that does"
		}
	}
	if c := s.BackendTLSConfig; c != nil {
		if msg := b.backendTLSConfig(be, c, t); msg != "" {
			return nil, msg
		}
	}
	return t, ""
}

// backendTLSConfig reads the client certificate and TLS parameters.
func (b *builder) backendTLSConfig(be *egv1a1.Backend, c *egv1a1.BackendTLSConfig, t *ir.BackendTLS) string {
	if ref := c.ClientCertificateRef; ref != nil {
		if ref.Namespace != nil && string(*ref.Namespace) != "" && string(*ref.Namespace) != be.Namespace {
			return fmt.Sprintf(".clientCertificateRef: Secret %s/%s must be in the Backend's namespace %s", *ref.Namespace, ref.Name, be.Namespace)
		}
		cert, msg := b.backendClientCertificate(be.Namespace, *ref)
		if cert == nil {
			return ".clientCertificateRef: " + msg
		}
		t.ClientCertificate = cert
	}
	version := func(field string, v *egv1a1.TLSVersion) (string, string) {
		if v == nil || *v == egv1a1.TLSAuto {
			return "", ""
		}
		if _, ok := tlsVersionOrder[string(*v)]; !ok { // tls.go
			return "", fmt.Sprintf(".%s %q is not a TLS version (Auto, 1.0, 1.1, 1.2 or 1.3)", field, *v)
		}
		return string(*v), ""
	}
	var msg string
	if t.MinVersion, msg = version("minVersion", c.MinVersion); msg != "" {
		return msg
	}
	if t.MaxVersion, msg = version("maxVersion", c.MaxVersion); msg != "" {
		return msg
	}
	if t.MinVersion != "" && t.MaxVersion != "" && tlsVersionOrder[t.MinVersion] > tlsVersionOrder[t.MaxVersion] {
		return fmt.Sprintf(": minVersion %s is above maxVersion %s", t.MinVersion, t.MaxVersion)
	}
	for i, cs := range c.Ciphers {
		if !envoyCiphers[cs] && !envoyCiphers[ianaCiphers[cs]] {
			return fmt.Sprintf(".ciphers[%d]: unknown cipher suite %q", i, cs)
		}
		if n := ianaCiphers[cs]; n != "" {
			cs = n // Envoy takes the OpenSSL spelling
		}
		t.Ciphers = append(t.Ciphers, cs)
	}
	for i, cv := range c.ECDHCurves {
		if !envoyCurves[cv] {
			return fmt.Sprintf(".ecdhCurves[%d]: unknown curve %q (X25519, P-256, P-384, P-521, X25519MLKEM768)", i, cv)
		}
		t.ECDHCurves = append(t.ECDHCurves, cv)
	}
	for i, sa := range c.SignatureAlgorithms {
		if !envoySigAlgs[sa] {
			return fmt.Sprintf(".signatureAlgorithms[%d]: unknown signature algorithm %q (BoringSSL names such as ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256)", i, sa)
		}
		t.SignatureAlgorithms = append(t.SignatureAlgorithms, sa)
	}
	for i, p := range c.ALPNProtocols {
		if p == "" || len(p) > 255 {
			return fmt.Sprintf(".alpnProtocols[%d]: %q is not an ALPN protocol name", i, p)
		}
		t.ALPNProtocols = append(t.ALPNProtocols, string(p))
	}
	if len(c.Fingerprints) > 0 {
		// JA3/JA4 fingerprint the TLS client, which on this connection is
		// Envoy itself; they are a listener (ClientTrafficPolicy) matter.
		return ".fingerprints: client fingerprinting applies to listeners, not to connections to a backend"
	}
	return ""
}

// ianaCiphers maps the IANA names Envoy Gateway documents to Envoy's
// (OpenSSL) spelling.
var ianaCiphers = map[string]string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256":       "ECDHE-ECDSA-AES128-GCM-SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256":         "ECDHE-RSA-AES128-GCM-SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384":       "ECDHE-ECDSA-AES256-GCM-SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384":         "ECDHE-RSA-AES256-GCM-SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256":   "ECDHE-RSA-CHACHA20-POLY1305",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA":          "ECDHE-ECDSA-AES128-SHA",
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA":            "ECDHE-RSA-AES128-SHA",
	"TLS_RSA_WITH_AES_128_GCM_SHA256":               "AES128-GCM-SHA256",
	"TLS_RSA_WITH_AES_128_CBC_SHA":                  "AES128-SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA":          "ECDHE-ECDSA-AES256-SHA",
	"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA":            "ECDHE-RSA-AES256-SHA",
	"TLS_RSA_WITH_AES_256_GCM_SHA384":               "AES256-GCM-SHA384",
	"TLS_RSA_WITH_AES_256_CBC_SHA":                  "AES256-SHA",
}

// envoyCurves are the ECDH curves Envoy's BoringSSL accepts.
var envoyCurves = map[string]bool{"X25519": true, "P-256": true, "P-384": true, "P-521": true, "X25519MLKEM768": true}

// envoySigAlgs are the signature algorithm names BoringSSL accepts.
var envoySigAlgs = map[string]bool{
	"rsa_pkcs1_sha1": true, "rsa_pkcs1_sha256": true, "rsa_pkcs1_sha384": true, "rsa_pkcs1_sha512": true,
	"ecdsa_sha1": true, "ecdsa_secp256r1_sha256": true, "ecdsa_secp384r1_sha384": true, "ecdsa_secp521r1_sha512": true,
	"rsa_pss_rsae_sha256": true, "rsa_pss_rsae_sha384": true, "rsa_pss_rsae_sha512": true, "ed25519": true,
}

// backendKindTLS is the TLS of a reference to st through the port
// section: the Backend's own, a BackendTLSPolicy's, or both merged (one
// value per Backend, policy and port, shared by every route).
func (b *builder) backendKindTLS(st *backendState, section string) (*ir.BackendTLS, *refError) {
	be := st.be
	var bp *btlsPolicy
	if len(b.out.BackendTLSPolicies) > 0 {
		bp = b.backendTLSPolicies().policyForBackend(be.Namespace, be.Name, section) // backendtlspolicy.go
	}
	switch {
	case bp == nil && st.tls == nil:
		if st.wantsTLS {
			return nil, &refError{"UnsupportedProtocol", fmt.Sprintf("Backend %s/%s: appProtocol %s needs TLS to the backend and neither spec.tls nor a BackendTLSPolicy gives it",
				be.Namespace, be.Name, egv1a1.AppProtocolTypeWSS)}
		}
		return nil, nil
	case bp == nil:
		if !st.tls.InsecureSkipVerify && !st.tls.UseSystemCA && st.tls.CACertificates == "" {
			return nil, &refError{"InvalidBackendTLS", fmt.Sprintf("Backend %s/%s port %s: spec.tls has no trust anchors and no BackendTLSPolicy gives them for this port",
				be.Namespace, be.Name, section)}
		}
		return st.tls, nil
	case bp.tls == nil:
		return errBackendTLS, nil
	case st.tls == nil:
		return bp.tls, nil
	}
	key := mergedTLSKey{st, bp}
	if t, ok := b.mergedTLS[key]; ok {
		return t, nil
	}
	t := *st.tls
	t.SNI, t.AutoSNI, t.AutoHostSNI = bp.tls.SNI, false, false
	t.CACertificates, t.UseSystemCA, t.InsecureSkipVerify = bp.tls.CACertificates, bp.tls.UseSystemCA, false
	t.CAName = bp.tls.CAName
	t.SubjectAltNames = bp.tls.SubjectAltNames
	if b.mergedTLS == nil {
		b.mergedTLS = map[mergedTLSKey]*ir.BackendTLS{}
	}
	b.mergedTLS[key] = &t
	return &t, nil
}

type mergedTLSKey struct {
	st *backendState
	bp *btlsPolicy
}

// backendTLSPoliciesCover reports whether BackendTLSPolicies give trust
// anchors for every port of the Backend: one without sectionName, or one
// per endpoint port (Envoy Gateway's rule).
func (b *builder) backendTLSPoliciesCover(be *egv1a1.Backend) bool {
	if len(b.out.BackendTLSPolicies) == 0 {
		return false
	}
	idx := b.backendTLSPolicies()
	hasCA := func(bp *btlsPolicy) bool {
		if bp == nil {
			return false
		}
		v := bp.p.Spec.Validation
		return len(v.CACertificateRefs) > 0 || (v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != "")
	}
	if bp := idx.byTarget[btlsKey{backendKind, be.Namespace, be.Name, ""}]; bp != nil && hasCA(bp) {
		return true
	}
	ports := 0
	for _, ep := range be.Spec.Endpoints {
		var port int32
		switch {
		case ep.IP != nil:
			port = ep.IP.Port
		case ep.FQDN != nil:
			port = ep.FQDN.Port
		default:
			continue
		}
		ports++
		if !hasCA(idx.byTarget[btlsKey{backendKind, be.Namespace, be.Name, itoa(int(port))}]) {
			return false
		}
	}
	return ports > 0
}

// backendClientCertificate reads a Backend's client certificate: a Secret
// of its namespace with tls.crt and tls.key. Unlike a listener's
// certificate, any Secret type is taken (Envoy Gateway takes Opaque ones).
func (b *builder) backendClientCertificate(ns string, ref gwv1.SecretObjectReference) (*ir.Certificate, string) {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
		return nil, "only a core Secret is supported"
	}
	s := b.secrets[nsName{ns, string(ref.Name)}]
	if s == nil {
		return nil, fmt.Sprintf("Secret %s/%s not found", ns, ref.Name)
	}
	crt, key := secretValue(s, corev1.TLSCertKey), secretValue(s, corev1.TLSPrivateKeyKey) // listener.go
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Sprintf("Secret %s/%s lacks %s or %s", ns, ref.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil, fmt.Sprintf("Secret %s/%s: %v", ns, ref.Name, err)
	}
	return &ir.Certificate{Name: ns + "/" + string(ref.Name), Certificate: crt, PrivateKey: key}, ""
}
