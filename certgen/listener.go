package certgen

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// ListenerOptions describes a serving certificate for Gateway listeners.
type ListenerOptions struct {
	// Hostnames as written in the Gateway listeners' hostname fields
	// ("*.example.com" allowed). The first one is the common name.
	Hostnames  []string
	SecretName string // "" means DefaultListenerSecretName(Hostnames[0])
	Namespace  string // "" means "default"
	// CA signs the certificate; nil means make a new one.
	CA *CA
	Settings
}

// ListenerCert is a listener certificate and the CA that signed it.
type ListenerCert struct {
	Namespace  string
	SecretName string
	Hostnames  []string
	CA         *CA
	// CAGenerated is true when the CA was made in this run: its key then
	// exists nowhere else, and only file output keeps it.
	CAGenerated bool
	Leaf        KeyPair
}

// CAConfigMapName names the ConfigMap carrying the CA certificate, the
// shape a BackendTLSPolicy's caCertificateRefs or a client can consume.
func (l *ListenerCert) CAConfigMapName() string { return l.SecretName + "-ca" }

// DefaultListenerSecretName derives a Secret name from a hostname:
// "*.example.com" becomes "wildcard.example.com-tls".
func DefaultListenerSecretName(hostname string) string {
	return strings.Replace(hostname, "*", "wildcard", 1) + "-tls"
}

// GenerateListener makes a server certificate for o.Hostnames.
func GenerateListener(o ListenerOptions) (*ListenerCert, error) {
	if len(o.Hostnames) == 0 {
		return nil, errors.New("no listener hostname given")
	}
	for _, h := range o.Hostnames {
		if err := ValidateDNSName(h, true); err != nil {
			return nil, fmt.Errorf("listener hostname: %w", err)
		}
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.SecretName == "" {
		o.SecretName = DefaultListenerSecretName(o.Hostnames[0])
	}
	if err := ValidateDNSName(o.SecretName, false); err != nil {
		return nil, fmt.Errorf("secret name: %w", err)
	}
	s, err := o.Settings.withDefaults()
	if err != nil {
		return nil, err
	}
	lc := &ListenerCert{Namespace: o.Namespace, SecretName: o.SecretName, Hostnames: dedupe(o.Hostnames), CA: o.CA}
	if lc.CA == nil {
		lc.CA, err = NewCA("egctl listener CA", s)
		if err != nil {
			return nil, err
		}
		lc.CAGenerated = true
	}
	lc.Leaf, err = lc.CA.Issue(LeafRequest{
		CommonName:  lc.Hostnames[0],
		DNSNames:    lc.Hostnames,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, s)
	if err != nil {
		return nil, err
	}
	return lc, nil
}
