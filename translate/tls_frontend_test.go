package translate

import (
	"strings"
	"testing"
)

// gwWithTLS is gwYAML with a spec.tls block (indented under spec).
func gwWithTLS(specTLS, listeners string) string {
	return strings.Replace(gwYAML(listeners), "  gatewayClassName: eg\n", "  gatewayClassName: eg\n"+specTLS, 1)
}

func caConfigMapYAML(ns, name, pemText string) string {
	return `
apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `, namespace: ` + ns + `}
data:
  ca.crt: |
    ` + strings.ReplaceAll(strings.TrimSpace(pemText), "\n", "\n    ") + `
---
`
}

func TestListenerTLSOptions(t *testing.T) {
	crt, key := selfSigned(t)
	l := func(name, opts string) string {
		return `  - name: ` + name + `
    port: 443
    protocol: HTTPS
    hostname: ` + name + `.example.com
    tls: {certificateRefs: [{name: cert}], options: {` + opts + `}}
`
	}
	res := run(t, gwYAML(
		l("good", `egctl.io/tls-min-version: "1.2", egctl.io/tls-max-version: "1.3", egctl.io/tls-cipher-suites: "ECDHE-RSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES128-GCM-SHA256", egctl.io/tls-alpn-protocols: http/1.1`)+
			l("unknown", `example.com/foo: bar`)+
			l("badversion", `egctl.io/tls-min-version: "1.4"`)+
			l("inverted", `egctl.io/tls-min-version: "1.3", egctl.io/tls-max-version: "1.2"`)+
			l("badcipher", `egctl.io/tls-cipher-suites: "RC4-MD5"`))+
		secretYAML("infra", "cert", "kubernetes.io/tls", crt, key))
	gw := gatewayOut(t, res, "infra", "gw")
	wantCond(t, listenerStatus(t, gw, "good").Conditions, "Programmed", "True", "Programmed")
	for _, name := range []string{"unknown", "badversion", "inverted", "badcipher"} {
		wantCond(t, listenerStatus(t, gw, name).Conditions, "Accepted", "False", "UnsupportedValue")
		wantCond(t, listenerStatus(t, gw, name).Conditions, "Programmed", "False", "Invalid")
	}
	p := proxy(t, res, "infra/gw")
	if len(p.HTTP) != 1 {
		t.Fatalf("programmed listeners = %d, want 1", len(p.HTTP))
	}
	tc := p.HTTP[0].TLS
	if tc.MinVersion != "1.2" || tc.MaxVersion != "1.3" || strings.Join(tc.Ciphers, ",") != "ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES128-GCM-SHA256" ||
		strings.Join(tc.ALPNProtocols, ",") != "http/1.1" {
		t.Fatalf("TLS = %+v", tc)
	}
}

func TestFrontendValidation(t *testing.T) {
	crt, key := selfSigned(t)
	listeners := `  - {name: p1, port: 1443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: p2, port: 2443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: p3, port: 3443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: p4, port: 4443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: plain, port: 80, protocol: HTTP}`
	specTLS := `  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
          mode: AllowInsecureFallback
      perPort:
      - port: 1443
        tls: {validation: {caCertificateRefs: [{group: "", kind: Secret, name: ca-secret}]}}
      - port: 3443
        tls: {validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: missing}, {group: "", kind: ConfigMap, name: ca}]}}
      - port: 4443
        tls: {validation: {caCertificateRefs: [{group: example.com, kind: Bundle, name: x}, {group: "", kind: ConfigMap, name: ca, namespace: other}]}}
`
	res := run(t, gwWithTLS(specTLS, listeners)+
		secretYAML("infra", "cert", "kubernetes.io/tls", crt, key)+
		caConfigMapYAML("infra", "ca", string(crt))+
		caConfigMapYAML("other", "ca", string(crt))+`
apiVersion: v1
kind: Secret
metadata: {name: ca-secret, namespace: infra}
stringData:
  ca.crt: |
    `+strings.ReplaceAll(strings.TrimSpace(string(crt)), "\n", "\n    ")+`
---
`)
	gw := gatewayOut(t, res, "infra", "gw")
	wantCond(t, gw.Status.Conditions, "InsecureFrontendValidationMode", "True", "ConfigurationChanged")
	wantCond(t, listenerStatus(t, gw, "p1").Conditions, "Programmed", "True", "Programmed")
	wantCond(t, listenerStatus(t, gw, "p2").Conditions, "Programmed", "True", "Programmed")
	wantCond(t, listenerStatus(t, gw, "plain").Conditions, "Programmed", "True", "Programmed")
	// One bad reference among good ones: ResolvedRefs fails, the listener
	// stays accepted but is not programmed.
	wantCond(t, listenerStatus(t, gw, "p3").Conditions, "ResolvedRefs", "False", "InvalidCACertificateRef")
	wantCond(t, listenerStatus(t, gw, "p3").Conditions, "Accepted", "True", "Accepted")
	// Every reference bad: not accepted either.
	c := wantCond(t, listenerStatus(t, gw, "p4").Conditions, "ResolvedRefs", "False", "InvalidCACertificateKind")
	if !strings.Contains(c.Message, "RefNotPermitted") && !strings.Contains(c.Message, "no ReferenceGrant") {
		t.Errorf("p4 ResolvedRefs message %q does not mention the cross-namespace reference", c.Message)
	}
	wantCond(t, listenerStatus(t, gw, "p4").Conditions, "Accepted", "False", "NoValidCACertificate")

	p := proxy(t, res, "infra/gw")
	byName := map[string]bool{}
	for _, l := range p.HTTP {
		byName[l.Name] = true
		switch l.Name {
		case "infra/gw/p1":
			if v := l.TLS.ClientValidation; v == nil || v.AllowInsecureFallback || v.CACertificates != string(crt) {
				t.Errorf("p1 validation = %+v, want AllowValidOnly with the Secret's CA", v)
			}
		case "infra/gw/p2":
			if v := l.TLS.ClientValidation; v == nil || !v.AllowInsecureFallback {
				t.Errorf("p2 validation = %+v, want the default (AllowInsecureFallback)", v)
			}
		case "infra/gw/plain":
			if l.TLS != nil {
				t.Errorf("plain listener has TLS")
			}
		}
	}
	if !byName["infra/gw/p1"] || !byName["infra/gw/p2"] || byName["infra/gw/p3"] || byName["infra/gw/p4"] {
		t.Errorf("programmed listeners = %v", byName)
	}
}

func TestGatewayBackendClientCertificate(t *testing.T) {
	crt, key := selfSigned(t)
	for _, c := range []struct {
		name, ref, reason string
	}{
		{"missing", "{name: nope}", "InvalidClientCertificateRef"},
		{"cross", "{name: client, namespace: other}", "RefNotPermitted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, gwWithTLS("  tls: {backend: {clientCertificateRef: "+c.ref+"}}\n", `  - {name: http, port: 80, protocol: HTTP}`)+
				secretYAML("other", "client", "kubernetes.io/tls", crt, key))
			g := gatewayOut(t, res, "infra", "gw")
			wantCond(t, g.Status.Conditions, "ResolvedRefs", "False", c.reason)
			// The Gateway stays accepted: only TLS backends are affected.
			wantCond(t, g.Status.Conditions, "Accepted", "True", "Accepted")
		})
	}
	res := run(t, gwWithTLS("  tls: {backend: {clientCertificateRef: {name: client}}}\n", `  - {name: http, port: 80, protocol: HTTP}`)+
		secretYAML("infra", "client", "kubernetes.io/tls", crt, key))
	wantCond(t, gatewayOut(t, res, "infra", "gw").Status.Conditions, "ResolvedRefs", "True", "ResolvedRefs")
}
