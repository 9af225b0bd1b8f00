package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate and key made for this test run.
func selfSigned(t *testing.T) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.com"},
		DNSNames:     []string{"example.com"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func secretYAML(ns, name, typ string, crt, key []byte) string {
	return `
apiVersion: v1
kind: Secret
metadata: {name: ` + name + `, namespace: ` + ns + `}
type: ` + typ + `
data:
  tls.crt: ` + base64.StdEncoding.EncodeToString(crt) + `
  tls.key: ` + base64.StdEncoding.EncodeToString(key) + `
---
`
}

func httpsListener(name, ref string) string {
	return `  - name: ` + name + `
    port: 443
    protocol: HTTPS
    hostname: ` + name + `.example.com
    tls: {mode: Terminate, certificateRefs: [` + ref + `]}
`
}

func TestHTTPSListeners(t *testing.T) {
	crt, key := selfSigned(t)
	in := gwYAML(
		httpsListener("good", "{name: cert}")+
			httpsListener("cross", "{name: cert, namespace: certs}")+
			httpsListener("granted", "{name: cert, namespace: shared}")+
			httpsListener("missing", "{name: nope}")+
			httpsListener("malformed", "{name: bad}")+
			httpsListener("opaque", "{name: opaque}")+
			httpsListener("kind", "{name: cert, kind: ConfigMap}")) +
		secretYAML("infra", "cert", "kubernetes.io/tls", crt, key) +
		secretYAML("certs", "cert", "kubernetes.io/tls", crt, key) +
		secretYAML("shared", "cert", "kubernetes.io/tls", crt, key) +
		secretYAML("infra", "bad", "kubernetes.io/tls", crt, []byte("not a key")) +
		secretYAML("infra", "opaque", "Opaque", crt, key) + svcYAML + `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: missing}, {name: gw, sectionName: good}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: g, namespace: shared}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: cert}]
`
	res := run(t, in)
	gw := gatewayOut(t, res, "infra", "gw")
	wantCond(t, listenerStatus(t, gw, "good").Conditions, "ResolvedRefs", "True", "ResolvedRefs")
	wantCond(t, listenerStatus(t, gw, "granted").Conditions, "ResolvedRefs", "True", "ResolvedRefs")
	wantCond(t, listenerStatus(t, gw, "cross").Conditions, "ResolvedRefs", "False", "RefNotPermitted")
	for _, l := range []string{"missing", "malformed", "opaque", "kind"} {
		wantCond(t, listenerStatus(t, gw, l).Conditions, "ResolvedRefs", "False", "InvalidCertificateRef")
	}
	// Listeners with unresolved certificates still count attachments.
	if got := listenerStatus(t, gw, "missing").AttachedRoutes; got != 1 {
		t.Fatalf("attachedRoutes on unresolved listener = %d, want 1", got)
	}
	if got := listenerStatus(t, gw, "good").AttachedRoutes; got != 1 {
		t.Fatalf("attachedRoutes on good listener = %d, want 1", got)
	}
	p := proxy(t, res, "infra/gw")
	if n := len(p.HTTP[0].VirtualHosts); n != 1 {
		t.Fatalf("good listener has %d virtual hosts, want 1", n)
	}
	if len(p.HTTP) != 2 {
		t.Fatalf("programmed listeners = %d, want 2", len(p.HTTP))
	}
	good := p.HTTP[0]
	if good.Name != "infra/gw/good" || good.Port != 10443 || good.Hostname != "good.example.com" || good.TLS == nil ||
		len(good.TLS.Certificates) != 1 || good.TLS.Certificates[0].Name != "infra/cert" ||
		string(good.TLS.Certificates[0].Certificate) != string(crt) {
		t.Fatalf("good listener = %+v", good)
	}
	if p.HTTP[1].TLS.Certificates[0].Name != "shared/cert" {
		t.Fatalf("granted certificate = %s", p.HTTP[1].TLS.Certificates[0].Name)
	}
}

func TestHTTPSPassthroughRejected(t *testing.T) {
	res := run(t, gwYAML(`  - name: pt
    port: 443
    protocol: HTTPS
    tls: {mode: Passthrough}`))
	wantCond(t, listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "pt").Conditions, "Accepted", "False", "UnsupportedValue")
}
