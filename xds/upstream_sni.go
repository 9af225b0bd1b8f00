package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	"github.com/egctl/egctl/ir"
)

// What TLS to a backend asks of the cluster's HTTP protocol options,
// beyond the transport socket (upstream_tls.go):
//
//   - SNI from each request's Host (an Envoy Gateway Backend with TLS but
//     neither sni nor autoSNIFromEndpointHostname): auto_sni; the TLS
//     context checks the certificate against the name sent
//     (auto_sni_san_validation, upstream_tls.go) unless verification is off.
//   - an HTTP/1.1 cluster whose every backend speaks TLS: the protocol
//     follows what ALPN negotiates (auto_config, Envoy offering h2 and
//     http/1.1), as Envoy Gateway does, so a backend that speaks HTTP/2
//     gets it. A WebSocket backend keeps HTTP/1.1 (Envoy Gateway forces it
//     too: the upgrade needs it), and so does a cluster with a plain
//     backend, whose default socket cannot negotiate.
//
// These are merged into whatever options the cluster already has (a
// BackendTrafficPolicy's timeouts, HTTP/2 settings), so they run after
// every feature.
func (b *builder) applyUpstreamSNI(c *clusterv3.Cluster, backends []*ir.Backend) error {
	var autoSNI bool
	for _, be := range backends {
		autoSNI = autoSNI || (matchedTLS(be) && be.TLS.AutoSNI) // upstream_tls.go
	}
	autoALPN := allTLS(backends) && backends[0].Protocol == ir.ProtocolHTTP1
	if !autoSNI && !autoALPN {
		return nil
	}
	proto := backends[0].Protocol
	o, err := clusterHTTPOptions(c)
	if err != nil {
		return err
	}
	if autoSNI {
		if o.UpstreamHttpProtocolOptions == nil {
			o.UpstreamHttpProtocolOptions = &corev3.UpstreamHttpProtocolOptions{}
		}
		o.UpstreamHttpProtocolOptions.AutoSni = true
	}
	switch o.GetUpstreamProtocolOptions().(type) {
	case nil, *httpv3.HttpProtocolOptions_ExplicitHttpConfig_:
		// HTTP/2 settings a feature chose stay explicit (an HTTP/1.1
		// backend has none), and so does the client's protocol.
		autoALPN = autoALPN && o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil
	default:
		autoALPN = false
	}
	if autoALPN {
		// Keep HTTP/1.1 settings a feature chose; HTTP/2 gets the
		// defaults of an h2c cluster.
		h1 := &corev3.Http1ProtocolOptions{}
		if e := o.GetExplicitHttpConfig().GetHttpProtocolOptions(); e != nil {
			h1 = e
		}
		h2, err := defaultHTTP2Options()
		if err != nil {
			return err
		}
		o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_AutoConfig{AutoConfig: &httpv3.HttpProtocolOptions_AutoHttpConfig{
			HttpProtocolOptions: h1, Http2ProtocolOptions: h2,
		}}
	}
	return setClusterHTTPOptions(c, o, proto)
}

// clusterHTTPOptions returns a copy of the cluster's upstream HTTP
// protocol options (empty when it has none), to change and set back.
func clusterHTTPOptions(c *clusterv3.Cluster) (*httpv3.HttpProtocolOptions, error) {
	o := &httpv3.HttpProtocolOptions{}
	if cur := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]; cur != nil {
		if err := cur.UnmarshalTo(o); err != nil {
			return nil, fmt.Errorf("cluster %q: HTTP protocol options: %w", c.GetName(), err)
		}
	}
	return o, nil
}

// setClusterHTTPOptions sets o as the cluster's upstream HTTP protocol
// options; when o chooses no protocol, the one the cluster had implicitly
// (h2c for HTTP/2 backends, else HTTP/1.1).
func setClusterHTTPOptions(c *clusterv3.Cluster, o *httpv3.HttpProtocolOptions, proto ir.AppProtocol) error {
	if o.UpstreamProtocolOptions == nil {
		if proto == ir.ProtocolHTTP2 {
			h2, err := defaultHTTP2Options()
			if err != nil {
				return err
			}
			o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: h2},
			}}
		} else {
			o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
			}}
		}
	}
	a, err := toAny(o)
	if err != nil {
		return err
	}
	opts := make(map[string]*anyMsg, len(c.TypedExtensionProtocolOptions)+1)
	for k, v := range c.TypedExtensionProtocolOptions {
		opts[k] = v
	}
	opts[httpProtocolOptionsKey] = a
	c.TypedExtensionProtocolOptions = opts
	return nil
}

// defaultHTTP2Options are the HTTP/2 settings of an h2c cluster
// (cluster.go http2ProtocolOptions).
func defaultHTTP2Options() (*corev3.Http2ProtocolOptions, error) {
	a, err := http2ProtocolOptions()
	if err != nil {
		return nil, err
	}
	o := &httpv3.HttpProtocolOptions{}
	if err := a.UnmarshalTo(o); err != nil {
		return nil, err
	}
	return o.GetExplicitHttpConfig().GetHttp2ProtocolOptions(), nil
}
