package translate

import (
	"fmt"
	"strings"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// Gateway API sessionPersistence (GEP-1619) on HTTPRoute and GRPCRoute
// rules, as Envoy's stateful_session filter does it: the response names the
// endpoint that served it (a cookie or a header holding its address), and
// a request that carries the name goes back to that endpoint while it is
// healthy. What Envoy cannot enforce fails closed:
//
//   - absoluteTimeout with a Session cookie (the default lifetimeType): the
//     spec wants a cookie without Max-Age whose session still ends after
//     the timeout; Envoy's only expiry is the cookie's TTL, which also
//     makes the cookie permanent. Envoy Gateway drops the timeout.
//   - absoluteTimeout with Header sessions: Envoy's header sessions never
//     expire. Envoy Gateway drops the timeout.

// maxSessionName is the CRD's limit on sessionName.
const maxSessionName = 128

// sessionPersistence compiles a rule's sessionPersistence (nil when the
// rule has none). false means the rule must fail closed; the reason is
// recorded on rs.
func (b *builder) sessionPersistence(rs *routeState, sp *gwv1.SessionPersistence, rule int, where string) (*ir.SessionPersistence, bool) {
	if sp == nil {
		return nil, true
	}
	where += ".sessionPersistence"
	name := strings.ReplaceAll(rs.prefix+"/rule/"+itoa(rule), "/", "-") // Envoy Gateway's default name
	if sp.SessionName != nil {
		name = *sp.SessionName
		if len(name) > maxSessionName || !isHeaderToken(name) { // validate_filters.go
			rs.invalid(fmt.Sprintf("%s.sessionName %q must be 1 to %d token characters (a valid cookie and header name)", where, name, maxSessionName))
			return nil, false
		}
	}
	typ := gwv1.CookieBasedSessionPersistence
	if sp.Type != nil {
		typ = *sp.Type
	}
	lifetime := gwv1.SessionCookieLifetimeType
	if c := sp.CookieConfig; c != nil {
		if typ != gwv1.CookieBasedSessionPersistence {
			rs.invalid(where + ": cookieConfig can only be set with type Cookie")
			return nil, false
		}
		if c.LifetimeType != nil {
			lifetime = *c.LifetimeType
		}
	}
	var ttl time.Duration
	if sp.AbsoluteTimeout != nil {
		d, err := parseDuration(*sp.AbsoluteTimeout) // filters.go
		if err != nil {
			rs.invalid(fmt.Sprintf("%s.absoluteTimeout: %v", where, err))
			return nil, false
		}
		ttl = d
	}
	switch typ {
	case gwv1.CookieBasedSessionPersistence:
		switch lifetime {
		case gwv1.PermanentCookieLifetimeType:
			if sp.AbsoluteTimeout == nil {
				rs.invalid(where + ": absoluteTimeout must be specified when cookie lifetimeType is Permanent")
				return nil, false
			}
			if ttl < time.Second || ttl%time.Second != 0 {
				rs.unsupported("UnsupportedValue", fmt.Sprintf("%s.absoluteTimeout %s: a permanent cookie's lifetime is whole seconds, at least 1s", where, *sp.AbsoluteTimeout))
				return nil, false
			}
		case gwv1.SessionCookieLifetimeType:
			if sp.AbsoluteTimeout != nil {
				rs.unsupported("UnsupportedValue", where+".absoluteTimeout with a Session cookie is not supported: "+
					"Envoy ends a session only through the cookie's Max-Age, which makes the cookie Permanent; "+
					"set cookieConfig.lifetimeType: Permanent, or remove absoluteTimeout")
				return nil, false
			}
		default:
			rs.unsupported("UnsupportedValue", fmt.Sprintf("%s.cookieConfig.lifetimeType %q is not supported (Session or Permanent)", where, lifetime))
			return nil, false
		}
		return &ir.SessionPersistence{Cookie: &ir.SessionCookie{Name: name, TTL: ttl}}, true
	case gwv1.HeaderBasedSessionPersistence:
		if sp.AbsoluteTimeout != nil {
			rs.unsupported("UnsupportedValue", where+".absoluteTimeout with Header sessions is not supported: Envoy's header-based sessions never expire")
			return nil, false
		}
		return &ir.SessionPersistence{Header: &ir.SessionHeader{Name: name}}, true
	}
	rs.unsupported("UnsupportedValue", fmt.Sprintf("%s.type %q is not supported (Cookie or Header)", where, typ))
	return nil, false
}
