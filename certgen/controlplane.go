package certgen

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
)

// Names Envoy Gateway gives its control-plane Secrets and Services. Keeping
// them lets the output replace what `envoy-gateway certgen` would make.
const (
	DefaultNamespace = "envoy-gateway-system"
	DefaultDNSDomain = "cluster.local"

	EnvoyGatewayName   = "envoy-gateway"    // xDS server; Secret and Service name
	EnvoyName          = "envoy"            // Envoy's xDS/rate-limit client certificate Secret
	RateLimitName      = "envoy-rate-limit" // rate-limit service certificate Secret
	RateLimitService   = "envoy-ratelimit"  // rate-limit Service name (note: no dash in "ratelimit")
	OIDCHMACSecretName = "envoy-oidc-hmac"

	// Secret data keys.
	CACertKey     = "ca.crt"
	TLSCertKey    = "tls.crt"
	TLSKeyKey     = "tls.key"
	HMACSecretKey = "hmac-secret"

	// HMACSecretSize is the OIDC HMAC secret length in bytes (256 bits, the
	// size of the HMAC-SHA256 output it keys).
	HMACSecretSize = 32
)

// ControlPlaneOptions says where the control plane runs.
type ControlPlaneOptions struct {
	Namespace string // "" means DefaultNamespace
	DNSDomain string // "" means DefaultDNSDomain
	// ExtraDNSNames are added to both server certificates (envoy-gateway
	// and envoy-rate-limit), e.g. "localhost" when running outside
	// Kubernetes.
	ExtraDNSNames []string
	Settings
}

// ControlPlane is everything `egctl x certgen` makes.
type ControlPlane struct {
	Namespace string
	CA        *CA
	// EnvoyGateway is the xDS server certificate (server auth).
	EnvoyGateway KeyPair
	// Envoy is the proxies' client certificate for xDS and the rate-limit
	// service (client auth).
	Envoy KeyPair
	// RateLimit serves Envoy's rate-limit calls and is also an xDS client
	// of Envoy Gateway, so it carries both server and client auth.
	RateLimit KeyPair
	// OIDCHMACSecret keys the HMAC that signs OAuth2 filter cookies.
	OIDCHMACSecret []byte
}

// serviceNames lists the names a Service is reachable by inside the
// cluster, shortest first.
func serviceNames(svc, ns, domain string) []string {
	return []string{
		svc,
		svc + "." + ns,
		svc + "." + ns + ".svc",
		svc + "." + ns + ".svc." + domain,
	}
}

// GenerateControlPlane makes a new CA and every control-plane certificate.
// The CA key is not returned in any output (Envoy Gateway does not keep it
// either): rotating means running certgen again.
func GenerateControlPlane(o ControlPlaneOptions) (*ControlPlane, error) {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.DNSDomain == "" {
		o.DNSDomain = DefaultDNSDomain
	}
	for _, n := range o.ExtraDNSNames {
		if err := ValidateDNSName(n, true); err != nil {
			return nil, fmt.Errorf("--dns-names: %w", err)
		}
	}
	s, err := o.Settings.withDefaults()
	if err != nil {
		return nil, err
	}
	ca, err := NewCA(EnvoyGatewayName, s)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{Namespace: o.Namespace, CA: ca}

	// Envoy Gateway names the proxies' client certificate "*" with SAN
	// "*.<namespace>"; kept so existing SAN matchers still work.
	wildcardNS := "*." + o.Namespace

	reqs := []struct {
		into *KeyPair
		req  LeafRequest
	}{
		{&cp.EnvoyGateway, LeafRequest{
			CommonName:  EnvoyGatewayName,
			DNSNames:    dedupe(append(serviceNames(EnvoyGatewayName, o.Namespace, o.DNSDomain), o.ExtraDNSNames...)),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}},
		{&cp.Envoy, LeafRequest{
			CommonName:  "*",
			DNSNames:    []string{wildcardNS},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
		{&cp.RateLimit, LeafRequest{
			CommonName:  "*",
			DNSNames:    dedupe(append(append(serviceNames(RateLimitService, o.Namespace, o.DNSDomain), wildcardNS), o.ExtraDNSNames...)),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}},
	}
	for _, r := range reqs {
		kp, err := ca.Issue(r.req, s)
		if err != nil {
			return nil, err
		}
		*r.into = kp
	}
	cp.OIDCHMACSecret, err = NewHMACSecret(s.Rand)
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// NewHMACSecret returns HMACSecretSize random bytes from r (crypto/rand
// when nil).
func NewHMACSecret(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, HMACSecretSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read random bytes for the HMAC secret: %w", err)
	}
	return b, nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ValidateDNSName checks a SAN: RFC 1123 labels, lower case, optionally a
// single leading "*." when wildcard is allowed. Gateway listener
// hostnames follow the same rule.
func ValidateDNSName(name string, wildcard bool) error {
	rest := name
	if strings.HasPrefix(rest, "*.") {
		if !wildcard {
			return fmt.Errorf("%q: wildcard not allowed here", name)
		}
		rest = rest[2:]
	}
	if rest == "" || len(name) > 253 {
		return fmt.Errorf("%q is not a valid DNS name", name)
	}
	for _, label := range strings.Split(rest, ".") {
		if len(label) == 0 || len(label) > 63 {
			return fmt.Errorf("%q is not a valid DNS name (empty or over-long label)", name)
		}
		for i, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i != 0 && i != len(label)-1
			if !ok {
				return fmt.Errorf("%q is not a valid DNS name (label %q: lower-case letters, digits and inner '-' only)", name, label)
			}
		}
	}
	return nil
}
