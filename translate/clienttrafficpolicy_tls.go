package translate

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// ctpCiphers are the cipher suites Envoy Gateway accepts in spec.tls.ciphers:
// Envoy's (BoringSSL) names and their IANA aliases, which Envoy maps.
var ctpCiphers = map[string]bool{
	"ECDHE-ECDSA-AES128-GCM-SHA256": true, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": true,
	"ECDHE-RSA-AES128-GCM-SHA256": true, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": true,
	"ECDHE-ECDSA-AES256-GCM-SHA384": true, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": true,
	"ECDHE-RSA-AES256-GCM-SHA384": true, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": true,
	"ECDHE-ECDSA-CHACHA20-POLY1305": true, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": true,
	"ECDHE-RSA-CHACHA20-POLY1305": true, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": true,
	"ECDHE-ECDSA-AES128-SHA": true, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": true,
	"ECDHE-RSA-AES128-SHA": true, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": true,
	"AES128-GCM-SHA256": true, "TLS_RSA_WITH_AES_128_GCM_SHA256": true,
	"AES128-SHA": true, "TLS_RSA_WITH_AES_128_CBC_SHA": true,
	"ECDHE-ECDSA-AES256-SHA": true, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": true,
	"ECDHE-RSA-AES256-SHA": true, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": true,
	"AES256-GCM-SHA384": true, "TLS_RSA_WITH_AES_256_GCM_SHA384": true,
	"AES256-SHA": true, "TLS_RSA_WITH_AES_256_CBC_SHA": true,
}

// ctpCurves are the key exchange groups Envoy 1.40 (BoringSSL) takes.
// Envoy refuses a listener naming another, and a static bootstrap with such
// a listener does not start at all, so an unknown name is refused here.
var ctpCurves = map[string]bool{
	"X25519": true, "P-256": true, "P-384": true, "P-521": true,
	"prime256v1": true, "secp384r1": true, "secp521r1": true,
	"X25519MLKEM768": true, "MLKEM1024": true,
}

// ctpSigAlgs are the signature algorithm names Envoy 1.40 (BoringSSL)
// takes: TLS 1.3 code point names and OpenSSL's KEY+HASH spelling.
var ctpSigAlgs = map[string]bool{
	"rsa_pkcs1_sha1": true, "rsa_pkcs1_sha256": true, "rsa_pkcs1_sha384": true, "rsa_pkcs1_sha512": true,
	"ecdsa_sha1": true, "ecdsa_secp256r1_sha256": true, "ecdsa_secp384r1_sha384": true, "ecdsa_secp521r1_sha512": true,
	"rsa_pss_rsae_sha256": true, "rsa_pss_rsae_sha384": true, "rsa_pss_rsae_sha512": true, "ed25519": true,
	"RSA+SHA1": true, "RSA+SHA256": true, "RSA+SHA384": true, "RSA+SHA512": true,
	"ECDSA+SHA1": true, "ECDSA+SHA256": true, "ECDSA+SHA384": true, "ECDSA+SHA512": true,
	"RSA-PSS+SHA256": true, "RSA-PSS+SHA384": true, "RSA-PSS+SHA512": true,
	"PSS+SHA256": true, "PSS+SHA384": true, "PSS+SHA512": true,
}

// The CRD's version order: Auto is the lowest minimum and the highest
// maximum.
var (
	ctpMinOrder = map[egv1a1.TLSVersion]int{egv1a1.TLSAuto: 0, egv1a1.TLSv10: 1, egv1a1.TLSv11: 2, egv1a1.TLSv12: 3, egv1a1.TLSv13: 4}
	ctpMaxOrder = map[egv1a1.TLSVersion]int{egv1a1.TLSv10: 1, egv1a1.TLSv11: 2, egv1a1.TLSv12: 3, egv1a1.TLSv13: 4, egv1a1.TLSAuto: 5}
)

// ctpTLS translates spec.tls; fingerprints go to the listener socket.
func (b *builder) ctpTLS(p *policy, t *egv1a1.ClientTLSSettings) (*ctpTLS, []string, error) {
	out := &ctpTLS{client: &ir.ClientTLS{}}
	version := func(v *egv1a1.TLSVersion, field string) (string, error) {
		if v == nil {
			return "", nil
		}
		switch *v {
		case egv1a1.TLSAuto:
			return "", nil
		case egv1a1.TLSv10, egv1a1.TLSv11, egv1a1.TLSv12, egv1a1.TLSv13:
			return string(*v), nil
		}
		return "", fmt.Errorf("%s: unknown value %q (Auto, 1.0, 1.1, 1.2, 1.3)", field, *v)
	}
	var err error
	if out.minVersion, err = version(t.MinVersion, "spec.tls.minVersion"); err != nil {
		return nil, nil, err
	}
	if out.maxVersion, err = version(t.MaxVersion, "spec.tls.maxVersion"); err != nil {
		return nil, nil, err
	}
	out.minSet, out.maxSet = t.MinVersion != nil, t.MaxVersion != nil
	// The CRD's rule, where an unset minimum counts as 1.2.
	switch {
	case t.MinVersion != nil && t.MaxVersion != nil && ctpMinOrder[*t.MinVersion] > ctpMaxOrder[*t.MaxVersion],
		t.MinVersion == nil && t.MaxVersion != nil && ctpMaxOrder[*t.MaxVersion] < 3:
		return nil, nil, errors.New("spec.tls: minVersion must be smaller or equal to maxVersion (the CRD rejects it)")
	}
	if t.MinVersion != nil && *t.MinVersion == egv1a1.TLSv13 && len(t.Ciphers) > 0 {
		return nil, nil, errors.New("spec.tls.ciphers: setting ciphers has no effect if the minimum possible TLS version is 1.3 (the CRD rejects it)")
	}
	for i, c := range t.Ciphers {
		if !ctpCiphers[c] {
			return nil, nil, fmt.Errorf("spec.tls.ciphers[%d]: unsupported cipher suite %q", i, c)
		}
	}
	out.ciphers = append([]string(nil), t.Ciphers...)
	for i, c := range t.ECDHCurves {
		if !ctpCurves[c] {
			return nil, nil, fmt.Errorf("spec.tls.ecdhCurves[%d]: %q is not a curve Envoy knows (X25519, P-256, P-384, P-521, X25519MLKEM768, ...)", i, c)
		}
	}
	out.client.ECDHCurves = append([]string(nil), t.ECDHCurves...)
	for i, a := range t.SignatureAlgorithms {
		if !ctpSigAlgs[a] {
			return nil, nil, fmt.Errorf("spec.tls.signatureAlgorithms[%d]: %q is not a signature algorithm Envoy knows (rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256, ed25519, ...)", i, a)
		}
	}
	out.client.SignatureAlgorithms = append([]string(nil), t.SignatureAlgorithms...)
	if t.ALPNProtocols != nil {
		// An explicitly empty list turns ALPN off (Envoy Gateway 1.3 on).
		out.alpnSet = true
		for i, a := range t.ALPNProtocols {
			if a == "" || len(a) > 255 {
				return nil, nil, fmt.Errorf("spec.tls.alpnProtocols[%d]: a protocol name is 1-255 bytes", i)
			}
			out.alpn = append(out.alpn, string(a))
		}
		out.client.DisableALPN = len(out.alpn) == 0
	}
	var fingerprints []string
	for i, f := range t.Fingerprints {
		switch f {
		case egv1a1.TLSFingerprintTypeJA3, egv1a1.TLSFingerprintTypeJA4:
			fingerprints = append(fingerprints, string(f))
		default:
			return nil, nil, fmt.Errorf("spec.tls.fingerprints[%d]: unknown value %q (JA3, JA4)", i, f)
		}
	}
	if s := t.Session; s != nil && s.Resumption != nil {
		out.client.StatelessResumption = s.Resumption.Stateless != nil
		out.client.StatefulResumption = s.Resumption.Stateful != nil
	}
	if cv := t.ClientValidation; cv != nil {
		v, err := b.ctpClientValidation(p, cv)
		if err != nil {
			return nil, nil, err
		}
		out.client.Validation = v
	}
	if c := out.client; len(c.ECDHCurves)+len(c.SignatureAlgorithms) == 0 && !c.DisableALPN &&
		!c.StatelessResumption && !c.StatefulResumption && c.Validation == nil {
		out.client = nil
	}
	return out, fingerprints, nil
}

// ctpClientValidation is spec.tls.clientValidation.
func (b *builder) ctpClientValidation(p *policy, cv *egv1a1.ClientValidationContext) (*ir.ClientCertValidation, error) {
	const field = "spec.tls.clientValidation"
	mode := egv1a1.ClientValidationRequireAndVerify
	switch {
	case cv.Mode != nil:
		mode = *cv.Mode
	case cv.Optional:
		// The deprecated optional means VerifyIfGiven.
		mode = egv1a1.ClientValidationVerifyIfGiven
	}
	v := &ir.ClientCertValidation{}
	switch mode {
	case egv1a1.ClientValidationRequest:
		v.AcceptUntrusted = true
	case egv1a1.ClientValidationRequireAny:
		v.RequireCertificate, v.AcceptUntrusted = true, true
	case egv1a1.ClientValidationVerifyIfGiven:
	case egv1a1.ClientValidationRequireAndVerify:
		v.RequireCertificate = true
	default:
		return nil, fmt.Errorf("%s.mode: unknown value %q (Request, RequireAny, VerifyIfGiven, RequireAndVerify)", field, mode)
	}
	if cv.AllowExpiredCertificate != nil && *cv.AllowExpiredCertificate {
		if cv.Mode != nil && mode != egv1a1.ClientValidationVerifyIfGiven && mode != egv1a1.ClientValidationRequireAndVerify {
			return nil, fmt.Errorf("%s.allowExpiredCertificate: can only be set when mode is VerifyIfGiven or RequireAndVerify (the CRD rejects it)", field)
		}
		v.AllowExpired = true
	}
	if len(cv.CACertificateRefs) > 8 {
		return nil, fmt.Errorf("%s.caCertificateRefs: at most 8 references (the CRD rejects more)", field)
	}
	var bundle strings.Builder
	seen := map[string]bool{}
	for i, ref := range cv.CACertificateRefs {
		f := fmt.Sprintf("%s.caCertificateRefs[%d]", field, i)
		data, err := b.ctpRefData(p, ref, caCertKey, f)
		if err != nil {
			return nil, err
		}
		certs, err := pemCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: no valid certificates: %v", f, err)
		}
		// Several references may repeat a CA; list each once.
		for _, c := range certs {
			if !seen[c] {
				seen[c] = true
				bundle.WriteString(c)
			}
		}
	}
	v.CACertificates = bundle.String()
	if v.CACertificates != "" {
		v.CAName = p.meta.Namespace + "/" + p.meta.Name + "/" + caCertKey // Envoy Gateway's name
	}
	if !v.AcceptUntrusted && v.CACertificates == "" {
		if cv.Mode == nil && cv.Optional {
			return nil, fmt.Errorf(`%s.optional=true requires caCertificateRefs (it means mode %q)`, field, mode)
		}
		return nil, fmt.Errorf(`%s.mode %q requires caCertificateRefs`, field, mode)
	}
	for i, h := range cv.SPKIHashes {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s.spkiHashes[%d]: %q is not a base64 SHA-256 hash", field, i, h)
		}
		v.SPKIHashes = append(v.SPKIHashes, h)
	}
	for i, h := range cv.CertificateHashes {
		raw, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s.certificateHashes[%d]: %q is not a hex SHA-256 hash", field, i, h)
		}
		v.CertificateHashes = append(v.CertificateHashes, h)
	}
	if sans := cv.SubjectAltNames; sans != nil {
		add := func(typ, oid string, list []egv1a1.StringMatch, name string) error {
			for i, m := range list {
				im, err := ctpStringMatch(m, fmt.Sprintf("%s.subjectAltNames.%s[%d]", field, name, i))
				if err != nil {
					return err
				}
				v.SubjectAltNames = append(v.SubjectAltNames, ir.ClientSANMatcher{Type: typ, OID: oid, Match: im})
			}
			return nil
		}
		for _, l := range []struct {
			typ, name string
			list      []egv1a1.StringMatch
		}{
			{"DNS", "dnsNames", sans.DNSNames}, {"EMAIL", "emailAddresses", sans.EmailAddresses},
			{"IP_ADDRESS", "ipAddresses", sans.IPAddresses}, {"URI", "uris", sans.URIs},
		} {
			if err := add(l.typ, "", l.list, l.name); err != nil {
				return nil, err
			}
		}
		for i, o := range sans.OtherNames {
			if o.Oid == "" {
				return nil, fmt.Errorf("%s.subjectAltNames.otherNames[%d].oid: required", field, i)
			}
			if err := add("OTHER_NAME", o.Oid, []egv1a1.StringMatch{o.StringMatch}, fmt.Sprintf("otherNames[%d]", i)); err != nil {
				return nil, err
			}
		}
	}
	// Envoy refuses to check subject alternative names without trust
	// anchors ("SAN-based verification ... without trusted CA is insecure
	// and not allowed"), and a static bootstrap would not start.
	if len(v.SubjectAltNames) > 0 && v.CACertificates == "" {
		return nil, fmt.Errorf("%s.subjectAltNames: Envoy checks subject alternative names only with trusted CA certificates: add caCertificateRefs", field)
	}
	if crl := cv.Crl; crl != nil {
		if len(crl.Refs) == 0 || len(crl.Refs) > 8 {
			return nil, fmt.Errorf("%s.crl.refs: 1 to 8 references (the CRD rejects others)", field)
		}
		var all strings.Builder
		for i, ref := range crl.Refs {
			f := fmt.Sprintf("%s.crl.refs[%d]", field, i)
			data, err := b.ctpRefData(p, ref, "ca.crl", f)
			if err != nil {
				return nil, err
			}
			if err := checkCRL(data); err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			all.WriteString(data)
			if !strings.HasSuffix(data, "\n") {
				all.WriteString("\n")
			}
		}
		v.CRL = all.String()
		v.CRLLeafOnly = crl.OnlyVerifyLeafCertificate != nil && *crl.OnlyVerifyLeafCertificate
	}
	return v, nil
}

// ctpRefData reads key from the Secret or ConfigMap ref names (in the
// policy's namespace unless it says otherwise, then only with a
// ReferenceGrant). As Envoy Gateway does, an object without that key but
// with exactly one entry gives that entry.
func (b *builder) ctpRefData(p *policy, ref gwv1.SecretObjectReference, key, field string) (string, error) {
	kind := "Secret"
	if ref.Kind != nil && *ref.Kind != "" {
		kind = string(*ref.Kind)
	}
	group := ""
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if group != "" || (kind != "Secret" && kind != "ConfigMap") {
		return "", fmt.Errorf("%s: unsupported reference kind %s (Secret or ConfigMap; egctl has no ClusterTrustBundle)", field, groupKind(group, kind))
	}
	ns := p.meta.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	from := objRef{group: resource.GroupEnvoyGateway, kind: p.kind.name, namespace: p.meta.Namespace}
	if !b.grants.allowed(from, objRef{kind: kind, namespace: ns, name: string(ref.Name)}) {
		return "", fmt.Errorf("%s: %s %s/%s is in another namespace and no ReferenceGrant allows it", field, kind, ns, ref.Name)
	}
	var data map[string]string
	if kind == "ConfigMap" {
		var cm *corev1.ConfigMap
		for _, c := range b.out.ConfigMaps {
			if c.Namespace == ns && c.Name == string(ref.Name) {
				cm = c
				break
			}
		}
		if cm == nil {
			return "", fmt.Errorf("%s: ConfigMap %s/%s not found", field, ns, ref.Name)
		}
		data = map[string]string{}
		for k, v := range cm.BinaryData {
			data[k] = string(v)
		}
		for k, v := range cm.Data {
			data[k] = v
		}
	} else {
		s := b.secrets[nsName{ns, string(ref.Name)}]
		if s == nil {
			return "", fmt.Errorf("%s: Secret %s/%s not found", field, ns, ref.Name)
		}
		data = map[string]string{}
		for k := range s.Data {
			data[k] = string(secretValue(s, k))
		}
		for k := range s.StringData {
			data[k] = string(secretValue(s, k))
		}
	}
	if v, ok := data[key]; ok && v != "" {
		return v, nil
	}
	if len(data) == 1 {
		for _, v := range data {
			if v != "" {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %s %s/%s has no key %s", field, kind, ns, ref.Name, key)
}

// pemCertificates returns each valid CERTIFICATE block of data re-encoded,
// or an error when there is none. Invalid blocks beside valid ones are
// dropped, as Envoy Gateway does.
func pemCertificates(data string) ([]string, error) {
	rest := []byte(data)
	var out []string
	var lastErr error
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			lastErr = err
			continue
		}
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes})))
	}
	if len(out) == 0 {
		if lastErr != nil {
			return nil, lastErr
		}
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// checkCRL requires PEM revocation lists that parse. Expiry is not
// checked: the output must not depend on the clock, and Envoy refuses
// client certificates checked against an expired list anyway.
func checkCRL(data string) error {
	rest := []byte(data)
	n := 0
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "X509 CRL" {
			continue
		}
		if _, err := x509.ParseRevocationList(blk.Bytes); err != nil {
			return fmt.Errorf("revocation list %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("no PEM revocation list (X509 CRL)")
	}
	return nil
}

// ctpTLSVersions returns the TLS of a listener a ClientTrafficPolicy
// applies to (changed, from apply, or nil for the listener's own tls) with
// the versions Envoy Gateway writes there whatever the policy says: at
// least TLS 1.2, at most 1.3, where neither the policy nor the Gateway
// chose. Those are Envoy's own downstream defaults, so this is spelling,
// not behaviour. (Envoy Gateway also resets versions a Gateway's
// tls.options chose; egctl keeps them.)
func ctpTLSVersions(own, changed *ir.TLSConfig) *ir.TLSConfig {
	tc := changed
	if tc == nil {
		tc = own
	}
	if tc == nil || (tc.MinVersion != "" && tc.MaxVersion != "") {
		return changed
	}
	cp := *tc
	if cp.MinVersion == "" {
		cp.MinVersion = "1.2"
	}
	if cp.MaxVersion == "" {
		cp.MaxVersion = "1.3"
	}
	return &cp
}
