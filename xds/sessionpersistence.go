package xds

import (
	"fmt"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	statefulsessionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/stateful_session/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	cookiev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/cookie/v3"
	headerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/header/v3"
	httptypev3 "github.com/envoyproxy/go-control-plane/envoy/type/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// Gateway API session persistence: Envoy's stateful_session filter, held
// disabled on the HCM and configured on each route that keeps sessions
// (Envoy Gateway's layout and names). The cookie's Path is the route's
// path (GEP-1619): an exact path, a prefix, or the literal part of a
// regular expression up to its last '/'.

const (
	statefulSessionFilterName = "envoy.filters.http.stateful_session"
	cookieSessionStateName    = "envoy.http.stateful_session.cookie"
	headerSessionStateName    = "envoy.http.stateful_session.header"
)

func init() {
	register(&feature{
		name: statefulSessionFilterName,
		httpFilters: func(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.SessionPersistence != nil }) {
				return nil, nil
			}
			// Every route that keeps sessions brings its own settings; the
			// HCM's only holds the filter's place.
			a, err := toAny(&statefulsessionv3.StatefulSession{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: statefulSessionFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}, Disabled: true}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			sp := r.SessionPersistence
			if sp == nil || out.GetRoute() == nil {
				return nil
			}
			a, err := b.sessionConfig(sp, cookiePath(&r.Match))
			if err != nil {
				return fmt.Errorf("SessionPersistence: %w", err)
			}
			if out.TypedPerFilterConfig == nil {
				out.TypedPerFilterConfig = map[string]*anypb.Any{}
			}
			out.TypedPerFilterConfig[statefulSessionFilterName] = a
			return nil
		},
	})
}

type sessionKey struct {
	sp   *ir.SessionPersistence
	path string
}

// sessionConfig is the per-route configuration of sp, built once per
// session settings and cookie path and shared, read-only, by their routes.
func (b *builder) sessionConfig(sp *ir.SessionPersistence, path string) (*anypb.Any, error) {
	k := sessionKey{sp, path}
	if a, ok := b.sessions[k]; ok {
		return a, nil
	}
	var state proto.Message
	var name string
	switch {
	case sp.Cookie != nil:
		c := &httptypev3.Cookie{Name: sp.Cookie.Name, Path: path}
		if sp.Cookie.TTL > 0 {
			c.Ttl = durationpb.New(sp.Cookie.TTL)
		}
		state, name = &cookiev3.CookieBasedSessionState{Cookie: c}, cookieSessionStateName
	case sp.Header != nil:
		state, name = &headerv3.HeaderBasedSessionState{Name: sp.Header.Name}, headerSessionStateName
	default:
		return nil, fmt.Errorf("neither cookie nor header")
	}
	sa, err := toAny(state)
	if err != nil {
		return nil, err
	}
	a, err := toAny(&statefulsessionv3.StatefulSessionPerRoute{Override: &statefulsessionv3.StatefulSessionPerRoute_StatefulSession{
		StatefulSession: &statefulsessionv3.StatefulSession{SessionState: &corev3.TypedExtensionConfig{Name: name, TypedConfig: sa}},
	}})
	if err != nil {
		return nil, err
	}
	if b.sessions == nil {
		b.sessions = map[sessionKey]*anypb.Any{}
	}
	b.sessions[k] = a
	return a, nil
}

// cookiePath is the Path attribute of a session cookie for a route match.
func cookiePath(m *ir.HTTPMatch) string {
	switch m.PathType {
	case ir.PathExact:
		return m.Path
	case ir.PathRegex:
		// Envoy matches the whole path, so a leading ^ says nothing.
		re, err := regexp.Compile(strings.TrimPrefix(m.Path, "^"))
		if err != nil {
			return "/"
		}
		lit, complete := re.LiteralPrefix()
		if complete && lit != "" {
			return lit
		}
		// A cookie path matches whole path segments only: cut back to the
		// last complete one.
		if i := strings.LastIndexByte(lit, '/'); i > 0 {
			return lit[:i]
		}
		return "/"
	}
	if m.Path == "" {
		return "/"
	}
	return m.Path
}
