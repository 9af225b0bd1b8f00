package xds

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	cncfcorev3 "github.com/cncf/xds/go/xds/core/v3"
	xmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	netrbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	netinputv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	ipmatcherv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/ip/v3"
	mdmatcherv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/metadata/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

const (
	rbacFilterName        = "envoy.filters.http.rbac"
	networkRBACFilterName = "envoy.filters.network.rbac"
)

// Authorization rules become an RBAC matcher tree, as Envoy Gateway builds
// it: one field matcher per rule in order (the first that matches decides),
// each rule the AND of its parts, a part with several values their OR, and
// the default action when none matches. HTTP routes get the HCM's RBAC
// filter (empty, so routes without rules are untouched) and a per-route
// policy; TCP and TLS routes get a network RBAC filter before tcp_proxy.
func init() {
	register(&feature{
		name: rbacFilterName,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			if !h.anyRoute(func(r *ir.HTTPRoute) bool { return r.Security != nil && r.Security.Authorization != nil }) {
				return nil, nil
			}
			a, err := toAny(&rbacv3.RBAC{})
			if err != nil {
				return nil, err
			}
			return []*hcmv3.HttpFilter{{Name: rbacFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}}, nil
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Security == nil || r.Security.Authorization == nil {
				return nil
			}
			st := rbacStateOf(b)
			a, ok := st.perRoute[r.Security.Authorization]
			if !ok {
				m, err := st.matcher(r.Security.Authorization)
				if err != nil {
					return fmt.Errorf("authorization: %w", err)
				}
				if a, err = toAny(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Matcher: m}}); err != nil {
					return err
				}
				st.perRoute[r.Security.Authorization] = a
			}
			setPerFilter(out, rbacFilterName, a)
			return nil
		},
		patchTCPRoute: func(b *builder, _ *ir.TCPListener, r *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
			if r.Security == nil || r.Security.Authorization == nil {
				return nil, nil
			}
			m, err := rbacStateOf(b).matcher(r.Security.Authorization)
			if err != nil {
				return nil, fmt.Errorf("authorization: %w", err)
			}
			a, err := toAny(&netrbacv3.RBAC{StatPrefix: tp.GetStatPrefix(), Matcher: m})
			if err != nil {
				return nil, err
			}
			return []*listenerv3.Filter{{Name: networkRBACFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}}, nil
		},
	})
}

type rbacState struct {
	allow, deny *anypb.Any
	perRoute    map[*ir.Authorization]*anypb.Any
	matchers    map[*ir.Authorization]*xmatcherv3.Matcher
	inputs      map[string]*anypb.Any // shared inputs, by a key naming them
}

func rbacStateOf(b *builder) *rbacState {
	return featureState(b, rbacFilterName, func() *rbacState {
		return &rbacState{
			perRoute: map[*ir.Authorization]*anypb.Any{},
			matchers: map[*ir.Authorization]*xmatcherv3.Matcher{},
			inputs:   map[string]*anypb.Any{},
		}
	})
}

// action is the RBAC action a matched rule (or the default) takes.
func (st *rbacState) action(a ir.AuthorizationAction) (*anypb.Any, error) {
	if st.allow == nil {
		var err error
		if st.allow, err = toAny(&rbacconfigv3.Action{Name: "ALLOW", Action: rbacconfigv3.RBAC_ALLOW}); err != nil {
			return nil, err
		}
		if st.deny, err = toAny(&rbacconfigv3.Action{Name: "DENY", Action: rbacconfigv3.RBAC_DENY}); err != nil {
			return nil, err
		}
	}
	switch a {
	case ir.AuthorizationAllow:
		return st.allow, nil
	case ir.AuthorizationDeny:
		return st.deny, nil
	}
	return nil, fmt.Errorf("unknown action %q", a)
}

// input packs a matching input once per proxy.
func (st *rbacState) input(key string, mk func() (*anypb.Any, error)) (*anypb.Any, error) {
	if a, ok := st.inputs[key]; ok {
		return a, nil
	}
	a, err := mk()
	if err != nil {
		return nil, err
	}
	st.inputs[key] = a
	return a, nil
}

func (st *rbacState) matcher(a *ir.Authorization) (*xmatcherv3.Matcher, error) {
	if m, ok := st.matchers[a]; ok {
		return m, nil
	}
	def, err := st.action(a.DefaultAction)
	if err != nil {
		return nil, err
	}
	m := &xmatcherv3.Matcher{OnNoMatch: onMatchAction("default", def)}
	var list []*xmatcherv3.Matcher_MatcherList_FieldMatcher
	for _, r := range a.Rules {
		act, err := st.action(r.Action)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		pred, err := st.rulePredicate(r)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		list = append(list, &xmatcherv3.Matcher_MatcherList_FieldMatcher{Predicate: pred, OnMatch: onMatchAction(r.Name, act)})
	}
	if len(list) > 0 {
		m.MatcherType = &xmatcherv3.Matcher_MatcherList_{MatcherList: &xmatcherv3.Matcher_MatcherList{Matchers: list}}
	}
	st.matchers[a] = m
	return m, nil
}

func onMatchAction(name string, action *anypb.Any) *xmatcherv3.Matcher_OnMatch {
	return &xmatcherv3.Matcher_OnMatch{OnMatch: &xmatcherv3.Matcher_OnMatch_Action{
		Action: &cncfcorev3.TypedExtensionConfig{Name: name, TypedConfig: action},
	}}
}

type predicate = xmatcherv3.Matcher_MatcherList_Predicate

func andOf(ps []*predicate) *predicate {
	if len(ps) == 1 {
		return ps[0]
	}
	return &predicate{MatchType: &xmatcherv3.Matcher_MatcherList_Predicate_AndMatcher{
		AndMatcher: &xmatcherv3.Matcher_MatcherList_Predicate_PredicateList{Predicate: ps},
	}}
}

func orOf(ps []*predicate) *predicate {
	if len(ps) == 1 {
		return ps[0]
	}
	return &predicate{MatchType: &xmatcherv3.Matcher_MatcherList_Predicate_OrMatcher{
		OrMatcher: &xmatcherv3.Matcher_MatcherList_Predicate_PredicateList{Predicate: ps},
	}}
}

func single(input *cncfcorev3.TypedExtensionConfig, custom *cncfcorev3.TypedExtensionConfig, value *xmatcherv3.StringMatcher) *predicate {
	sp := &xmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{Input: input}
	if custom != nil {
		sp.Matcher = &xmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_CustomMatch{CustomMatch: custom}
	} else {
		sp.Matcher = &xmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: value}
	}
	return &predicate{MatchType: &xmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{SinglePredicate: sp}}
}

// rulePredicate ANDs a rule's parts in Envoy Gateway's order: methods,
// path, client CIDRs, JWT scopes and claims, headers.
func (st *rbacState) rulePredicate(r *ir.AuthorizationRule) (*predicate, error) {
	var parts []*predicate
	if len(r.Methods) > 0 {
		ps, err := st.headerPredicates(":method", r.Methods, true)
		if err != nil {
			return nil, err
		}
		parts = append(parts, orOf(ps))
	}
	if r.Path != nil {
		p, err := st.pathPredicate(r.Path)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if len(r.ClientCIDRs) > 0 {
		p, err := st.cidrPredicate(r.ClientCIDRs)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if r.JWT != nil {
		ps, err := st.jwtPredicates(r.JWT)
		if err != nil {
			return nil, err
		}
		parts = append(parts, ps...)
	}
	for _, h := range r.Headers {
		ps, err := st.headerPredicates(h.Name, h.Values, false)
		if err != nil {
			return nil, err
		}
		parts = append(parts, orOf(ps))
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("matches nothing in particular")
	}
	return andOf(parts), nil
}

func (st *rbacState) headerInput(name string) (*cncfcorev3.TypedExtensionConfig, error) {
	a, err := st.input("header:"+name, func() (*anypb.Any, error) {
		return toAny(&matcherv3.HttpRequestHeaderMatchInput{HeaderName: name})
	})
	if err != nil {
		return nil, err
	}
	return &cncfcorev3.TypedExtensionConfig{Name: "http_header", TypedConfig: a}, nil
}

// headerPredicates: the header equals one of values (one predicate each).
func (st *rbacState) headerPredicates(name string, values []string, ignoreCase bool) ([]*predicate, error) {
	in, err := st.headerInput(name)
	if err != nil {
		return nil, err
	}
	out := make([]*predicate, 0, len(values))
	for _, v := range values {
		out = append(out, single(in, nil, &xmatcherv3.StringMatcher{
			MatchPattern: &xmatcherv3.StringMatcher_Exact{Exact: v}, IgnoreCase: ignoreCase,
		}))
	}
	return out, nil
}

// pathPredicate matches :path, query included, as Envoy Gateway does: a
// prefix matches whole path elements, an exact path may be followed by a
// query, fragment or parameters.
func (st *rbacState) pathPredicate(p *ir.AuthorizationPath) (*predicate, error) {
	in, err := st.headerInput(":path")
	if err != nil {
		return nil, err
	}
	re := func(expr string) *xmatcherv3.StringMatcher {
		return &xmatcherv3.StringMatcher{MatchPattern: &xmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xmatcherv3.RegexMatcher{
			Regex: expr, EngineType: &xmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xmatcherv3.RegexMatcher_GoogleRE2{}},
		}}}
	}
	var sm *xmatcherv3.StringMatcher
	switch p.Type {
	case ir.PathPrefix:
		if p.Value == "/" {
			sm = &xmatcherv3.StringMatcher{MatchPattern: &xmatcherv3.StringMatcher_Prefix{Prefix: "/"}}
		} else {
			sm = re("^" + regexp.QuoteMeta(strings.TrimSuffix(p.Value, "/")) + `(/.*|\?.*|#.*|;.*|$)`)
		}
	case ir.PathExact:
		sm = re("^" + regexp.QuoteMeta(p.Value) + `(\?.*|#.*|;.*|$)`)
	case ir.PathRegex:
		sm = re(p.Value)
	default:
		return nil, fmt.Errorf("path type %q", p.Type)
	}
	pred := single(in, nil, sm)
	if p.Invert {
		pred = &predicate{MatchType: &xmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{NotMatcher: pred}}
	}
	return pred, nil
}

// cidrPredicate: the client address (after the HCM's client address
// detection; the peer for TCP) is in one of the ranges.
func (st *rbacState) cidrPredicate(cidrs []string) (*predicate, error) {
	ipm := &ipmatcherv3.Ip{StatPrefix: "client_ip"}
	for _, c := range cidrs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("client CIDR %q: %v", c, err)
		}
		ipm.CidrRanges = append(ipm.CidrRanges, &corev3.CidrRange{
			AddressPrefix: pfx.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(pfx.Bits())),
		})
	}
	m, err := toAny(ipm)
	if err != nil {
		return nil, err
	}
	in, err := st.input("source_ip", func() (*anypb.Any, error) { return toAny(&netinputv3.SourceIPInput{}) })
	if err != nil {
		return nil, err
	}
	return single(&cncfcorev3.TypedExtensionConfig{Name: "client_ip", TypedConfig: in},
		&cncfcorev3.TypedExtensionConfig{Name: "ip_matcher", TypedConfig: m}, nil), nil
}

// jwtPredicates match the claims the JWT filter verified for a provider
// (its dynamic metadata, keyed by the provider's name): each scope is
// looked for in "scope" or "scp" (normalised to lists), each claim must
// equal one of its values (or, for a StringArray claim, hold one).
func (st *rbacState) jwtPredicates(j *ir.JWTPrincipal) ([]*predicate, error) {
	var out []*predicate
	for _, scope := range j.Scopes {
		var alts []*predicate
		for _, key := range []string{"scope", "scp"} {
			p, err := st.metadataPredicate("scope", j.Provider, []string{key}, scope, true)
			if err != nil {
				return nil, err
			}
			alts = append(alts, p)
		}
		out = append(out, orOf(alts))
	}
	for _, c := range j.Claims {
		var alts []*predicate
		for _, v := range c.Values {
			p, err := st.metadataPredicate("claim", j.Provider, strings.Split(c.Name, "."), v, c.StringArray)
			if err != nil {
				return nil, err
			}
			alts = append(alts, p)
		}
		out = append(out, orOf(alts))
	}
	return out, nil
}

func (st *rbacState) metadataPredicate(kind, provider string, path []string, value string, list bool) (*predicate, error) {
	in, err := st.input(kind+"\x00"+provider+"\x00"+strings.Join(path, "\x00"), func() (*anypb.Any, error) {
		segs := []*netinputv3.DynamicMetadataInput_PathSegment{{
			Segment: &netinputv3.DynamicMetadataInput_PathSegment_Key{Key: provider},
		}}
		for _, p := range path {
			segs = append(segs, &netinputv3.DynamicMetadataInput_PathSegment{
				Segment: &netinputv3.DynamicMetadataInput_PathSegment_Key{Key: p},
			})
		}
		return toAny(&netinputv3.DynamicMetadataInput{Filter: jwtFilterName, Path: segs})
	})
	if err != nil {
		return nil, err
	}
	vm := &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
		MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value},
	}}}
	if list {
		vm = &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_ListMatch{ListMatch: &matcherv3.ListMatcher{
			MatchPattern: &matcherv3.ListMatcher_OneOf{OneOf: vm},
		}}}
	}
	m, err := toAny(&mdmatcherv3.Metadata{Value: vm})
	if err != nil {
		return nil, err
	}
	return single(&cncfcorev3.TypedExtensionConfig{Name: kind, TypedConfig: in},
		&cncfcorev3.TypedExtensionConfig{Name: kind + "_matcher", TypedConfig: m}, nil), nil
}
