package xds

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/egctl/egctl/ir"
)

// HTTPS entries sharing a port are told apart by SNI, but HTTP/2 clients
// reuse a connection for every host its certificate covers (connection
// coalescing), so a request can reach the filter chain of another listener.
// Gateway API (GEP-3567) wants such a misdirected request answered 421, so
// that the client opens a connection for the right host; a host this
// listener does serve but has no route for still gets 404.
//
// addMisdirected appends to the route configuration of entry e:
//   - a 421 virtual host for the hostnames of the other HTTPS entries on the
//     port that e's hostname also covers (they are more specific), and for
//     any other host when e has a hostname;
//   - a 404 virtual host for e's own hostname when no virtual host has it,
//     so that the catch-all 421 does not swallow e's own hosts.
//
// Domains already present (translate may spell some of this itself) are
// left alone.
func addMisdirected(rc *routev3.RouteConfiguration, e *ir.HTTPListener, port []*ir.HTTPListener) {
	have := map[string]bool{}
	for _, vh := range rc.VirtualHosts {
		for _, d := range vh.Domains {
			have[strings.ToLower(d)] = true
		}
	}
	var misdirected []string
	add := func(d string) {
		if k := strings.ToLower(d); !have[k] {
			have[k] = true
			misdirected = append(misdirected, d)
		}
	}
	own := strings.ToLower(e.Hostname)
	var notFound []string
	if own != "" && !have[own] {
		have[own] = true
		notFound = append(notFound, e.Hostname)
	}
	for _, o := range port {
		if o == e || o.TLS == nil || o.Hostname == "" {
			continue
		}
		if own == "" || hostCovers(own, strings.ToLower(o.Hostname)) {
			add(o.Hostname)
		}
	}
	if own != "" {
		add("*")
	}
	if len(notFound) > 0 {
		rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{
			Name:    e.Name + "/unrouted-host",
			Domains: notFound,
			Routes: []*routev3.Route{{
				Name:   e.Name + "/unrouted-host",
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 404}},
			}},
		})
	}
	if len(misdirected) > 0 {
		rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{
			Name:    e.Name + "/misdirected-request",
			Domains: misdirected,
			Routes: []*routev3.Route{{
				Name:   e.Name + "/misdirected-request",
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 421}},
			}},
		})
	}
}

// hostCovers reports whether listener hostname h (lower case, possibly
// "*.suffix") also matches hostname o, which is then more specific.
func hostCovers(h, o string) bool {
	if h == o {
		return false
	}
	if suffix, ok := strings.CutPrefix(h, "*"); ok {
		return strings.HasSuffix(o, suffix) && len(o) > len(suffix)
	}
	return false
}
