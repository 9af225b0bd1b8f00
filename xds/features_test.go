package xds

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
)

func TestHeaderModifiers(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.RequestHeaders = &ir.HeaderModifier{Set: []ir.Header{{Name: "s", Value: "1"}}, Add: []ir.Header{{Name: "a", Value: "2"}}, Remove: []string{"x"}}
	rt.ResponseHeaders = &ir.HeaderModifier{Add: []ir.Header{{Name: "ra", Value: "3"}}, Remove: []string{"rx"}}
	route := firstRoute(t, translateOne(t, oneRoute(rt)))
	want := []*corev3.HeaderValueOption{
		{Header: &corev3.HeaderValue{Key: "s", Value: "1"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
		{Header: &corev3.HeaderValue{Key: "a", Value: "2"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
	}
	if len(route.RequestHeadersToAdd) != 2 || !proto.Equal(route.RequestHeadersToAdd[0], want[0]) || !proto.Equal(route.RequestHeadersToAdd[1], want[1]) {
		t.Errorf("request headers %v", route.RequestHeadersToAdd)
	}
	if !slices.Equal(route.RequestHeadersToRemove, []string{"x"}) || !slices.Equal(route.ResponseHeadersToRemove, []string{"rx"}) {
		t.Errorf("removes %v %v", route.RequestHeadersToRemove, route.ResponseHeadersToRemove)
	}
	if len(route.ResponseHeadersToAdd) != 1 || route.ResponseHeadersToAdd[0].AppendAction != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
		t.Errorf("response headers %v", route.ResponseHeadersToAdd)
	}
}

func TestReplacePrefix(t *testing.T) {
	cases := []struct {
		match, value string
		prefix       string // want prefix_rewrite
		regex, subst string // or want regex_rewrite
	}{
		{match: "/prefix", value: "/", regex: `^/prefix/*`, subst: "/"},
		{match: "/prefix/", value: "/", regex: `^/prefix/*`, subst: "/"},
		{match: "/a.b", value: "", regex: `^/a\.b/*`, subst: "/"},
		{match: "/old", value: "/new", prefix: "/new"},
		{match: "/old/", value: "/new/", prefix: "/new"},
		{match: "/", value: "/xyz", prefix: "/xyz/"},
		{match: "/", value: "/"},
	}
	for _, c := range cases {
		got, err := replacePrefix(&ir.HTTPMatch{PathType: ir.PathPrefix, Path: c.match}, c.value)
		if err != nil {
			t.Fatalf("%q→%q: %v", c.match, c.value, err)
		}
		if got.prefix != c.prefix || got.regex.GetPattern().GetRegex() != c.regex || got.regex.GetSubstitution() != c.subst {
			t.Errorf("%q→%q: got prefix %q regex %q→%q", c.match, c.value, got.prefix, got.regex.GetPattern().GetRegex(), got.regex.GetSubstitution())
		}
	}
	if _, err := replacePrefix(&ir.HTTPMatch{PathType: ir.PathExact, Path: "/x"}, "/y"); err == nil {
		t.Error("ReplacePrefixMatch on an Exact match must fail")
	}
}

func TestURLRewrite(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Match = ir.HTTPMatch{PathType: ir.PathExact, Path: "/x"}
	rt.URLRewrite = &ir.URLRewrite{Hostname: "h.example", Path: &ir.PathModifier{Type: ir.FullPathReplace, Value: "/full"}}
	a := firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute()
	if a.GetHostRewriteLiteral() != "h.example" || a.GetRegexRewrite().GetPattern().GetRegex() != fullPathRegex || a.GetRegexRewrite().GetSubstitution() != "/full" {
		t.Errorf("rewrite %v", a)
	}
}

func TestRedirect(t *testing.T) {
	for code, want := range map[int]routev3.RedirectAction_RedirectResponseCode{
		0: routev3.RedirectAction_FOUND, 301: routev3.RedirectAction_MOVED_PERMANENTLY, 302: routev3.RedirectAction_FOUND,
		303: routev3.RedirectAction_SEE_OTHER, 307: routev3.RedirectAction_TEMPORARY_REDIRECT, 308: routev3.RedirectAction_PERMANENT_REDIRECT,
	} {
		rt := &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/p"},
			Redirect: &ir.Redirect{Scheme: "https", Hostname: "h", Port: 8443, StatusCode: code, Path: &ir.PathModifier{Type: ir.PrefixMatchReplace, Value: "/q"}}}
		rd := firstRoute(t, translateOne(t, oneRoute(rt))).GetRedirect()
		if rd.ResponseCode != want || rd.GetSchemeRedirect() != "https" || rd.HostRedirect != "h" || rd.PortRedirect != 8443 || rd.GetPrefixRewrite() != "/q" {
			t.Errorf("code %d: %v", code, rd)
		}
	}
	rt := &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/p"}, Redirect: &ir.Redirect{StatusCode: 305}}
	if _, err := Translate(oneRoute(rt)); err == nil {
		t.Error("status 305 must be rejected")
	}
	rt.Redirect = &ir.Redirect{StatusCode: 301, Path: &ir.PathModifier{Type: ir.FullPathReplace, Value: "/new"}}
	if got := firstRoute(t, translateOne(t, oneRoute(rt))).GetRedirect().GetPathRedirect(); got != "/new" {
		t.Errorf("path redirect %q", got)
	}
}

func TestMirrors(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Mirrors = []*ir.Mirror{
		{Destination: dest("m0", ipBackend("m0/backend/0", 1, 4000))},
		{Destination: dest("m1", ipBackend("m1/backend/0", 1, 4001)), Numerator: 1, Denominator: 3},
	}
	r := translateOne(t, oneRoute(rt))
	pol := firstRoute(t, r).GetRoute().RequestMirrorPolicies
	if len(pol) != 2 || pol[0].Cluster != "m0" || pol[0].RuntimeFraction != nil || !pol[0].DisableShadowHostSuffixAppend {
		t.Fatalf("mirror 0: %v", pol)
	}
	if f := pol[1].GetRuntimeFraction().GetDefaultValue(); f.GetNumerator() != 333333 || f.GetDenominator().String() != "MILLION" {
		t.Errorf("mirror 1 fraction %v", f)
	}
	findCluster(t, r, "m0")
	findCluster(t, r, "m1")

	rt.Mirrors = []*ir.Mirror{{Destination: dest("m"), Numerator: 5, Denominator: 0}}
	if _, err := Translate(oneRoute(rt)); err == nil {
		t.Error("denominator 0 with numerator 5 must fail")
	}
}

func TestCORSPolicy(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.CORS = &ir.CORS{AllowOrigins: []string{"*", "https://*.example.com", "https://a.b"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"x-a"}, ExposeHeaders: []string{"x-b", "x-c"}, MaxAge: 90 * time.Second, AllowCredentials: true}
	route := firstRoute(t, translateOne(t, oneRoute(rt)))
	p := &corsv3.CorsPolicy{}
	if err := route.TypedPerFilterConfig[corsFilterName].UnmarshalTo(p); err != nil {
		t.Fatal(err)
	}
	if p.AllowMethods != "GET, PUT" || p.ExposeHeaders != "x-b, x-c" || p.MaxAge != "90" || !p.GetAllowCredentials().GetValue() {
		t.Errorf("policy %v", p)
	}
	o := p.AllowOriginStringMatch
	if len(o) != 3 || o[0].GetSafeRegex().GetRegex() != ".*" || o[2].GetExact() != "https://a.b" {
		t.Fatalf("origins %v", o)
	}
	re := o[1].GetSafeRegex().GetRegex()
	for origin, want := range map[string]bool{"https://x.example.com": true, "https://x.y.example.com": true, "https://example.com": false, "http://x.example.com": false, "https://x.example.com.evil": false} {
		if got := regexpMatch(t, re, origin); got != want {
			t.Errorf("origin %q vs %q: %v, want %v", origin, re, got, want)
		}
	}
}

func TestTimeoutAndRetry(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Timeout = &ir.Timeout{Request: 10 * time.Second, BackendRequest: 2 * time.Second}
	rt.Retry = &ir.Retry{Codes: []uint32{500, 503}, Attempts: 3, Backoff: 100 * time.Millisecond}
	a := firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute()
	if a.GetTimeout().AsDuration() != 10*time.Second {
		t.Errorf("timeout %v", a.GetTimeout())
	}
	p := a.GetRetryPolicy()
	if p.RetryOn != "connect-failure,refused-stream,reset,retriable-status-codes" || p.GetNumRetries().GetValue() != 3 ||
		!slices.Equal(p.RetriableStatusCodes, []uint32{500, 503}) || p.GetRetryBackOff().GetBaseInterval().AsDuration() != 100*time.Millisecond ||
		p.GetPerTryTimeout().AsDuration() != 2*time.Second {
		t.Errorf("retry policy %v", p)
	}

	rt.Retry = nil
	rt.Timeout = &ir.Timeout{RequestDisabled: true}
	a = firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute()
	if a.GetTimeout() == nil || a.GetTimeout().AsDuration() != 0 || a.RetryPolicy != nil {
		t.Errorf("disabled timeout must be an explicit 0s, got %v", a.GetTimeout())
	}
	// Without retries there is one attempt: the backend timeout bounds the
	// route, unless the request timeout is smaller.
	for _, c := range []struct{ req, backend, want time.Duration }{
		{0, time.Second, time.Second}, {30 * time.Second, 20 * time.Second, 20 * time.Second}, {5 * time.Second, 20 * time.Second, 5 * time.Second},
	} {
		rt.Timeout = &ir.Timeout{Request: c.req, BackendRequest: c.backend}
		a = firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute()
		if a.GetTimeout().AsDuration() != c.want || a.RetryPolicy != nil {
			t.Errorf("request %v backend %v: timeout %v retry %v, want %v", c.req, c.backend, a.GetTimeout().AsDuration(), a.RetryPolicy, c.want)
		}
	}

	rt.Timeout = nil
	rt.Retry = &ir.Retry{Attempts: 2}
	if got := firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute().GetRetryPolicy().RetryOn; got != "connect-failure,refused-stream,reset" {
		t.Errorf("retry without codes: retry_on %q", got)
	}
}

// TestPerTryTimeoutIsRetried: an attempt cut by the per-try timeout
// (backendRequest) must be retried (HTTPRouteRetryBackendTimeout). Envoy
// resets such an attempt and retries the reset only when retry_on holds
// "reset", "5xx" or "gateway-error"; the last two would also retry 5xx
// responses the route did not list, so "reset" it must be.
func TestPerTryTimeoutIsRetried(t *testing.T) {
	rt := prefixRoute("r", "/")
	rt.Timeout = &ir.Timeout{BackendRequest: time.Second}
	for _, codes := range [][]uint32{nil, {503}} {
		rt.Retry = &ir.Retry{Attempts: 2, Codes: codes}
		p := firstRoute(t, translateOne(t, oneRoute(rt))).GetRoute().GetRetryPolicy()
		if p.GetPerTryTimeout().AsDuration() != time.Second {
			t.Errorf("codes %v: per_try_timeout %v, want 1s", codes, p.GetPerTryTimeout())
		}
		on := strings.Split(p.GetRetryOn(), ",")
		if !slices.Contains(on, "reset") {
			t.Errorf("codes %v: retry_on %q does not retry a timed-out attempt", codes, p.GetRetryOn())
		}
		if slices.Contains(on, "5xx") || slices.Contains(on, "gateway-error") {
			t.Errorf("codes %v: retry_on %q retries responses beyond the listed codes", codes, p.GetRetryOn())
		}
	}
}

func TestRedirectWellKnownPortOmitted(t *testing.T) {
	cases := []struct {
		scheme string
		port   uint32
		tls    bool
		want   uint32
	}{
		{"https", 443, false, 0}, {"http", 80, true, 0}, {"", 80, false, 0}, {"", 443, true, 0},
		{"", 443, false, 443}, {"https", 80, false, 80}, {"http", 8080, false, 8080},
	}
	for _, c := range cases {
		rt := &ir.HTTPRoute{Name: "r", Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"},
			Redirect: &ir.Redirect{Scheme: c.scheme, Port: c.port, StatusCode: 302}}
		cfg := oneRoute(rt)
		if c.tls {
			cfg.Proxies[0].HTTP[0].TLS = &ir.TLSConfig{Certificates: []*ir.Certificate{testCert}}
		}
		if got := firstRoute(t, translateOne(t, cfg)).GetRedirect().PortRedirect; got != c.want {
			t.Errorf("scheme %q port %d tls %v: port_redirect %d, want %d", c.scheme, c.port, c.tls, got, c.want)
		}
	}
}
