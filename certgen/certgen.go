// Package certgen makes the certificates and secrets an Envoy Gateway style
// deployment needs: a private CA, the xDS server and client certificates,
// the rate-limit service certificate, the OIDC HMAC secret, and TLS
// certificates for Gateway listeners.
//
// Everything here is pure (no files, no Kubernetes API); the out.go and
// manifest.go helpers turn the result into files or Secret manifests.
package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RFC 5280 4.2.1.2 method (1) for SubjectKeyId, not a security use.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// KeyType names a private-key algorithm.
type KeyType string

const (
	// ECDSA P-256: small, fast, accepted by Envoy (BoringSSL), Go's gRPC and
	// every current TLS client. The default.
	KeyECDSA KeyType = "ecdsa"
	// RSA 2048: what Envoy Gateway itself generates; pick it for old
	// clients or to match an existing Envoy Gateway install byte for byte
	// in algorithm.
	KeyRSA KeyType = "rsa"
)

// ParseKeyType accepts "ecdsa" or "rsa".
func ParseKeyType(s string) (KeyType, error) {
	switch KeyType(s) {
	case KeyECDSA, KeyRSA:
		return KeyType(s), nil
	}
	return "", fmt.Errorf("unknown key type %q (want ecdsa or rsa)", s)
}

// DefaultValidity matches Envoy Gateway's control-plane certificates
// (365*5 days).
const DefaultValidity = 5 * 365 * 24 * time.Hour

// clockSkew backdates NotBefore so that a peer whose clock runs a little
// behind does not reject a freshly made certificate.
const clockSkew = time.Hour

// KeyPair is one certificate and its private key, both PEM.
type KeyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// CA can sign leaf certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// Settings shared by every certificate made in one run.
type Settings struct {
	KeyType  KeyType       // "" means KeyECDSA
	Validity time.Duration // 0 means DefaultValidity
	// Now and Rand are for tests; nil means time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

func (s Settings) withDefaults() (Settings, error) {
	if s.KeyType == "" {
		s.KeyType = KeyECDSA
	}
	if _, err := ParseKeyType(string(s.KeyType)); err != nil {
		return s, err
	}
	if s.Validity == 0 {
		s.Validity = DefaultValidity
	}
	if s.Validity < 0 {
		return s, fmt.Errorf("validity %s is negative", s.Validity)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Rand == nil {
		s.Rand = rand.Reader
	}
	return s, nil
}

func newKey(kt KeyType, r io.Reader) (crypto.Signer, error) {
	switch kt {
	case KeyRSA:
		return rsa.GenerateKey(r, 2048)
	default:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	}
}

// keyUsage: KeyEncipherment only makes sense for RSA key transport;
// setting it on an ECDSA certificate is wrong per RFC 5480.
func keyUsage(k crypto.Signer) x509.KeyUsage {
	if _, ok := k.(*rsa.PrivateKey); ok {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

func serial(r io.Reader) (*big.Int, error) {
	return rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 127))
}

func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) //nolint:gosec
	return sum[:], nil
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// NewCA makes a self-signed CA named commonName.
func NewCA(commonName string, s Settings) (*CA, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	key, err := newKey(s.KeyType, s.Rand)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	sn, err := serial(s.Rand)
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	now := s.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		// The serial in the subject keeps the CA's name distinct from a leaf
		// with the same common name ("envoy-gateway"): with equal subject
		// and issuer names OpenSSL takes the leaf for a self-signed
		// certificate and verification fails.
		Subject:               pkix.Name{CommonName: commonName, SerialNumber: sn.String()},
		NotBefore:             now.Add(-clockSkew).UTC(),
		NotAfter:              now.Add(s.Validity).UTC(),
		SubjectKeyId:          ski,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		IsCA:                  true,
		BasicConstraintsValid: true,
		// Only leaves sign anything below us.
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(s.Rand, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// LoadCA reads a CA from PEM. The key may be PKCS#8, PKCS#1 (RSA) or SEC 1
// (EC); the certificate must be a CA whose public key matches the key.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("CA certificate: no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, fmt.Errorf("CA certificate %q is not a CA (basicConstraints CA:FALSE or absent)", cert.Subject.CommonName)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("CA key: no PEM block")
	}
	key, err := parseKey(kb)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("CA key does not match CA certificate %q", cert.Subject.CommonName)
	}
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(cb), KeyPEM: pem.EncodeToMemory(kb)}, nil
}

func parseKey(b *pem.Block) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", b.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of type %T cannot sign", k)
	}
	return s, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// LeafRequest describes one leaf certificate.
type LeafRequest struct {
	CommonName string
	DNSNames   []string
	// ExtKeyUsage says what the certificate may be used for (server auth,
	// client auth or both). Never empty: an empty list means "anything".
	ExtKeyUsage []x509.ExtKeyUsage
}

// Issue makes a new key and a certificate for it signed by ca. The
// certificate never outlives the CA.
func (ca *CA) Issue(req LeafRequest, s Settings) (KeyPair, error) {
	s, err := s.withDefaults()
	if err != nil {
		return KeyPair{}, err
	}
	if len(req.ExtKeyUsage) == 0 {
		return KeyPair{}, fmt.Errorf("certificate %q: no extended key usage given", req.CommonName)
	}
	key, err := newKey(s.KeyType, s.Rand)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key for %q: %w", req.CommonName, err)
	}
	sn, err := serial(s.Rand)
	if err != nil {
		return KeyPair{}, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return KeyPair{}, err
	}
	now := s.Now()
	notAfter := now.Add(s.Validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: req.CommonName},
		NotBefore:             now.Add(-clockSkew).UTC(),
		NotAfter:              notAfter.UTC(),
		SubjectKeyId:          ski,
		KeyUsage:              keyUsage(key),
		ExtKeyUsage:           req.ExtKeyUsage,
		DNSNames:              req.DNSNames,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(s.Rand, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("sign certificate %q: %w", req.CommonName, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}
