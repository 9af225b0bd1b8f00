package translate

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// rateLimitRule translates one rule at path ("spec.rateLimit.global.rules[0]").
// local rules refuse what only the rate-limit service does.
func rateLimitRule(path string, r *egv1a1.RateLimitRule, local bool) (*ir.RateLimitRule, error) {
	out := &ir.RateLimitRule{}
	v, err := limitValue(path+".limit", &r.Limit, local)
	if err != nil {
		return nil, err
	}
	out.Limit = v
	var methods *methodSet
	for i := range r.ClientSelectors {
		if err := selector(fmt.Sprintf("%s.clientSelectors[%d]", path, i), &r.ClientSelectors[i], out, &methods); err != nil {
			return nil, err
		}
	}
	if methods != nil {
		m, err := methods.match()
		if err != nil {
			return nil, fmt.Errorf("%s.clientSelectors: %w", path, err)
		}
		out.Methods = m
	}
	if c := r.Cost; c != nil {
		if c.Request == nil && c.Response == nil {
			return nil, fmt.Errorf("%s.cost: set request, response or both", path)
		}
		if out.RequestCost, err = rateLimitCost(path+".cost.request", c.Request); err != nil {
			return nil, err
		}
		if c.Response != nil && local {
			return nil, fmt.Errorf("%s.cost.response: only global rate limits charge a cost when the response is done", path)
		}
		if out.ResponseCost, err = rateLimitCost(path+".cost.response", c.Response); err != nil {
			return nil, err
		}
	}
	if r.Shared != nil && *r.Shared {
		if local {
			return nil, fmt.Errorf("%s.shared: local rate limits keep one bucket per route; a bucket shared by routes needs a global rate limit", path)
		}
		out.Shared = true
	}
	out.ShadowMode = r.ShadowMode != nil && *r.ShadowMode
	if out.XRateLimitHeaders, err = xRateLimitHeaders(path, r.XRateLimitHeaders); err != nil {
		return nil, err
	}
	return out, nil
}

func limitValue(path string, l *egv1a1.RateLimitValue, local bool) (ir.RateLimitValue, error) {
	v := ir.RateLimitValue{Requests: l.Requests, Unit: ir.RateLimitUnit(l.Unit)}
	if v.Unit.Seconds() == 0 {
		return v, fmt.Errorf("%s.unit: unsupported value %q (Second, Minute, Hour, Day, Week, Month or Year)", path, l.Unit)
	}
	if local && l.Requests == 0 {
		// Envoy's token buckets hold at least one token.
		return v, fmt.Errorf("%s.requests: a local limit needs at least 1 request per %s (Envoy's token bucket cannot be empty); use a global limit to refuse everything", path, l.Unit)
	}
	if md := l.FromMetadata; md != nil {
		if local {
			return v, fmt.Errorf("%s.fromMetadata: only global rate limits take their limit from metadata", path)
		}
		if md.Namespace == "" || md.Key == "" {
			return v, fmt.Errorf("%s.fromMetadata: namespace and key are required", path)
		}
		v.FromMetadata = &ir.MetadataKey{Namespace: md.Namespace, Key: md.Key}
	}
	return v, nil
}

func xRateLimitHeaders(path string, o *egv1a1.XRateLimitHeadersOption) (ir.XRateLimitHeaders, error) {
	if o == nil {
		return "", nil
	}
	switch *o {
	case egv1a1.XRateLimitHeadersOptionDisabled:
		return ir.XRateLimitHeadersOff, nil
	case egv1a1.XRateLimitHeadersOptionDraftVersion03:
		return ir.XRateLimitHeadersDraft03, nil
	}
	return "", fmt.Errorf("%s.xRateLimitHeaders: unsupported value %q (Off or DraftVersion03)", path, *o)
}

func rateLimitCost(path string, c *egv1a1.RateLimitCostSpecifier) (*ir.RateLimitCost, error) {
	if c == nil {
		return nil, nil
	}
	switch c.From {
	case egv1a1.RateLimitCostFromNumber:
		if c.Number == nil || c.Metadata != nil {
			return nil, fmt.Errorf("%s: from Number needs number (and no metadata)", path)
		}
		if *c.Number > maxCostNumber {
			return nil, fmt.Errorf("%s.number: %d is above Envoy's largest cost, %d", path, *c.Number, maxCostNumber)
		}
		n := *c.Number
		return &ir.RateLimitCost{Number: &n}, nil
	case egv1a1.RateLimitCostFromMetadata:
		if c.Metadata == nil || c.Number != nil {
			return nil, fmt.Errorf("%s: from Metadata needs metadata (and no number)", path)
		}
		if c.Metadata.Namespace == "" || c.Metadata.Key == "" {
			return nil, fmt.Errorf("%s.metadata: namespace and key are required", path)
		}
		return &ir.RateLimitCost{Metadata: &ir.MetadataKey{Namespace: c.Metadata.Namespace, Key: c.Metadata.Key}}, nil
	}
	return nil, fmt.Errorf("%s.from: unsupported value %q (Number or Metadata)", path, c.From)
}

// selector adds one clientSelector's conditions to out. Selectors are
// ANDed: headers and query parameters add up, methods intersect, and a
// second path or source range is refused (Envoy Gateway keeps the last).
func selector(path string, s *egv1a1.RateLimitSelectCondition, out *ir.RateLimitRule, methods **methodSet) error {
	if len(s.Headers) == 0 && len(s.Methods) == 0 && s.Path == nil && s.SourceCIDR == nil && len(s.QueryParams) == 0 {
		return fmt.Errorf("%s: set at least one of headers, methods, path, sourceCIDR and queryParams", path)
	}
	for i, h := range s.Headers {
		typ := egv1a1.HeaderMatchExact
		if h.Type != nil {
			typ = *h.Type
		}
		m, err := valueMatch(fmt.Sprintf("%s.headers[%d]", path, i), h.Name, string(typ), h.Value, h.Invert)
		if err != nil {
			return err
		}
		if strings.HasPrefix(h.Name, ":") {
			return fmt.Errorf("%s.headers[%d].name: %q is a pseudo-header; use methods or path", path, i, h.Name)
		}
		out.Headers = append(out.Headers, m)
	}
	if len(s.Methods) > 0 {
		set, err := methodsOf(path+".methods", s.Methods)
		if err != nil {
			return err
		}
		if *methods == nil {
			*methods = set
		} else {
			*methods = (*methods).and(set)
		}
	}
	if s.Path != nil {
		if out.Path != nil {
			return fmt.Errorf("%s.path: another clientSelector of the rule already matches the path; selectors are ANDed, so put both conditions in one regular expression", path)
		}
		m, err := pathMatch(path+".path", s.Path)
		if err != nil {
			return err
		}
		out.Path = m
	}
	if c := s.SourceCIDR; c != nil {
		if out.SourceCIDR != nil {
			return fmt.Errorf("%s.sourceCIDR: another clientSelector of the rule already matches the source address", path)
		}
		m, err := cidrMatch(path+".sourceCIDR", c)
		if err != nil {
			return err
		}
		out.SourceCIDR = m
	}
	for i, q := range s.QueryParams {
		typ := egv1a1.QueryParamMatchExact
		if q.Type != nil {
			typ = *q.Type
		}
		m, err := valueMatch(fmt.Sprintf("%s.queryParams[%d]", path, i), q.Name, string(typ), q.Value, q.Invert)
		if err != nil {
			return err
		}
		out.QueryParams = append(out.QueryParams, m)
	}
	return nil
}

// valueMatch is a header or query parameter condition (their types share
// the names Exact, RegularExpression and Distinct).
func valueMatch(path, name, typ string, value *string, invert *bool) (ir.RateLimitMatch, error) {
	m := ir.RateLimitMatch{Name: name, Invert: invert != nil && *invert}
	if name == "" {
		return m, fmt.Errorf("%s.name: required", path)
	}
	switch typ {
	case "Exact", "RegularExpression":
		if value == nil {
			return m, fmt.Errorf("%s.value: required for type %s", path, typ)
		}
		m.Value = *value
		m.Type = ir.RateLimitExact
		if typ == "RegularExpression" {
			if err := checkEnvoyRegex(*value); err != nil {
				return m, fmt.Errorf("%s.value: invalid regular expression %q: %v", path, *value, err)
			}
			m.Type = ir.RateLimitRegex
		}
	case "Distinct":
		if value != nil {
			return m, fmt.Errorf("%s.value: must not be set for type Distinct (each value gets its own bucket)", path)
		}
		if m.Invert {
			return m, fmt.Errorf("%s.invert: cannot invert a Distinct match", path)
		}
		m.Type = ir.RateLimitDistinct
	default:
		return m, fmt.Errorf("%s.type: unsupported value %q (Exact, RegularExpression or Distinct)", path, typ)
	}
	return m, nil
}

// pathMatch matches the :path header, which carries the query string: a
// prefix or an exact path must allow one after it (Envoy Gateway's exact
// match misses "/x?y"; its prefix regex allows one). A regular expression
// is the user's, matched against path and query as Envoy Gateway does.
func pathMatch(path string, p *egv1a1.PathMatch) (*ir.RateLimitMatch, error) {
	typ := gwv1.PathMatchPathPrefix
	if p.Type != nil {
		typ = *p.Type
	}
	m := &ir.RateLimitMatch{Invert: p.Invert != nil && *p.Invert}
	value := p.Value
	switch typ {
	case gwv1.PathMatchPathPrefix, gwv1.PathMatchExact:
		if value == "" {
			value = "/"
		}
		if value[0] != '/' {
			return nil, fmt.Errorf("%s.value: %q must start with /", path, value)
		}
		if typ == gwv1.PathMatchExact {
			m.Type, m.Value = ir.RateLimitRegex, "^"+regexp.QuoteMeta(value)+`(\?.*)?$`
		} else if value == "/" {
			m.Type, m.Value = ir.RateLimitPrefix, "/"
		} else {
			// Element-wise, as route prefixes: /x matches /x and /x/y, not /xy.
			m.Type, m.Value = ir.RateLimitRegex, "^"+regexp.QuoteMeta(strings.TrimSuffix(value, "/"))+`(/.*|\?.*|#.*|;.*|$)`
		}
	case gwv1.PathMatchRegularExpression:
		if err := checkEnvoyRegex(value); err != nil {
			return nil, fmt.Errorf("%s.value: invalid regular expression %q: %v", path, value, err)
		}
		m.Type, m.Value = ir.RateLimitRegex, value
	default:
		return nil, fmt.Errorf("%s.type: unsupported value %q (Exact, PathPrefix or RegularExpression)", path, typ)
	}
	return m, nil
}

func cidrMatch(path string, c *egv1a1.SourceMatch) (*ir.CIDRMatch, error) {
	_, n, err := net.ParseCIDR(c.Value)
	if err != nil {
		return nil, fmt.Errorf("%s.value: %q is not a CIDR range (10.0.0.0/8, 2001:db8::/32): %v", path, c.Value, err)
	}
	ones, _ := n.Mask.Size()
	m := &ir.CIDRMatch{CIDR: n.String(), Prefix: n.IP.String(), MaskLen: uint32(ones), Invert: c.Invert != nil && *c.Invert}
	typ := egv1a1.SourceMatchExact
	if c.Type != nil {
		typ = *c.Type
	}
	switch typ {
	case egv1a1.SourceMatchExact:
	case egv1a1.SourceMatchDistinct:
		m.Distinct = true
	default:
		return nil, fmt.Errorf("%s.type: unsupported value %q (Exact or Distinct)", path, typ)
	}
	return m, nil
}

// methodSet is a set of methods or, with neg, every method but those.
type methodSet struct {
	set map[string]bool
	neg bool
}

// methodsOf ORs one selector's method conditions: v matches v, an
// inverted v every method but v.
func methodsOf(path string, ms []egv1a1.MethodMatch) (*methodSet, error) {
	var pos, negs []map[string]bool
	for i, m := range ms {
		v := string(m.Value)
		if v == "" || strings.ContainsAny(v, " \t:/") {
			return nil, fmt.Errorf("%s[%d].value: %q is not an HTTP method", path, i, v)
		}
		one := map[string]bool{v: true}
		if m.Invert != nil && *m.Invert {
			negs = append(negs, one)
		} else {
			pos = append(pos, one)
		}
	}
	union := map[string]bool{}
	for _, p := range pos {
		for k := range p {
			union[k] = true
		}
	}
	if len(negs) == 0 {
		return &methodSet{set: union}, nil
	}
	// P ∪ ¬N1 ∪ ¬N2 … = ¬((N1 ∩ N2 …) \ P)
	inter := negs[0]
	for _, n := range negs[1:] {
		next := map[string]bool{}
		for k := range inter {
			if n[k] {
				next[k] = true
			}
		}
		inter = next
	}
	out := map[string]bool{}
	for k := range inter {
		if !union[k] {
			out[k] = true
		}
	}
	return &methodSet{set: out, neg: true}, nil
}

// and intersects two method sets.
func (a *methodSet) and(b *methodSet) *methodSet {
	out := map[string]bool{}
	switch {
	case !a.neg && !b.neg: // A ∩ B
		for k := range a.set {
			if b.set[k] {
				out[k] = true
			}
		}
		return &methodSet{set: out}
	case a.neg && b.neg: // ¬(A ∪ B)
		for k := range a.set {
			out[k] = true
		}
		for k := range b.set {
			out[k] = true
		}
		return &methodSet{set: out, neg: true}
	case a.neg: // B \ A
		a, b = b, a
	}
	for k := range a.set { // A \ B
		if !b.set[k] {
			out[k] = true
		}
	}
	return &methodSet{set: out}
}

// match is the :method condition, nil when every method matches.
func (s *methodSet) match() (*ir.RateLimitMatch, error) {
	names := make([]string, 0, len(s.set))
	for k := range s.set {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 0 {
		if s.neg {
			return nil, nil
		}
		return nil, errors.New("the method conditions exclude every method, so the rule can never apply")
	}
	if len(names) == 1 {
		return &ir.RateLimitMatch{Type: ir.RateLimitExact, Value: names[0], Invert: s.neg}, nil
	}
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	return &ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: "^(" + strings.Join(names, "|") + ")$", Invert: s.neg}, nil
}
