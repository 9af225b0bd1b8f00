package translate

import (
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// schemePorts are the ports a Location header leaves out for a scheme.
var schemePorts = map[string]uint32{"http": 80, "https": 443}

// finishRedirect fixes the redirect port of one route instance on one
// listener and virtual host. Gateway API: with no port in the filter, the
// Location uses the scheme's well-known port when a scheme is given, the
// listener's port (as written in the Gateway) otherwise; a well-known port
// is left out of Location.
//
// Envoy keeps the port of the request's Host header whenever it is not
// told to write a port, so when the port must be left out and the filter
// keeps the hostname, the exact hostname of the virtual host is written
// instead: the request matched it, so it is the same host without its port.
// Under a wildcard virtual host that is impossible and the client's port is
// kept (a known gap).
func finishRedirect(r *ir.HTTPRoute, l *listenerState, host string) {
	if r.Redirect == nil {
		return
	}
	rd := *r.Redirect // the template is shared by every instance
	r.Redirect = &rd
	scheme := strings.ToLower(rd.Scheme)
	if rd.Port == 0 {
		if p, ok := schemePorts[scheme]; ok {
			rd.Port = p
		} else {
			rd.Port = uint32(l.spec.Port)
		}
	}
	if scheme == "" {
		scheme = "http"
		if l.spec.Protocol == gwv1.HTTPSProtocolType {
			scheme = "https"
		}
	}
	if rd.Port == schemePorts[scheme] && rd.Hostname == "" && host != "" && !isWildcard(host) {
		rd.Hostname = host
	}
}
