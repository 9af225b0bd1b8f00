package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// certFor returns a self-signed PEM certificate and key for names.
func certFor(t *testing.T, names ...string) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: names,
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// TestOverlappingTLSConfig: HTTPS listeners on one port whose hostnames
// intersect (A and C) carry OverlappingTLSConfig=True/OverlappingHostnames;
// a disjoint one (B) and a listener on another port do not.
func TestOverlappingTLSConfig(t *testing.T) {
	tls := func(n string) string { return `tls: {mode: Terminate, certificateRefs: [{name: ` + n + `}]}` }
	secrets := ""
	for _, n := range []string{"a", "b", "c", "d"} {
		crt, key := certFor(t, n+".certs.test")
		secrets += secretYAML("infra", n, "kubernetes.io/tls", crt, key)
	}
	res := run(t, gwYAML(`  - {name: a, port: 443, protocol: HTTPS, hostname: foo.example.com, `+tls("a")+`}
  - {name: b, port: 443, protocol: HTTPS, hostname: foo.example.org, `+tls("b")+`}
  - {name: c, port: 443, protocol: HTTPS, hostname: "*.example.com", `+tls("c")+`}
  - {name: d, port: 8443, protocol: HTTPS, hostname: foo.example.com, `+tls("d")+`}`)+secrets)
	g := gatewayOut(t, res, "infra", "gw")
	for _, name := range []string{"a", "c"} {
		c := wantCond(t, listenerStatus(t, g, name).Conditions, "OverlappingTLSConfig", "True", "OverlappingHostnames")
		if !strings.Contains(c.Message, "port 443") {
			t.Errorf("%s: message %q", name, c.Message)
		}
	}
	for _, name := range []string{"b", "d"} {
		for _, c := range listenerStatus(t, g, name).Conditions {
			if c.Type == "OverlappingTLSConfig" {
				t.Errorf("listener %s: unexpected %+v", name, c)
			}
		}
	}
	if hasProblem(res, "Gateway", "OverlappingTLSConfig") {
		t.Errorf("OverlappingTLSConfig should not be a Problem: %v", res.Problems)
	}
}

// TestOverlappingCertificates: disjoint hostnames on one port served by the
// same certificate are OverlappingCertificates; a wildcard SAN covers one
// label only.
func TestOverlappingCertificates(t *testing.T) {
	crt, key := selfSigned(t) // SAN example.com
	tls := `tls: {mode: Terminate, certificateRefs: [{name: cert}]}`
	res := run(t, gwYAML(`  - {name: a, port: 443, protocol: HTTPS, hostname: a.example.org, `+tls+`}
  - {name: b, port: 443, protocol: HTTPS, hostname: b.example.org, `+tls+`}`)+secretYAML("infra", "cert", "kubernetes.io/tls", crt, key))
	g := gatewayOut(t, res, "infra", "gw")
	for _, n := range []string{"a", "b"} {
		wantCond(t, listenerStatus(t, g, n).Conditions, "OverlappingTLSConfig", "True", "OverlappingCertificates")
	}
	if !namesOverlap([]string{"*.example.com"}, []string{"a.example.com"}) || namesOverlap([]string{"*.example.com"}, []string{"a.b.example.com"}) {
		t.Errorf("wildcard SAN matching wrong")
	}
}
