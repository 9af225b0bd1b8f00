package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"testing"
	"time"
)

// Cert is a serving or client certificate made for one test.
type Cert struct {
	CertPEM []byte
	KeyPEM  []byte
	// Leaf is the parsed certificate, to compare with what a server
	// presents (Leaf.Raw is its DER).
	Leaf *x509.Certificate
	// Pair is the certificate and key for a Go server or client.
	Pair tls.Certificate
	// Pool trusts this certificate: itself when self-signed, else its CA.
	Pool *x509.CertPool
}

// SelfSignedCert makes an ECDSA P-256 certificate for the DNS names, valid
// for one hour, that is its own CA (so a client can trust it directly).
func SelfSignedCert(t testing.TB, dnsNames ...string) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: dnsNames[0], Organization: []string{"egctl e2e"}},
		DNSNames:              dnsNames,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshalling key: %v", err)
	}
	c := newCert(t, der, pemBlock("PRIVATE KEY", keyDER))
	c.Pool = x509.NewCertPool()
	c.Pool.AddCert(c.Leaf)
	return c
}

// CA is a certificate authority made for one test.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	// Pool trusts exactly this CA.
	Pool *x509.CertPool
	key  *ecdsa.PrivateKey
}

// NewCA makes an ECDSA P-256 CA named name, valid for a day.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating CA certificate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &CA{Cert: c, CertPEM: pemBlock("CERTIFICATE", der), Pool: pool, key: key}
}

// KeyType is the kind of key Issue makes.
type KeyType int

const (
	ECDSAKey KeyType = iota // P-256
	RSAKey                  // 2048 bits
)

// Issue makes a certificate for names signed by ca: a server certificate,
// or a client one when client is true. The first name is the subject CN.
func (ca *CA) Issue(t testing.TB, kind KeyType, client bool, names ...string) *Cert {
	t.Helper()
	var pub any
	var keyPEM []byte
	switch kind {
	case RSAKey:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatalf("generating RSA key: %v", err)
		}
		pub = &k.PublicKey
		keyPEM = pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("generating ECDSA key: %v", err)
		}
		pub = &k.PublicKey
		kd, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatalf("marshalling ECDSA key: %v", err)
		}
		keyPEM = pemBlock("EC PRIVATE KEY", kd)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		t.Fatalf("issuing certificate for %v: %v", names, err)
	}
	c := newCert(t, der, keyPEM)
	c.Pool = ca.Pool
	return c
}

// TLSSecretYAML is a kubernetes.io/tls Secret default/name holding c, as
// one YAML document without separators.
func TLSSecretYAML(name string, c *Cert) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: %s}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, Namespace, base64.StdEncoding.EncodeToString(c.CertPEM), base64.StdEncoding.EncodeToString(c.KeyPEM))
}

func newCert(t testing.TB, der, keyPEM []byte) *Cert {
	t.Helper()
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing certificate: %v", err)
	}
	certPEM := pemBlock("CERTIFICATE", der)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("pairing certificate and key: %v", err)
	}
	return &Cert{CertPEM: certPEM, KeyPEM: keyPEM, Leaf: leaf, Pair: pair}
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("generating serial: %v", err)
	}
	return s
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
