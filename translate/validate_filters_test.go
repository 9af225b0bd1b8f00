package translate

import "testing"

// TestRedirectUnknownSchemeRejected: only http and https are redirect
// schemes; another value sets Accepted=False/UnsupportedValue and the rule
// answers 500 instead of redirecting.
func TestRedirectUnknownSchemeRejected(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /r}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: unknown}}]`))
	wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
	vh := vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*")
	if len(vh.Routes) != 1 || vh.Routes[0].Redirect != nil || vh.Routes[0].DirectResponse == nil || vh.Routes[0].DirectResponse.StatusCode != 500 {
		t.Errorf("want a direct 500, got %+v", vh.Routes[0])
	}
}

// TestHeaderModifierValidation: header names must be tokens (no pseudo-
// headers, not empty), "host" cannot be modified, values must be non-empty
// and free of CR/LF; any of these fails the rule closed instead of reaching
// Envoy.
func TestHeaderModifierValidation(t *testing.T) {
	cases := map[string]string{
		"host":         `{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: Host, value: x}]}}`,
		"pseudo":       `{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: ":status", value: "200"}]}}`,
		"empty name":   `{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: "", value: x}]}}`,
		"crlf value":   `{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-a, value: "a\r\nb: c"}]}}`,
		"empty value":  `{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x-a, value: ""}]}}`,
		"remove host":  `{type: RequestHeaderModifier, requestHeaderModifier: {remove: [host]}}`,
		"space name":   `{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: "x a", value: v}]}}`,
		"backend host": ``,
	}
	for name, filter := range cases {
		t.Run(name, func(t *testing.T) {
			rule := `  - matches: [{path: {type: PathPrefix, value: /h}}]
    filters: [` + filter + `]
    backendRefs: [{name: svc, port: 3000}]`
			if filter == "" {
				rule = `  - matches: [{path: {type: PathPrefix, value: /h}}]
    backendRefs: [{name: svc, port: 3000, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: host, value: x}]}}]}]`
			}
			res := run(t, egRepro+routeYAML(rule))
			wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
			vh := vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*")
			r := vh.Routes[0]
			if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 || r.RequestHeaders != nil || r.ResponseHeaders != nil || r.Destination != nil {
				t.Errorf("want a bare direct 500, got %+v", r)
			}
		})
	}
}

func TestHeaderModifierValidOK(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "X-A~b", value: "v 1"}], remove: [x-b]}}]
    backendRefs: [{name: svc, port: 3000}]`))
	wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "True", "Accepted")
}

// TestCRDValidationRoute: input the HTTPRoute CRD rejects is refused
// (Accepted=False/UnsupportedValue) and fails closed.
func TestCRDValidationRoute(t *testing.T) {
	cases := map[string]string{
		"rewrite hostname":  `    filters: [{type: URLRewrite, urlRewrite: {hostname: "-rewrite.com"}}]`,
		"redirect hostname": `    filters: [{type: RequestRedirect, requestRedirect: {hostname: "Bad_Host"}}]`,
		"both paths":        `    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /a, replaceFullPath: /b}}}]`,
		"method":            `    matches: [{path: {type: PathPrefix, value: /h}, method: FOO}]`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			res := run(t, egRepro+routeYAML(`  - backendRefs: [{name: svc, port: 3000}]
`+body))
			wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
			for _, r := range vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*").Routes {
				if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
					t.Errorf("route %s not failed closed: %+v", r.Name, r)
				}
				if r.Match.Method == "FOO" {
					t.Errorf("method FOO programmed")
				}
			}
		})
	}
}

// TestCRDValidationL4ListenerHostname: the Gateway CRD forbids a hostname on
// TCP and UDP listeners; such a listener is not accepted.
func TestCRDValidationL4ListenerHostname(t *testing.T) {
	res := run(t, gwYAML(`  - {name: tcp, port: 5000, protocol: TCP, hostname: a.example.com}
  - {name: udp, port: 5353, protocol: UDP, hostname: a.example.com}
  - {name: ok, port: 5001, protocol: TCP}`))
	g := gatewayOut(t, res, "infra", "gw")
	for _, n := range []string{"tcp", "udp"} {
		wantCond(t, listenerStatus(t, g, n).Conditions, "Accepted", "False", "UnsupportedValue")
		wantCond(t, listenerStatus(t, g, n).Conditions, "Programmed", "False", "Invalid")
	}
	wantCond(t, listenerStatus(t, g, "ok").Conditions, "Accepted", "True", "Accepted")
}

// TestMatchNameValidation: header and query parameter match names follow
// the HTTPHeaderName pattern; a bad one invalidates its rule (dropped, the
// valid rule stays).
func TestMatchNameValidation(t *testing.T) {
	for _, m := range []string{
		`{path: {type: PathPrefix, value: /b}, headers: [{name: ":authority", value: x}]}`,
		`{path: {type: PathPrefix, value: /b}, queryParams: [{name: "a b", value: x}]}`,
	} {
		res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: PathPrefix, value: /a}}]
    backendRefs: [{name: svc, port: 3000}]
  - matches: [`+m+`]
    backendRefs: [{name: svc, port: 3000}]`))
		conds := parentConds(t, routeOut(t, res, "default", "r"))
		wantCond(t, conds, "Accepted", "True", "Accepted")
		wantCond(t, conds, "PartiallyInvalid", "True", "UnsupportedValue")
		if n := len(vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*").Routes); n != 1 {
			t.Errorf("%s: %d routes, want 1", m, n)
		}
	}
}
