package xds

import (
	"slices"
	"testing"

	"github.com/egctl/egctl/ir"
)

func TestTLSListenersShareHTTPSPort(t *testing.T) {
	cert := &ir.Certificate{Name: "default/cert", Certificate: []byte("CERT"), PrivateKey: []byte("KEY")}
	route := func(name string, sni ...string) *ir.TCPRoute {
		return &ir.TCPRoute{Name: name, SNI: sni,
			Destination: dest(name+"/rule/-1", ipBackend(name+"/rule/-1/backend/0", 1, 3000))}
	}
	cfg := &ir.Config{Proxies: []*ir.Proxy{{
		Name: "default/eg",
		HTTP: []*ir.HTTPListener{{
			Name: "default/eg/https", Port: 8443, Hostname: "w.example.com",
			TLS: &ir.TLSConfig{Certificates: []*ir.Certificate{cert}},
			VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/https/w_example_com", Domains: []string{"w.example.com"},
				Routes: []*ir.HTTPRoute{prefixRoute("r", "/")}}},
		}},
		TCP: []*ir.TCPListener{
			{Name: "default/eg/pass", Port: 8443, Passthrough: true, Routes: []*ir.TCPRoute{
				route("tlsroute/default/a", "a.example.com", "*.example.com"),
			}},
			{Name: "default/eg/term", Port: 8443, TLS: &ir.TLSConfig{Certificates: []*ir.Certificate{cert}}, Routes: []*ir.TCPRoute{
				route("tlsroute/default/t", "t.example.com"),
			}},
		},
	}}}
	res := translateOne(t, cfg)
	if len(res.Listeners) != 1 {
		t.Fatalf("%d listeners, want the HTTPS one shared", len(res.Listeners))
	}
	l := res.Listeners[0]
	if l.GetName() != "default/eg/https" || len(l.FilterChains) != 3 {
		t.Fatalf("listener %s with %d chains, want default/eg/https with 3", l.GetName(), len(l.FilterChains))
	}
	inspectors := 0
	for _, f := range l.ListenerFilters {
		if f.GetName() == tlsInspectorFilterName {
			inspectors++
		}
	}
	if inspectors != 1 {
		t.Errorf("%d tls_inspector filters, want 1", inspectors)
	}
	pass, term := l.FilterChains[1], l.FilterChains[2]
	if pass.GetName() != "tlsroute/default/a" || !slices.Equal(pass.GetFilterChainMatch().GetServerNames(), []string{"a.example.com", "*.example.com"}) ||
		pass.GetFilterChainMatch().GetTransportProtocol() != "tls" || pass.GetTransportSocket() != nil {
		t.Errorf("passthrough chain = %v", pass)
	}
	if got := tcpProxyOf(t, pass).GetStatPrefix(); got != "tls-passthrough-8443" {
		t.Errorf("stat prefix %q", got)
	}
	if term.GetTransportSocket() == nil || !slices.Equal(term.GetFilterChainMatch().GetServerNames(), []string{"t.example.com"}) {
		t.Fatalf("terminate chain = %v", term)
	}
	if alpn := tlsOf(t, term).GetCommonTlsContext().GetAlpnProtocols(); len(alpn) != 0 {
		t.Errorf("terminated TCP advertises ALPN %v", alpn)
	}
	if got := tcpProxyOf(t, term).GetCluster(); got != "tlsroute/default/t/rule/-1" {
		t.Errorf("terminate cluster %q", got)
	}
	bs, err := StaticBootstrap(res, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The static form names the secret without SDS config, on TLS
	// chains of routes too.
	for _, fc := range bs.GetStaticResources().GetListeners()[0].GetFilterChains() {
		if fc.GetTransportSocket() == nil {
			continue
		}
		for _, s := range tlsOf(t, fc).GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
			if s.GetSdsConfig() != nil {
				t.Errorf("chain %s: static secret still has an SDS source", fc.GetName())
			}
		}
	}
}
