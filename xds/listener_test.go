package xds

import (
	"slices"
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

var testCert = &ir.Certificate{Name: "default/cert", Certificate: []byte("cert-pem"), PrivateKey: []byte("key-pem")}

func TestListenerMergesEntriesOnOnePort(t *testing.T) {
	cfg := &ir.Config{Proxies: []*ir.Proxy{{
		Name: "default/eg",
		HTTP: []*ir.HTTPListener{
			{Name: "default/eg/a", Address: "0.0.0.0", Port: 10080, Hostname: "a.example.com",
				VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/a/a_example_com", Domains: []string{"a.example.com"}, Routes: []*ir.HTTPRoute{prefixRoute("ra", "/")}}}},
			{Name: "default/eg/b", Address: "0.0.0.0", Port: 10080,
				VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/b/*", Domains: []string{"*"}, Routes: []*ir.HTTPRoute{prefixRoute("rb", "/")}}}},
			{Name: "default/eg/s1", Address: "0.0.0.0", Port: 10443, Hostname: "s.example.com",
				TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}},
				VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/s1/s_example_com", Domains: []string{"s.example.com"}, Routes: []*ir.HTTPRoute{prefixRoute("rs1", "/")}}}},
			{Name: "default/eg/s2", Address: "0.0.0.0", Port: 10443,
				TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}, ALPNProtocols: []string{"http/1.1"}, MinVersion: "1.2"},
				VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/s2/*", Domains: []string{"*"}, Routes: []*ir.HTTPRoute{prefixRoute("rs2", "/")}}}},
		},
	}}}
	r := translateOne(t, cfg)
	if len(r.Listeners) != 2 {
		t.Fatalf("got %d listeners, want 2 (one per port)", len(r.Listeners))
	}
	http, https := r.Listeners[0], r.Listeners[1]
	if http.Name != "default/eg/a" || https.Name != "default/eg/s1" {
		t.Fatalf("listener names %q %q, want first entry of each port", http.Name, https.Name)
	}
	if got := http.Address.GetSocketAddress().GetPortValue(); got != 10080 {
		t.Errorf("port %d, want 10080", got)
	}

	// Plain HTTP: one default chain, one route config holding both vhosts.
	if len(http.FilterChains) != 0 || http.DefaultFilterChain == nil {
		t.Fatalf("plain HTTP must be the default filter chain")
	}
	hcm := hcmOf(t, http.DefaultFilterChain)
	if hcm.StatPrefix != "http-10080" || hcm.GetRds().GetRouteConfigName() != "default/eg/a" {
		t.Errorf("statPrefix %q rds %q", hcm.StatPrefix, hcm.GetRds().GetRouteConfigName())
	}
	if !hcm.GetUseRemoteAddress().GetValue() || !hcm.GetNormalizePath().GetValue() || !hcm.MergeSlashes {
		t.Errorf("HCM path/address settings not set: %v", hcm)
	}
	if hcm.PathWithEscapedSlashesAction.String() != "UNESCAPE_AND_REDIRECT" {
		t.Errorf("escaped slashes action %v", hcm.PathWithEscapedSlashesAction)
	}
	if last := hcm.HttpFilters[len(hcm.HttpFilters)-1]; last.Name != routerFilterName {
		t.Errorf("last HTTP filter %q, want router", last.Name)
	}
	var rcA *struct{ vhosts []string }
	for _, rc := range r.Routes {
		if rc.Name == "default/eg/a" {
			rcA = &struct{ vhosts []string }{}
			for _, vh := range rc.VirtualHosts {
				rcA.vhosts = append(rcA.vhosts, vh.Name)
			}
			if !rc.IgnorePortInHostMatching || rc.GetValidateClusters().GetValue() {
				t.Errorf("route config flags: ignorePort %v validateClusters %v", rc.IgnorePortInHostMatching, rc.GetValidateClusters())
			}
		}
		if rc.Name == "default/eg/b" {
			t.Errorf("second plain HTTP entry must not get its own route config")
		}
	}
	if rcA == nil || !slices.Equal(rcA.vhosts, []string{"default/eg/a/a_example_com", "default/eg/b/*"}) {
		t.Errorf("route config default/eg/a vhosts = %v", rcA)
	}

	// HTTPS: one chain per entry, SNI for named hosts, none for the default.
	if len(https.FilterChains) != 2 || https.DefaultFilterChain != nil {
		t.Fatalf("HTTPS listener chains: %d (default %v)", len(https.FilterChains), https.DefaultFilterChain != nil)
	}
	fc1, fc2 := https.FilterChains[0], https.FilterChains[1]
	if fc1.Name != "default/eg/s1" || !slices.Equal(fc1.GetFilterChainMatch().GetServerNames(), []string{"s.example.com"}) {
		t.Errorf("chain 1: %q %v", fc1.Name, fc1.GetFilterChainMatch())
	}
	if fc2.Name != "default/eg/s2" || fc2.FilterChainMatch != nil {
		t.Errorf("chain 2 (no hostname) must have no match: %v", fc2.FilterChainMatch)
	}
	if len(https.ListenerFilters) != 1 || https.ListenerFilters[0].Name != tlsInspectorFilterName {
		t.Errorf("tls_inspector missing: %v", https.ListenerFilters)
	}
	if h := hcmOf(t, fc2); h.StatPrefix != "https-10443" || h.GetRds().GetRouteConfigName() != "default/eg/s2" {
		t.Errorf("https HCM: %q %q", h.StatPrefix, h.GetRds().GetRouteConfigName())
	}
	ctx1, ctx2 := tlsOf(t, fc1), tlsOf(t, fc2)
	if !slices.Equal(ctx1.CommonTlsContext.AlpnProtocols, []string{"h2", "http/1.1"}) {
		t.Errorf("default ALPN %v", ctx1.CommonTlsContext.AlpnProtocols)
	}
	if !slices.Equal(ctx2.CommonTlsContext.AlpnProtocols, []string{"http/1.1"}) {
		t.Errorf("ALPN %v", ctx2.CommonTlsContext.AlpnProtocols)
	}
	if ctx2.CommonTlsContext.GetTlsParams().GetTlsMinimumProtocolVersion().String() != "TLSv1_2" {
		t.Errorf("min version %v", ctx2.CommonTlsContext.GetTlsParams())
	}
	sds := ctx1.CommonTlsContext.TlsCertificateSdsSecretConfigs
	if len(sds) != 1 || sds[0].Name != "default/cert" || sds[0].GetSdsConfig().GetAds() == nil {
		t.Errorf("SDS refs %v", sds)
	}
	if len(r.Secrets) != 1 || r.Secrets[0].Name != "default/cert" ||
		string(r.Secrets[0].GetTlsCertificate().GetPrivateKey().GetInlineBytes()) != "key-pem" {
		t.Errorf("secrets %v (the shared certificate must appear once)", r.Secrets)
	}
}

func TestListenerHTTPAndHTTPSOnOnePort(t *testing.T) {
	cfg := oneRoute(prefixRoute("r", "/"))
	cfg.Proxies[0].HTTP = append(cfg.Proxies[0].HTTP, &ir.HTTPListener{
		Name: "default/eg/https", Address: "0.0.0.0", Port: 10080,
		TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}},
		VirtualHosts: []*ir.VirtualHost{{Name: "default/eg/https/*", Domains: []string{"*"}, Routes: []*ir.HTTPRoute{prefixRoute("r2", "/")}}},
	})
	r := translateOne(t, cfg)
	l := r.Listeners[0]
	if l.DefaultFilterChain == nil || len(l.FilterChains) != 1 {
		t.Fatalf("want default plaintext chain + 1 TLS chain")
	}
	if got := l.FilterChains[0].GetFilterChainMatch().GetTransportProtocol(); got != "tls" {
		t.Errorf("TLS chain next to plaintext must match transport_protocol tls, got %q", got)
	}
}

func TestListenerErrors(t *testing.T) {
	for name, mutate := range map[string]func(*ir.Config){
		"port zero":   func(c *ir.Config) { c.Proxies[0].HTTP[0].Port = 0 },
		"tls no cert": func(c *ir.Config) { c.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{} },
		"bad tls version": func(c *ir.Config) {
			c.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}, MinVersion: "1.9"}
		},
		"duplicate domain": func(c *ir.Config) {
			vh := c.Proxies[0].HTTP[0].VirtualHosts[0]
			c.Proxies[0].HTTP[0].VirtualHosts = append(c.Proxies[0].HTTP[0].VirtualHosts,
				&ir.VirtualHost{Name: "other", Domains: vh.Domains, Routes: vh.Routes})
		},
		"nil listener": func(c *ir.Config) { c.Proxies[0].HTTP = append(c.Proxies[0].HTTP, nil) },
		"same SNI twice": func(c *ir.Config) {
			for _, n := range []string{"default/eg/s1", "default/eg/s2"} {
				c.Proxies[0].HTTP = append(c.Proxies[0].HTTP, &ir.HTTPListener{Name: n, Port: 10443, Hostname: "x.example",
					TLS: &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}}})
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := oneRoute(prefixRoute("r", "/"))
			mutate(cfg)
			_, err := Translate(cfg)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), "default/eg") {
				t.Errorf("error does not name the proxy/listener: %v", err)
			}
		})
	}
	if _, err := Translate(nil); err == nil {
		t.Error("Translate(nil) must fail")
	}
}

func TestCORSFilterOnlyWhenUsed(t *testing.T) {
	r := translateOne(t, oneRoute(prefixRoute("r", "/")))
	for _, f := range hcmOf(t, r.Listeners[0].DefaultFilterChain).HttpFilters {
		if f.Name == corsFilterName {
			t.Fatal("CORS filter present without any CORS route")
		}
	}
	rt := prefixRoute("r", "/")
	rt.CORS = &ir.CORS{AllowOrigins: []string{"*"}}
	r = translateOne(t, oneRoute(rt))
	filters := hcmOf(t, r.Listeners[0].DefaultFilterChain).HttpFilters
	if len(filters) != 2 || filters[0].Name != corsFilterName || filters[1].Name != routerFilterName {
		t.Fatalf("filters %v, want cors then router", filters)
	}
}
