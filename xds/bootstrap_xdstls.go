package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// XDSClientTLS makes a dynamic bootstrap reach its management server over
// mutual TLS. The paths are read by Envoy, on the proxy's host.
type XDSClientTLS struct {
	// CertFile and KeyFile are the proxy's client certificate and key.
	CertFile, KeyFile string
	// CAFile holds the CA the server's certificate must chain to.
	CAFile string
	// SNI is sent to the server; "" sends none.
	SNI string
}

// xdsClientTransport is the transport socket of the xds_cluster.
func xdsClientTransport(t *XDSClientTLS) (*corev3.TransportSocket, error) {
	if t.CertFile == "" || t.KeyFile == "" || t.CAFile == "" {
		return nil, fmt.Errorf("xDS TLS needs a certificate, a key and a CA file")
	}
	file := func(p string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: p}}
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: t.SNI,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2},
			// The management server speaks gRPC: HTTP/2 over TLS.
			AlpnProtocols:   []string{"h2"},
			TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: file(t.CertFile), PrivateKey: file(t.KeyFile)}},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: file(t.CAFile),
			}},
		},
	}
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: tlsTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}

func setXDSClientTLS(c *clusterv3.Cluster, t *XDSClientTLS) error {
	if t == nil {
		return nil
	}
	ts, err := xdsClientTransport(t)
	if err != nil {
		return err
	}
	c.TransportSocket = ts
	return nil
}
