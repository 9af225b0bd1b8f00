package xds

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// pathRewrite is how a Gateway API path modifier is spelled in Envoy: at
// most one of prefix and regex is set; none means "leave the path alone".
type pathRewrite struct {
	prefix string
	regex  *matcherv3.RegexMatchAndSubstitute
}

// fullPathRegex matches any path (Envoy applies it to the path without the
// query string, which is therefore kept).
const fullPathRegex = "^/.*$"

// replacePrefix rewrites the prefix matched by m with value.
//
// Envoy's prefix_rewrite replaces the matched characters literally, which
// gives "//foo" for "/prefix/foo" with "/" as replacement, and "/xyzfoo"
// for "/foo" matched by "/" replaced with "/xyz". Gateway API replaces path
// elements, so these cases are spelled differently:
//   - matched "/" and value "/" (or ""): nothing to do;
//   - matched "/": the leading "/" becomes value+"/";
//   - value "/": a regex eats the prefix and the slashes after it;
//   - otherwise the prefix (trailing '/' trimmed) is swapped for the value
//     (trailing '/' trimmed): "/p" and "/p/x" become "/v" and "/v/x".
func replacePrefix(m *ir.HTTPMatch, value string) (pathRewrite, error) {
	if m.PathType != ir.PathPrefix && m.PathType != "" {
		return pathRewrite{}, fmt.Errorf("ReplacePrefixMatch needs a PathPrefix match, the route has %s %q", m.PathType, m.Path)
	}
	p := strings.TrimRight(m.Path, "/")
	v := strings.TrimRight(value, "/")
	switch {
	case p == "" && v == "":
		return pathRewrite{}, nil
	case p == "":
		return pathRewrite{prefix: v + "/"}, nil
	case v == "":
		return pathRewrite{regex: &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: "^" + regexp.QuoteMeta(p) + "/*"},
			Substitution: "/",
		}}, nil
	default:
		return pathRewrite{prefix: v}, nil
	}
}

// applyURLRewrite sets the host and path rewrites of a route action.
func applyURLRewrite(a *routev3.RouteAction, u *ir.URLRewrite, m *ir.HTTPMatch) error {
	switch {
	case u.Hostname != "":
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: u.Hostname}
	case u.HostFromHeader != "":
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: u.HostFromHeader}
	case u.HostFromBackend:
		a.HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
	case u.HostPathRegex != nil:
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewritePathRegex{HostRewritePathRegex: &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: u.HostPathRegex.Pattern},
			Substitution: u.HostPathRegex.Substitution,
		}}
	}
	a.AppendXForwardedHost = u.AppendXForwardedHost && a.HostRewriteSpecifier != nil
	if u.Path == nil {
		return nil
	}
	switch u.Path.Type {
	case ir.FullPathReplace:
		a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: fullPathRegex},
			Substitution: u.Path.Value,
		}
	case ir.PrefixMatchReplace:
		pr, err := replacePrefix(m, u.Path.Value)
		if err != nil {
			return fmt.Errorf("Path: %w", err)
		}
		a.PrefixRewrite = pr.prefix
		a.RegexRewrite = pr.regex
	case ir.RegexReplace:
		if err := checkRegex(u.Path.Pattern); err != nil {
			return fmt.Errorf("Path: %w", err)
		}
		a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: u.Path.Pattern},
			Substitution: u.Path.Value,
		}
	default:
		return fmt.Errorf("Path.Type: unknown type %q", u.Path.Type)
	}
	return nil
}
