package translate

import (
	"fmt"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// applyFilters sets the rule's filter fields. It returns false when the rule
// must fail closed; the reason is already recorded on rs.
//
// rf holds what the rule's HTTPRouteFilters (ExtensionRef filters, resolved
// before the matches: their cookie matches multiply them) ask; it is merged
// here with the Gateway API filters.
func (b *builder) applyFilters(rs *routeState, cr *compiledRule, rule *gwv1.HTTPRouteRule, matches []gwv1.HTTPRouteMatch, rf *ruleFilters, where string) bool {
	t := &cr.tmpl
	ok := true
	// bad: unsupported or an unknown enum value, the rule answers 500;
	// invalid: a value the CRD rejects, the rule may be dropped (partial.go).
	bad := func(reason, format string, a ...any) {
		rs.unsupported(reason, fmt.Sprintf(format, a...))
		ok = false
	}
	invalid := func(format string, a ...any) {
		rs.invalid(fmt.Sprintf(format, a...))
		ok = false
	}
	for fi := range rule.Filters {
		f := &rule.Filters[fi]
		// fw names the filter in messages; built only when one is needed.
		fw := filterPath{where, fi}
		// Only RequestMirror and ExtensionRef may repeat (Gateway API); a
		// second header modifier would silently override the first.
		if f.Type != gwv1.HTTPRouteFilterRequestMirror && f.Type != gwv1.HTTPRouteFilterExtensionRef && repeatsType(rule.Filters[:fi], f.Type) {
			invalid("%s: filter type %s appears more than once in the rule", fw, f.Type)
			continue
		}
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier == nil {
				invalid("%s: requestHeaderModifier is missing", fw)
				continue
			}
			if !headerFilterOK(rs, f.RequestHeaderModifier, fw.String(), "requestHeaderModifier") { // validate_filters.go
				ok = false
				continue
			}
			t.RequestHeaders = headerModifier(f.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier == nil {
				invalid("%s: responseHeaderModifier is missing", fw)
				continue
			}
			if !headerFilterOK(rs, f.ResponseHeaderModifier, fw.String(), "responseHeaderModifier") {
				ok = false
				continue
			}
			t.ResponseHeaders = headerModifier(f.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			rd := f.RequestRedirect
			if rd == nil {
				invalid("%s: requestRedirect is missing", fw)
				continue
			}
			red := &ir.Redirect{StatusCode: 302}
			if rd.Scheme != nil {
				red.Scheme = *rd.Scheme
			}
			if rd.Hostname != nil {
				if err := checkPreciseHostname(string(*rd.Hostname)); err != nil { // validate_crd.go
					invalid("%s: requestRedirect.%v", fw, err)
					continue
				}
				red.Hostname = string(*rd.Hostname)
			}
			if err := checkPathModifierCRD(rd.Path); err != nil {
				invalid("%s: requestRedirect.%v", fw, err)
				continue
			}
			if rd.Port != nil {
				red.Port = uint32(*rd.Port)
			}
			if rd.StatusCode != nil {
				switch *rd.StatusCode {
				case 301, 302, 303, 307, 308:
					red.StatusCode = *rd.StatusCode
				default:
					bad("UnsupportedValue", "%s: redirect statusCode %d is not supported", fw, *rd.StatusCode)
					continue
				}
			}
			if rd.Scheme != nil && *rd.Scheme != "http" && *rd.Scheme != "https" {
				bad("UnsupportedValue", "%s: redirect scheme %q is not supported (http or https)", fw, *rd.Scheme)
				continue
			}
			pm, err := pathModifier(rd.Path, matches)
			if err != nil {
				rs.rejectValue(err, fmt.Sprintf("%s: %v", fw, err))
				ok = false
				continue
			}
			red.Path = pm
			t.Redirect = red
		case gwv1.HTTPRouteFilterURLRewrite:
			rw := f.URLRewrite
			if rw == nil {
				invalid("%s: urlRewrite is missing", fw)
				continue
			}
			u := &ir.URLRewrite{}
			if rw.Hostname != nil {
				if err := checkPreciseHostname(string(*rw.Hostname)); err != nil { // validate_crd.go
					invalid("%s: urlRewrite.%v", fw, err)
					continue
				}
				u.Hostname = string(*rw.Hostname)
			}
			if err := checkPathModifierCRD(rw.Path); err != nil {
				invalid("%s: urlRewrite.%v", fw, err)
				continue
			}
			pm, err := pathModifier(rw.Path, matches)
			if err != nil {
				rs.rejectValue(err, fmt.Sprintf("%s: %v", fw, err))
				ok = false
				continue
			}
			u.Path = pm
			t.URLRewrite = u
		case gwv1.HTTPRouteFilterRequestMirror:
			if f.RequestMirror == nil {
				invalid("%s: requestMirror is missing", fw)
				continue
			}
			m, err := b.mirror(rs, f.RequestMirror, cr.idx, fi, fw.String())
			if err != "" {
				invalid("%s", err)
				continue
			}
			if m != nil {
				t.Mirrors = append(t.Mirrors, m)
			}
		case gwv1.HTTPRouteFilterCORS:
			if f.CORS == nil {
				invalid("%s: cors is missing", fw)
				continue
			}
			t.CORS = corsOf(f.CORS)
		case gwv1.HTTPRouteFilterExtensionRef:
			// Resolved before the matches, into rf (httproutefilter.go).
		case gwv1.HTTPRouteFilterExternalAuth:
			bad("UnsupportedValue", "%s: ExternalAuth filter is not supported yet", fw)
		default:
			bad("UnsupportedValue", "%s: unknown filter type %q", fw, f.Type)
		}
	}
	if ok && rf != nil && !applyRuleFilters(rs, t, rf, where) { // httproutefilter.go
		ok = false
	}
	if t.Redirect != nil && t.URLRewrite != nil {
		bad("IncompatibleFilters", "%s: RequestRedirect and URLRewrite cannot be used together", where)
	}
	if t.Redirect != nil && len(t.Mirrors) > 0 {
		// A redirect forwards nothing: the mirror would be dropped.
		bad("IncompatibleFilters", "%s: RequestMirror cannot be used with RequestRedirect (a redirect forwards no request to mirror)", where)
	}
	return ok
}

// mirror resolves a RequestMirror backend. An unresolved mirror is reported
// in ResolvedRefs and dropped: mirrored answers are discarded anyway, so the
// primary traffic is unaffected. A non-empty string is a fail-closed error.
func (b *builder) mirror(rs *routeState, m *gwv1.HTTPRequestMirrorFilter, rule, k int, fw string) (*ir.Mirror, string) {
	out := &ir.Mirror{}
	switch {
	case m.Percent != nil && m.Fraction != nil:
		return nil, fw + ": requestMirror sets both percent and fraction"
	case m.Percent != nil:
		if *m.Percent < 0 || *m.Percent > 100 {
			return nil, fmt.Sprintf("%s: requestMirror percent %d is out of 0..100", fw, *m.Percent)
		}
		out.Numerator, out.Denominator = uint32(*m.Percent), 100
	case m.Fraction != nil:
		den := int32(100)
		if m.Fraction.Denominator != nil {
			den = *m.Fraction.Denominator
		}
		if den <= 0 || m.Fraction.Numerator < 0 || m.Fraction.Numerator > den {
			return nil, fmt.Sprintf("%s: requestMirror fraction %d/%d is invalid", fw, m.Fraction.Numerator, den)
		}
		out.Numerator, out.Denominator = uint32(m.Fraction.Numerator), uint32(den)
	}
	be, rerr := b.resolveRouteBackend(rs, &m.BackendRef)
	if rerr != nil {
		rs.unresolved(rerr.reason, fmt.Sprintf("%s.requestMirror.backendRef: %s", fw, rerr.msg))
		return nil, ""
	}
	// Named as Envoy Gateway names it: the rule's destination, then the
	// mirror filter's index among the rule's filters.
	name := rs.prefix + "/rule/" + itoa(rule) + "-mirror-" + itoa(k)
	// Envoy Gateway's locality name for a mirror's backend (index -1: it
	// is no backendRef of the rule).
	be.Name = name + "/backend/-1"
	be.Weight = 1
	// No metadata naming the route on the mirror's cluster: Envoy Gateway
	// writes none, and the route's own cluster carries it.
	out.Destination = &ir.RouteDestination{Name: name, Backends: []*ir.Backend{be}}
	return out, ""
}

// applyBackendFilters handles per-backendRef filters; only the header
// modifiers can be scoped to one backend.
func (b *builder) applyBackendFilters(rs *routeState, be *ir.Backend, filters []gwv1.HTTPRouteFilter, where string) bool {
	ok := true
	for fi := range filters {
		f := &filters[fi]
		fw := filterPath{where, fi}
		switch {
		case f.Type == gwv1.HTTPRouteFilterRequestHeaderModifier && f.RequestHeaderModifier != nil:
			if !headerFilterOK(rs, f.RequestHeaderModifier, fw.String(), "requestHeaderModifier") {
				ok = false
				continue
			}
			be.RequestHeaders = headerModifier(f.RequestHeaderModifier)
		case f.Type == gwv1.HTTPRouteFilterResponseHeaderModifier && f.ResponseHeaderModifier != nil:
			if !headerFilterOK(rs, f.ResponseHeaderModifier, fw.String(), "responseHeaderModifier") {
				ok = false
				continue
			}
			be.ResponseHeaders = headerModifier(f.ResponseHeaderModifier)
		case f.Type == gwv1.HTTPRouteFilterExtensionRef:
			if !b.backendExtensionFilter(rs, be, f, fw.String()) { // httproutefilter.go
				ok = false
			}
		default:
			rs.unsupported("UnsupportedValue", fmt.Sprintf("%s: filter %s is not supported on a backendRef yet", fw, f.Type))
			ok = false
		}
	}
	return ok
}

// filterPath is "<where>.filters[i]", formatted lazily: most filters never
// appear in a message.
type filterPath struct {
	where string
	i     int
}

func (f filterPath) String() string { return f.where + ".filters[" + itoa(f.i) + "]" }

func repeatsType(before []gwv1.HTTPRouteFilter, t gwv1.HTTPRouteFilterType) bool {
	for i := range before {
		if before[i].Type == t {
			return true
		}
	}
	return false
}

func headerModifier(f *gwv1.HTTPHeaderFilter) *ir.HeaderModifier {
	hm := &ir.HeaderModifier{}
	for _, h := range f.Set {
		hm.Set = append(hm.Set, ir.Header{Name: string(h.Name), Value: h.Value})
	}
	for _, h := range f.Add {
		hm.Add = append(hm.Add, ir.Header{Name: string(h.Name), Value: h.Value})
	}
	hm.Remove = append(hm.Remove, f.Remove...)
	return hm
}

// pathModifier converts a redirect/rewrite path. ReplacePrefixMatch only
// has meaning when every match of the rule is a path prefix.
func pathModifier(p *gwv1.HTTPPathModifier, matches []gwv1.HTTPRouteMatch) (*ir.PathModifier, error) {
	if p == nil {
		return nil, nil
	}
	switch p.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil {
			return nil, fmt.Errorf("path.replaceFullPath is missing")
		}
		return &ir.PathModifier{Type: ir.FullPathReplace, Value: *p.ReplaceFullPath}, nil
	case gwv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return nil, fmt.Errorf("path.replacePrefixMatch is missing")
		}
		for j, m := range matches {
			if m.Path != nil && m.Path.Type != nil && *m.Path.Type != gwv1.PathMatchPathPrefix {
				// The spec: Accepted=False (HTTPPathModifier.ReplacePrefixMatch).
				return nil, unknownValuef("ReplacePrefixMatch needs PathPrefix matches; matches[%d] is %s", j, *m.Path.Type)
			}
		}
		return &ir.PathModifier{Type: ir.PrefixMatchReplace, Value: *p.ReplacePrefixMatch}, nil
	}
	return nil, unknownValuef("path modifier type %q is not supported", p.Type)
}

func corsOf(c *gwv1.HTTPCORSFilter) *ir.CORS {
	out := &ir.CORS{MaxAge: 5 * time.Second} // the spec's default
	for _, o := range c.AllowOrigins {
		out.AllowOrigins = append(out.AllowOrigins, string(o))
	}
	for _, m := range c.AllowMethods {
		out.AllowMethods = append(out.AllowMethods, string(m))
	}
	for _, h := range c.AllowHeaders {
		out.AllowHeaders = append(out.AllowHeaders, string(h))
	}
	for _, h := range c.ExposeHeaders {
		out.ExposeHeaders = append(out.ExposeHeaders, string(h))
	}
	if c.MaxAge > 0 {
		out.MaxAge = time.Duration(c.MaxAge) * time.Second
	}
	out.AllowCredentials = c.AllowCredentials != nil && *c.AllowCredentials
	return out
}

// applyTimeouts converts GEP-2257 durations; backendRequest may not exceed
// request.
func (b *builder) applyTimeouts(rs *routeState, cr *compiledRule, rule *gwv1.HTTPRouteRule, where string) bool {
	to := rule.Timeouts
	if to == nil {
		return true
	}
	t := &ir.Timeout{}
	if to.Request != nil {
		d, err := parseDuration(*to.Request)
		if err != nil {
			rs.invalid(fmt.Sprintf("%s.timeouts.request: %v", where, err))
			return false
		}
		t.Request, t.RequestDisabled = d, d == 0
	}
	if to.BackendRequest != nil {
		d, err := parseDuration(*to.BackendRequest)
		if err != nil {
			rs.invalid(fmt.Sprintf("%s.timeouts.backendRequest: %v", where, err))
			return false
		}
		t.BackendRequest = d
	}
	if t.Request > 0 && t.BackendRequest > t.Request {
		rs.invalid(fmt.Sprintf("%s.timeouts: backendRequest %s exceeds request %s", where, t.BackendRequest, t.Request))
		return false
	}
	cr.tmpl.Timeout = t
	return true
}

func (b *builder) applyRetry(rs *routeState, cr *compiledRule, rule *gwv1.HTTPRouteRule, where string) bool {
	rt := rule.Retry
	if rt == nil {
		return true
	}
	// Attempts left unset is implementation-specific; 2 is Envoy Gateway's
	// default.
	out := &ir.Retry{Attempts: 2}
	if rt.Attempts != nil {
		if *rt.Attempts < 0 {
			rs.invalid(fmt.Sprintf("%s.retry.attempts %d is negative", where, *rt.Attempts))
			return false
		}
		out.Attempts = uint32(*rt.Attempts)
	}
	for _, c := range rt.Codes {
		if c < 400 || c > 599 {
			rs.invalid(fmt.Sprintf("%s.retry.codes: %d is not a 4xx/5xx code", where, c))
			return false
		}
		out.Codes = append(out.Codes, uint32(c))
	}
	if rt.Backoff != nil {
		d, err := parseDuration(*rt.Backoff)
		if err != nil {
			rs.invalid(fmt.Sprintf("%s.retry.backoff: %v", where, err))
			return false
		}
		out.Backoff = d
	}
	cr.tmpl.Retry = out
	return true
}

// parseDuration accepts GEP-2257 durations ("1h", "30s", "500ms", "1m30s").
func parseDuration(d gwv1.Duration) (time.Duration, error) {
	v, err := time.ParseDuration(string(d))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", d)
	}
	if v < 0 {
		return 0, fmt.Errorf("negative duration %q", d)
	}
	return v, nil
}
