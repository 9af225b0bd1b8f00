package diffcmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/diff/difftest"
)

// selfSigned returns a PEM certificate and key for host.
func selfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

// tlsManifests is gateway.yaml with its HTTP listener on port, plus an
// HTTPS listener on tlsPort with a certificate from a Secret.
func tlsManifests(t *testing.T, port, tlsPort int, cert, key []byte) string {
	t.Helper()
	src := string(mustRead(t, "testdata/gateway.yaml"))
	src = strings.Replace(src, "      port: 18080\n", fmt.Sprintf(`      port: %d
    - name: https
      protocol: HTTPS
      port: %d
      tls:
        certificateRefs:
          - name: shop-tls
`, port, tlsPort), 1)
	src += fmt.Sprintf(`---
apiVersion: v1
kind: Secret
metadata:
  name: shop-tls
  namespace: default
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, base64.StdEncoding.EncodeToString(cert), base64.StdEncoding.EncodeToString(key))
	p := filepath.Join(t.TempDir(), "tls.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Secrets: Envoy and translate's dumps redact private keys; the
// comparison still agrees, never prints key material, and a rotated
// certificate shows.
func TestTLSSecrets(t *testing.T) {
	cert, key := selfSigned(t, "shop.example.com")
	// Each port reserved: the allocator hands ports out in sequence, so
	// listenerPort+1 is usually adminPort.
	listenerPort, tlsPort, adminPort := difftest.FreePort(t), difftest.FreePort(t), difftest.FreePort(t)
	v1 := tlsManifests(t, listenerPort, tlsPort, cert, key)
	cert2, key2 := selfSigned(t, "shop.example.com")
	v2 := tlsManifests(t, listenerPort, tlsPort, cert2, key2)

	keyB64 := base64.StdEncoding.EncodeToString(key)
	check := func(r result) {
		t.Helper()
		for _, leak := range []string{keyB64, string(key), base64.StdEncoding.EncodeToString(key2), string(key2)} {
			if strings.Contains(r.stdout, strings.TrimSpace(leak)) {
				t.Fatalf("output shows a private key:\n%s", r.stdout)
			}
		}
	}

	// Manifests vs manifests: a rotated key is a changed secret, fingerprinted.
	r := runDiff(t, v1, v2, "--exit-code")
	check(r)
	if r.code != 1 || !strings.Contains(r.stdout, "secret default/shop-tls") || !strings.Contains(r.stdout, "[redacted sha256:") {
		t.Fatalf("rotated certificate: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// translate's saved dump (keys redacted) vs the manifests.
	saved := filepath.Join(t.TempDir(), "xds.json")
	writeTranslateOutput(t, saved, compileFile(t, v1))
	r = runDiff(t, v1, saved, "--exit-code")
	if r.code != 0 {
		t.Fatalf("manifests vs their translate dump: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A live proxy on the static bootstrap (Envoy redacts the key).
	src := mustRead(t, v1)
	envoy := difftest.Start(t, difftest.Marshal(t, difftest.StaticBootstrap(t, src, adminPort)), fmt.Sprintf("127.0.0.1:%d", adminPort))
	live := "admin://" + envoy.AdminAddr
	r = runDiff(t, v1, live, "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "secret    0      0        0        1") {
		t.Fatalf("TLS manifests vs their proxy: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, live, v2, "--exit-code", "-o", "json")
	check(r)
	if r.code != 1 || !strings.Contains(r.stdout, `"name": "default/shop-tls"`) {
		t.Fatalf("rotated certificate vs the proxy: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, live, v1, "--show-secrets", "--exit-code")
	if r.code != 1 || !strings.Contains(r.stdout, "inlineBytes: "+base64.StdEncoding.EncodeToString([]byte("[redacted]"))) {
		t.Fatalf("--show-secrets against Envoy's redacted dump must differ on the key: code %d\n%s", r.code, r.stdout)
	}
}
