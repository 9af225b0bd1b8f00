package xds

import (
	"bytes"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

// addSecret adds the certificate as an SDS secret, once per name. Two
// certificates of the same name with different content are an IR error.
func (b *builder) addSecret(c *ir.Certificate) error {
	if len(c.Certificate) == 0 || len(c.PrivateKey) == 0 {
		return fmt.Errorf("secret %q: empty certificate or private key", c.Name)
	}
	if old, ok := b.secrets[c.Name]; ok {
		tc := old.GetTlsCertificate()
		if !bytes.Equal(tc.GetCertificateChain().GetInlineBytes(), c.Certificate) ||
			!bytes.Equal(tc.GetPrivateKey().GetInlineBytes(), c.PrivateKey) {
			return fmt.Errorf("secret %q: two different certificates share this name", c.Name)
		}
		return nil
	}
	b.secrets[c.Name] = &tlsv3.Secret{
		Name: c.Name,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: append([]byte(nil), c.Certificate...)}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: append([]byte(nil), c.PrivateKey...)}},
		}},
	}
	return nil
}
