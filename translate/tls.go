package translate

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// Listener tls.options keys egctl understands. Envoy Gateway v1.9.1 reads
// no listener option (its TLS knobs live in ClientTrafficPolicy), so these
// are egctl's own, domain-prefixed as Gateway API requires of
// implementation-specific keys. List values are comma-separated.
const (
	OptionTLSMinVersion   = "egctl.io/tls-min-version"   // 1.0, 1.1, 1.2 or 1.3
	OptionTLSMaxVersion   = "egctl.io/tls-max-version"   // 1.0, 1.1, 1.2 or 1.3
	OptionTLSCipherSuites = "egctl.io/tls-cipher-suites" // Envoy (BoringSSL) cipher names
	OptionTLSALPN         = "egctl.io/tls-alpn-protocols"
)

var tlsVersionOrder = map[string]int{"1.0": 0, "1.1": 1, "1.2": 2, "1.3": 3}

// envoyCiphers are the TLS 1.2 cipher suite names Envoy accepts in
// TlsParameters.cipher_suites (OpenSSL spelling). TLS 1.3 suites are not
// configurable in Envoy.
var envoyCiphers = map[string]bool{
	"ECDHE-ECDSA-AES128-GCM-SHA256": true, "ECDHE-RSA-AES128-GCM-SHA256": true,
	"ECDHE-ECDSA-AES256-GCM-SHA384": true, "ECDHE-RSA-AES256-GCM-SHA384": true,
	"ECDHE-ECDSA-CHACHA20-POLY1305": true, "ECDHE-RSA-CHACHA20-POLY1305": true,
	"ECDHE-ECDSA-AES128-SHA": true, "ECDHE-RSA-AES128-SHA": true,
	"ECDHE-ECDSA-AES256-SHA": true, "ECDHE-RSA-AES256-SHA": true,
	"ECDHE-PSK-AES128-CBC-SHA": true, "ECDHE-PSK-AES256-CBC-SHA": true,
	"ECDHE-PSK-CHACHA20-POLY1305": true,
	"AES128-GCM-SHA256":           true, "AES256-GCM-SHA384": true,
	"AES128-SHA": true, "AES256-SHA": true,
	"PSK-AES128-CBC-SHA": true, "PSK-AES256-CBC-SHA": true,
	"DES-CBC3-SHA": true,
}

// finishListenerTLS applies what a terminating listener takes besides its
// certificates: tls.options and, for HTTPS, the Gateway's frontend client
// certificate validation. A problem leaves the listener unprogrammed.
func (b *builder) finishListenerTLS(l *listenerState) {
	if l.tls == nil {
		return
	}
	if err := applyTLSOptions(l.tls, l.spec.TLS.Options); err != "" {
		l.cond.set("Accepted", false, "UnsupportedValue", err)
		l.tls = nil
		return
	}
	if l.spec.Protocol == gwv1.HTTPSProtocolType {
		b.frontendValidation(l)
	}
}

// applyTLSOptions reads the options egctl knows; an unknown key is an
// error, never ignored, since it asks for a security property.
func applyTLSOptions(cfg *ir.TLSConfig, opts map[gwv1.AnnotationKey]gwv1.AnnotationValue) string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	list := func(v string) []string {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	for _, k := range keys {
		v := string(opts[gwv1.AnnotationKey(k)])
		switch k {
		case OptionTLSMinVersion, OptionTLSMaxVersion:
			if _, ok := tlsVersionOrder[v]; !ok {
				return fmt.Sprintf("tls.options[%s]: %q is not a TLS version (1.0, 1.1, 1.2 or 1.3)", k, v)
			}
			if k == OptionTLSMinVersion {
				cfg.MinVersion = v
			} else {
				cfg.MaxVersion = v
			}
		case OptionTLSCipherSuites:
			cs := list(v)
			if len(cs) == 0 {
				return fmt.Sprintf("tls.options[%s]: empty cipher list", k)
			}
			for _, c := range cs {
				if !envoyCiphers[c] {
					return fmt.Sprintf("tls.options[%s]: unknown cipher suite %q", k, c)
				}
			}
			cfg.Ciphers = cs
		case OptionTLSALPN:
			ps := list(v)
			if len(ps) == 0 {
				return fmt.Sprintf("tls.options[%s]: empty protocol list", k)
			}
			cfg.ALPNProtocols = ps
		default:
			return fmt.Sprintf("tls.options: unknown key %q (egctl knows %s, %s, %s, %s)", k,
				OptionTLSMinVersion, OptionTLSMaxVersion, OptionTLSCipherSuites, OptionTLSALPN)
		}
	}
	if cfg.MinVersion != "" && cfg.MaxVersion != "" && tlsVersionOrder[cfg.MinVersion] > tlsVersionOrder[cfg.MaxVersion] {
		return fmt.Sprintf("tls.options: minimum version %s is above maximum %s", cfg.MinVersion, cfg.MaxVersion)
	}
	return ""
}

// frontendTLSFor returns the frontend TLS settings that apply to a port:
// the perPort entry for it, else the default.
func frontendTLSFor(gw *gwv1.Gateway, port gwv1.PortNumber) (*gwv1.TLSConfig, string) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil, ""
	}
	f := gw.Spec.TLS.Frontend
	for i := range f.PerPort {
		if f.PerPort[i].Port == port {
			return &f.PerPort[i].TLS, fmt.Sprintf("spec.tls.frontend.perPort[%d].tls", i)
		}
	}
	return &f.Default, "spec.tls.frontend.default"
}

func (b *builder) frontendValidation(l *listenerState) {
	gw := l.gw.gw
	tc, where := frontendTLSFor(gw, l.spec.Port)
	if tc == nil || tc.Validation == nil {
		return
	}
	v := tc.Validation
	from := objRef{group: resource.GroupGatewayAPI, kind: "Gateway", namespace: gw.Namespace, name: gw.Name}
	var bundle []string
	for i, ref := range v.CACertificateRefs {
		ns := gw.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		pemText, reason, msg := b.resolveCA(from, string(ref.Group), string(ref.Kind), ns, string(ref.Name))
		if reason != "" {
			l.cond.fail("ResolvedRefs", reason, fmt.Sprintf("%s.validation.caCertificateRefs[%d]: %s", where, i, msg))
			continue
		}
		bundle = append(bundle, pemText)
	}
	if len(bundle) == 0 {
		l.cond.set("Accepted", false, "NoValidCACertificate", where+".validation: no valid CA certificate")
		return
	}
	mode := v.Mode
	if mode == "" {
		mode = gwv1.AllowValidOnly
	}
	switch mode {
	case gwv1.AllowValidOnly, gwv1.AllowInsecureFallback:
	default:
		l.cond.set("Accepted", false, "UnsupportedValue", fmt.Sprintf("%s.validation.mode %q is not supported", where, mode))
		return
	}
	scope := "default"
	if strings.Contains(where, "perPort") {
		scope = itoa(int(l.spec.Port))
	}
	l.tls.ClientValidation = &ir.ClientValidation{
		CACertificates:        strings.Join(bundle, ""),
		CAName:                fmt.Sprintf("gateway/%s/%s/%s/%s", gw.Namespace, gw.Name, scope, caCertKey),
		AllowInsecureFallback: mode == gwv1.AllowInsecureFallback,
	}
}

// resolveCA reads a PEM CA bundle from a ConfigMap or Secret key ca.crt.
// It returns the bundle, or a Gateway API reason and a message.
func (b *builder) resolveCA(from objRef, group, kind, ns, name string) (string, string, string) {
	if group != "" || (kind != "ConfigMap" && kind != "Secret") {
		return "", "InvalidCACertificateKind", fmt.Sprintf("unsupported reference kind %s; use ConfigMap or Secret", groupKind(group, kind))
	}
	if !b.grants.allowed(from, objRef{group: "", kind: kind, namespace: ns, name: name}) {
		return "", "RefNotPermitted", fmt.Sprintf("%s %s/%s is in another namespace and no ReferenceGrant allows it", kind, ns, name)
	}
	var data string
	if kind == "ConfigMap" {
		var cm *corev1.ConfigMap
		for _, c := range b.out.ConfigMaps {
			if c.Namespace == ns && c.Name == name {
				cm = c
				break
			}
		}
		if cm == nil {
			return "", "InvalidCACertificateRef", fmt.Sprintf("ConfigMap %s/%s not found", ns, name)
		}
		data = cm.Data[caCertKey]
		if data == "" {
			data = string(cm.BinaryData[caCertKey])
		}
	} else {
		s := b.secrets[nsName{ns, name}]
		if s == nil {
			return "", "InvalidCACertificateRef", fmt.Sprintf("Secret %s/%s not found", ns, name)
		}
		data = string(secretValue(s, caCertKey))
	}
	if data == "" {
		return "", "InvalidCACertificateRef", fmt.Sprintf("%s %s/%s has no key %s", kind, ns, name, caCertKey)
	}
	if err := checkPEMCertificates(data); err != nil {
		return "", "InvalidCACertificateRef", fmt.Sprintf("%s %s/%s key %s: %v", kind, ns, name, caCertKey, err)
	}
	if !strings.HasSuffix(data, "\n") {
		data += "\n"
	}
	return data, "", ""
}

const caCertKey = "ca.crt"

// checkPEMCertificates requires at least one parseable CERTIFICATE block.
func checkPEMCertificates(data string) error {
	rest := []byte(data)
	n := 0
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
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no PEM certificate")
	}
	return nil
}

// gatewayTLS handles the Gateway-wide TLS settings: the client certificate
// presented to TLS backends, and the condition that warns about frontend
// validation that lets clients without a valid certificate in.
func (b *builder) gatewayTLS(g *gatewayState) {
	gw := g.gw
	if gw.Spec.TLS == nil {
		return
	}
	if f := gw.Spec.TLS.Frontend; f != nil {
		insecure := f.Default.Validation != nil && f.Default.Validation.Mode == gwv1.AllowInsecureFallback
		for _, p := range f.PerPort {
			if p.TLS.Validation != nil && p.TLS.Validation.Mode == gwv1.AllowInsecureFallback {
				insecure = true
			}
		}
		if insecure {
			g.cond.set(string(gwv1.GatewayConditionInsecureFrontendValidationMode), true, string(gwv1.GatewayReasonConfigurationChanged),
				"frontend client certificate validation accepts clients without a valid certificate (AllowInsecureFallback)")
		}
	}
	if be := gw.Spec.TLS.Backend; be != nil && be.ClientCertificateRef != nil {
		cert, reason, msg := b.resolveCertificate(gw, *be.ClientCertificateRef)
		if cert == nil {
			if reason == "InvalidCertificateRef" {
				reason = string(gwv1.GatewayReasonInvalidClientCertificateRef)
			}
			g.cond.set("ResolvedRefs", false, reason, "spec.tls.backend.clientCertificateRef: "+msg)
			return
		}
		g.backendCert = cert
		g.cond.set("ResolvedRefs", true, string(gwv1.GatewayReasonResolvedRefs), "spec.tls.backend.clientCertificateRef is resolved")
	}
}

// finishBackendTLS settles TLS to backends per proxy: HTTP and terminated
// TLS traffic presents the Gateway's client certificate to TLS backends;
// behind a TLS passthrough listener the client's own TLS goes to the
// backend, so no upstream TLS is added. Destinations and backends are
// shared between Gateways (and route instances), so what changes is copied.
func finishBackendTLS(p *ir.Proxy, cert *ir.Certificate) {
	type key struct {
		d     *ir.RouteDestination
		strip bool
	}
	memo := map[key]*ir.RouteDestination{}
	fix := func(d *ir.RouteDestination, strip bool) *ir.RouteDestination {
		if d == nil || (cert == nil && !strip) {
			return d
		}
		if nd, ok := memo[key{d, strip}]; ok {
			return nd
		}
		nd := d
		for i, be := range d.Backends {
			if be == nil || be.TLS == nil {
				continue
			}
			if !strip && be.TLS.ClientCertificate != nil {
				continue // a Backend's own client certificate wins
			}
			if nd == d {
				cp := *d
				cp.Backends = append([]*ir.Backend(nil), d.Backends...)
				nd = &cp
			}
			nb := *be
			if strip {
				nb.TLS = nil
			} else {
				nt := *be.TLS
				nt.ClientCertificate = cert
				nb.TLS = &nt
			}
			nd.Backends[i] = &nb
		}
		memo[key{d, strip}] = nd
		return nd
	}
	for _, l := range p.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				r.Destination = fix(r.Destination, false)
				if len(r.Mirrors) == 0 {
					continue
				}
				ms := make([]*ir.Mirror, len(r.Mirrors))
				for i, m := range r.Mirrors {
					mc := *m
					mc.Destination = fix(m.Destination, false)
					ms[i] = &mc
				}
				r.Mirrors = ms
			}
		}
	}
	for _, l := range p.TCP {
		strip := l.TLS == nil // passthrough, or a TCP listener
		for _, r := range l.Routes {
			r.Destination = fix(r.Destination, strip)
		}
	}
}
