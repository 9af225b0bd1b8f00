package xds

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	customresponsev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	localresponsev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/local_response_policy/v3"
	redirectpolicyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.responseOverride: Envoy's custom_response filter, one per policy
// (envoy.filters.http.custom_response/backendtrafficpolicy/ns/name, as
// Envoy Gateway names it), disabled on the HCM and enabled by the policy's
// routes. Status ranges are matched by a regular expression over the status
// code (Envoy Gateway uses a CEL expression; a regex needs no CEL runtime
// and reads plainly).
const customResponseFilterName = "envoy.filters.http.custom_response"

func init() {
	register(&feature{name: customResponseFilterName, httpFilters: customResponseFilters, patchRoute: patchCustomResponse})
}

// customResponseNames names the filter of each response override once per
// proxy: the policy's name, and a number after it when one policy yields
// two overrides (merged onto two different parents).
type customResponseNames struct {
	names  map[*ir.ResponseOverride]string
	count  map[string]int
	enable *anypb.Any // the per-route config that turns a filter on
}

func (b *builder) customResponseNames() *customResponseNames {
	return featureState(b, "customResponseNames", func() *customResponseNames {
		return &customResponseNames{names: map[*ir.ResponseOverride]string{}, count: map[string]int{}}
	})
}

func (n *customResponseNames) name(t *ir.TrafficSettings) string {
	if s, ok := n.names[t.ResponseOverride]; ok {
		return s
	}
	s := customResponseFilterName + "/" + t.Policy
	if i := n.count[t.Policy]; i > 0 {
		s = fmt.Sprintf("%s/%d", s, i)
	}
	n.count[t.Policy]++
	n.names[t.ResponseOverride] = s
	return s
}

func customResponseFilters(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	names := b.customResponseNames()
	seen := map[string]bool{}
	var out []*hcmv3.HttpFilter
	var err error
	h.routes(func(r *ir.HTTPRoute) bool {
		t := r.Traffic
		if t == nil || t.ResponseOverride == nil {
			return true
		}
		name := names.name(t)
		if seen[name] {
			return true
		}
		seen[name] = true
		var cfg *customresponsev3.CustomResponse
		if cfg, err = customResponseConfig(t.ResponseOverride); err != nil {
			err = fmt.Errorf("%s: %w", t.Policy, err)
			return false
		}
		var a *anypb.Any
		if a, err = toAny(cfg); err != nil {
			return false
		}
		out = append(out, &hcmv3.HttpFilter{Name: name, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}})
		return true
	})
	return out, err
}

func patchCustomResponse(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	t := r.Traffic
	if t == nil || t.ResponseOverride == nil {
		return nil
	}
	names := b.customResponseNames()
	if names.enable == nil {
		a, err := toAny(&routev3.FilterConfig{Config: &anypb.Any{}})
		if err != nil {
			return err
		}
		names.enable = a
	}
	setPerFilterConfig(out, names.name(t), names.enable)
	return nil
}

func customResponseConfig(ro *ir.ResponseOverride) (*customresponsev3.CustomResponse, error) {
	list := &xdsmatcherv3.Matcher_MatcherList{}
	for _, rule := range ro.Rules {
		var preds []*xdsmatcherv3.Matcher_MatcherList_Predicate
		if len(rule.StatusRanges) > 0 {
			p, err := overridePredicate(&matcherv3.HttpResponseStatusCodeMatchInput{}, "status-code", regexStringMatcher(statusRegex(rule.StatusRanges)))
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		for _, h := range rule.Headers {
			p, err := overridePredicate(&matcherv3.HttpResponseHeaderMatchInput{HeaderName: h.Name}, "response-header", headerStringMatcher(h))
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		if rule.Source != ir.ResponseFromAny {
			local := "false"
			if rule.Source == ir.ResponseFromLocal {
				local = "true"
			}
			p, err := overridePredicate(&matcherv3.HttpResponseLocalReplyMatchInput{}, "local-reply",
				&xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: local}})
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		pred := preds[0]
		if len(preds) > 1 {
			pred = &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_AndMatcher{
				AndMatcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_PredicateList{Predicate: preds},
			}}
		}
		action, err := responseAction(&rule)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rule.Name, err)
		}
		list.Matchers = append(list.Matchers, &xdsmatcherv3.Matcher_MatcherList_FieldMatcher{
			Predicate: pred,
			OnMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{
				Action: &xdscorev3.TypedExtensionConfig{Name: rule.Name, TypedConfig: action},
			}},
		})
	}
	return &customresponsev3.CustomResponse{CustomResponseMatcher: &xdsmatcherv3.Matcher{
		MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: list},
	}}, nil
}

func overridePredicate(input proto.Message, name string, m *xdsmatcherv3.StringMatcher) (*xdsmatcherv3.Matcher_MatcherList_Predicate, error) {
	in, err := toAny(input)
	if err != nil {
		return nil, err
	}
	return &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input:   &xdscorev3.TypedExtensionConfig{Name: name, TypedConfig: in},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: m},
		},
	}}, nil
}

func regexStringMatcher(re string) *xdsmatcherv3.StringMatcher {
	return &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
		Regex: re, EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
	}}}
}

func headerStringMatcher(h ir.ResponseHeaderMatch) *xdsmatcherv3.StringMatcher {
	switch h.Type {
	case ir.HeaderPrefix:
		return &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Prefix{Prefix: h.Value}}
	case ir.HeaderSuffix:
		return &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Suffix{Suffix: h.Value}}
	case ir.HeaderRegex:
		return regexStringMatcher(h.Value)
	}
	return &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: h.Value}}
}

// statusRegex matches the three-digit statuses of ranges: whole decades
// and hundreds become character classes ("5[0-9][0-9]"), the rest is listed.
func statusRegex(ranges []ir.StatusRange) string {
	var alts []string
	for _, r := range ranges {
		for c := r.Start; c <= r.End; {
			switch {
			case c%100 == 0 && c+99 <= r.End:
				alts = append(alts, strconv.Itoa(int(c/100))+"[0-9][0-9]")
				c += 100
			case c%10 == 0 && c+9 <= r.End:
				alts = append(alts, strconv.Itoa(int(c/10))+"[0-9]")
				c += 10
			default:
				alts = append(alts, strconv.Itoa(int(c)))
				c++
			}
		}
	}
	re := "^(" + strings.Join(alts, "|") + ")$"
	regexp.MustCompile(re) // built from digits only
	return re
}

func responseAction(rule *ir.ResponseOverrideRule) (*anypb.Any, error) {
	if rd := rule.Redirect; rd != nil {
		ra := &routev3.RedirectAction{HostRedirect: rd.Hostname, PortRedirect: rd.Port}
		if rd.Scheme != "" {
			ra.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.Scheme}
		}
		if rd.Path != "" {
			ra.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: rd.Path}
		}
		return toAny(&redirectpolicyv3.RedirectPolicy{
			RedirectActionSpecifier: &redirectpolicyv3.RedirectPolicy_RedirectAction{RedirectAction: ra},
			StatusCode:              wrapperspb.UInt32(rd.StatusCode),
		})
	}
	cr := rule.Response
	p := &localresponsev3.LocalResponsePolicy{}
	switch {
	case cr.BinaryBody != nil:
		p.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: cr.BinaryBody}}
	case cr.HasBody:
		p.BodyFormat = &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormat{TextFormat: cr.Body}}
	}
	if cr.StatusCode > 0 {
		p.StatusCode = wrapperspb.UInt32(cr.StatusCode)
	}
	if cr.ContentType != "" {
		p.ResponseHeadersToAdd = append(p.ResponseHeadersToAdd, &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: "content-type", Value: cr.ContentType}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	for _, h := range cr.Set {
		p.ResponseHeadersToAdd = append(p.ResponseHeadersToAdd, &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: h.Name, Value: h.Value}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	for _, h := range cr.Add {
		p.ResponseHeadersToAdd = append(p.ResponseHeadersToAdd, &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: h.Name, Value: h.Value}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		})
	}
	return toAny(p)
}
