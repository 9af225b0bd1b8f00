package xds

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/egctl/egctl/ir"
)

var redirectCodes = map[int]routev3.RedirectAction_RedirectResponseCode{
	// 0: Gateway API's default for RequestRedirect is 302.
	0:   routev3.RedirectAction_FOUND,
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

// wellKnownPort is the port a Location header leaves out for a scheme.
var wellKnownPort = map[string]uint32{"http": 80, "https": 443}

// buildRedirect spells a RequestRedirect. secure says whether the request
// came over TLS, which is the redirect's scheme when Scheme is empty.
func buildRedirect(r *ir.Redirect, m *ir.HTTPMatch, secure bool) (*routev3.RedirectAction, error) {
	code, ok := redirectCodes[r.StatusCode]
	if !ok {
		return nil, fmt.Errorf("StatusCode: %d is not one of 301, 302, 303, 307, 308", r.StatusCode)
	}
	if r.Port > 65535 {
		return nil, fmt.Errorf("Port: %d out of range", r.Port)
	}
	out := &routev3.RedirectAction{
		HostRedirect: r.Hostname,
		PortRedirect: r.Port,
		ResponseCode: code,
	}
	scheme := strings.ToLower(r.Scheme)
	if scheme == "" {
		scheme = "http"
		if secure {
			scheme = "https"
		}
	}
	// Gateway API: no port in Location for http:80 and https:443. Envoy
	// writes any port_redirect it is given, so leave it out; the host then
	// keeps the port the client sent, if any.
	if r.Port == wellKnownPort[scheme] {
		out.PortRedirect = 0
	}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	if r.Path != nil {
		switch r.Path.Type {
		case ir.FullPathReplace:
			out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.Path.Value}
		case ir.PrefixMatchReplace:
			pr, err := replacePrefix(m, r.Path.Value)
			if err != nil {
				return nil, fmt.Errorf("Path: %w", err)
			}
			switch {
			case pr.regex != nil:
				out.PathRewriteSpecifier = &routev3.RedirectAction_RegexRewrite{RegexRewrite: pr.regex}
			case pr.prefix != "":
				out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: pr.prefix}
			}
		default:
			return nil, fmt.Errorf("Path.Type: unknown type %q", r.Path.Type)
		}
	}
	return out, nil
}
