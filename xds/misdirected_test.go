package xds

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/egctl/egctl/ir"
)

// pickVhost chooses a virtual host as Envoy does: exact domain, then the
// longest "*.suffix" wildcard, then "*".
func pickVhost(rc *routev3.RouteConfiguration, host string) *routev3.VirtualHost {
	var best *routev3.VirtualHost
	bestLen := -1
	for _, vh := range rc.VirtualHosts {
		for _, d := range vh.Domains {
			switch {
			case d == host:
				return vh
			case d == "*":
				if bestLen < 0 {
					best, bestLen = vh, 0
				}
			case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1:
				if len(d) > bestLen {
					best, bestLen = vh, len(d)
				}
			}
		}
	}
	return best
}

// TestMisdirectedRequests replays the cases of the Gateway API conformance
// test HTTPRouteHTTPSListenerDetectMisdirectedRequests on the route
// configurations (the chain is chosen by SNI as Envoy would).
func TestMisdirectedRequests(t *testing.T) {
	entry := func(name, hostname, routeHost string) *ir.HTTPListener {
		rt := prefixRoute(name+"-route", "/")
		return &ir.HTTPListener{Name: name, Address: "0.0.0.0", Port: 10443, Hostname: hostname,
			TLS:          &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}},
			VirtualHosts: []*ir.VirtualHost{{Name: name + "/vh", Domains: []string{routeHost}, Routes: []*ir.HTTPRoute{rt}}}}
	}
	cfg := &ir.Config{Proxies: []*ir.Proxy{{Name: "ns/gw", HTTP: []*ir.HTTPListener{
		entry("https", "", "example.org"),
		entry("https-with-hostname", "second-example.org", "second-example.org"),
		entry("https-with-wildcard-hostname", "*.wildcard.org", "*.wildcard.org"),
		entry("https-with-hostname-matching-wildcard", "fourth-example.wildcard.org", "fourth-example.wildcard.org"),
	}}}}
	r := translateOne(t, cfg)
	rcs := map[string]*routev3.RouteConfiguration{}
	for _, rc := range r.Routes {
		rcs[rc.Name] = rc
	}
	chainFor := func(sni string) string {
		switch {
		case sni == "second-example.org":
			return "https-with-hostname"
		case sni == "fourth-example.wildcard.org":
			return "https-with-hostname-matching-wildcard"
		case strings.HasSuffix(sni, ".wildcard.org"):
			return "https-with-wildcard-hostname"
		}
		return "https"
	}
	cases := []struct {
		sni, host string
		want      int // 200 (a listener route), 404 or 421
	}{
		{"example.org", "example.org", 200}, {"example.org", "second-example.org", 421}, {"example.org", "unknown-example.org", 404},
		{"second-example.org", "second-example.org", 200}, {"second-example.org", "example.org", 421}, {"second-example.org", "unknown-example.org", 421},
		{"third-example.wildcard.org", "third-example.wildcard.org", 200}, {"third-example.wildcard.org", "fith-example.wildcard.org", 200},
		{"third-example.wildcard.org", "fourth-example.wildcard.org", 421}, {"third-example.wildcard.org", "second-example.org", 421},
		{"third-example.wildcard.org", "unknown-example.org", 421},
		{"fourth-example.wildcard.org", "fourth-example.wildcard.org", 200}, {"fourth-example.wildcard.org", "fith-example.wildcard.org", 421},
		{"unknown-example.org", "example.org", 200}, {"unknown-example.org", "unknown-example.org", 404},
	}
	for _, c := range cases {
		vh := pickVhost(rcs[chainFor(c.sni)], c.host)
		got := 404
		if vh != nil {
			got = 200
			if dr := vh.Routes[0].GetDirectResponse(); dr != nil {
				got = int(dr.Status)
			}
		}
		if got != c.want {
			t.Errorf("SNI %s Host %s: %d, want %d", c.sni, c.host, got, c.want)
		}
	}

	// A listener with a hostname but no routes answers its own host 404.
	cfg.Proxies[0].HTTP[1].VirtualHosts = nil
	r = translateOne(t, cfg)
	for _, rc := range r.Routes {
		if rc.Name == "https-with-hostname" {
			if vh := pickVhost(rc, "second-example.org"); vh == nil || vh.Routes[0].GetDirectResponse().GetStatus() != 404 {
				t.Errorf("own host without routes: %v", vh)
			}
		}
	}
}
