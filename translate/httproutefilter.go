package translate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// Envoy Gateway's HTTPRouteFilter, referenced by ExtensionRef filters of
// HTTPRoute and GRPCRoute rules: regular-expression path rewrites, host
// rewrites from a header, the backend or the path, direct responses
// (inline or ConfigMap body, content type, status, headers), credential
// injection, and cookie matches that narrow the rule. Each filter object
// is compiled once and its pieces shared by every rule that uses it. A
// problem in the filter fails every rule using it closed (500,
// Accepted=False), as Envoy Gateway does; a missing filter leaves the
// route Accepted with ResolvedRefs=False and the rule answering 500, as
// the spec asks of unresolvable custom filters.

// hrfState is one HTTPRouteFilter after validation.
type hrfState struct {
	// msg is why the filter cannot be used; "" when it can.
	msg string
	// rewrite holds the path and host rewrites, nil without urlRewrite.
	rewrite *ir.URLRewrite
	// appendXFH is urlRewrite.appendXForwardedHost when set.
	appendXFH *bool
	// direct, directHeaders: directResponse, and the headers it adds.
	direct        *ir.DirectResponse
	directHeaders *ir.HeaderModifier
	cred          *ir.CredentialInjection
	// cookies has one entry per spec.matches item; the rule matches when
	// its own match and one of these both do.
	cookies [][]ir.StringMatch
}

// httpRouteFilter returns the named HTTPRouteFilter of namespace ns,
// compiled once, or nil when there is none.
func (b *builder) httpRouteFilter(ns, name string) *hrfState {
	k := nsName{ns, name}
	if st, ok := b.hrfs[k]; ok {
		return st
	}
	var f *egv1a1.HTTPRouteFilter
	for _, x := range b.out.HTTPRouteFilters {
		if x.Namespace == ns && x.Name == name {
			f = x
			break
		}
	}
	var st *hrfState
	if f != nil {
		st = b.compileHTTPRouteFilter(f)
	}
	if b.hrfs == nil {
		b.hrfs = map[nsName]*hrfState{}
	}
	b.hrfs[k] = st
	return st
}

func (b *builder) compileHTTPRouteFilter(f *egv1a1.HTTPRouteFilter) *hrfState {
	st := &hrfState{}
	fail := func(format string, a ...any) *hrfState {
		return &hrfState{msg: fmt.Sprintf("HTTPRouteFilter %s/%s: ", f.Namespace, f.Name) + fmt.Sprintf(format, a...)}
	}
	spec := &f.Spec
	if u := spec.URLRewrite; u != nil {
		rw, msg := hrfURLRewrite(u)
		if msg != "" {
			return fail("spec.urlRewrite%s", msg)
		}
		st.rewrite, st.appendXFH = rw, u.AppendXForwardedHost
	}
	if d := spec.DirectResponse; d != nil {
		if msg := b.hrfDirectResponse(f, d, st); msg != "" {
			return fail("spec.directResponse%s", msg)
		}
	}
	if c := spec.CredentialInjection; c != nil {
		cred, msg := b.hrfCredential(f, c)
		if msg != "" {
			return fail("spec.credentialInjection%s", msg)
		}
		st.cred = cred
	}
	if len(spec.Matches) > 8 {
		return fail("spec.matches has %d entries; at most 8", len(spec.Matches))
	}
	for i, m := range spec.Matches {
		if len(m.Cookies) == 0 || len(m.Cookies) > 16 {
			return fail("spec.matches[%d].cookies must have 1 to 16 entries", i)
		}
		var set []ir.StringMatch
		for j, c := range m.Cookies {
			where := fmt.Sprintf("spec.matches[%d].cookies[%d]", i, j)
			if !isHeaderToken(c.Name) { // a cookie name is an RFC 6265 token
				return fail("%s.name %q is not a cookie name", where, c.Name)
			}
			if c.Value == "" || len(c.Value) > 4096 {
				return fail("%s.value must have 1 to 4096 characters", where)
			}
			sm := ir.StringMatch{Name: c.Name, Type: ir.MatchExact, Value: c.Value}
			if c.Type != nil {
				switch *c.Type {
				case egv1a1.CookieMatchExact:
				case egv1a1.CookieMatchRegularExpression:
					if err := checkEnvoyRegex(c.Value); err != nil { // regex.go
						return fail("%s.value: regex %q: %v", where, c.Value, err)
					}
					sm.Type = ir.MatchRegex
				default:
					return fail("%s.type %q is not supported (Exact or RegularExpression)", where, *c.Type)
				}
			}
			set = append(set, sm)
		}
		st.cookies = append(st.cookies, set)
	}
	return st
}

// hrfURLRewrite compiles urlRewrite; msg continues the field path.
func hrfURLRewrite(u *egv1a1.HTTPURLRewriteFilter) (*ir.URLRewrite, string) {
	rw := &ir.URLRewrite{}
	if h := u.Hostname; h != nil {
		if h.Header != nil && h.Type != egv1a1.HeaderHTTPHostnameModifier {
			return nil, ".hostname: header must only be set for type Header"
		}
		if h.PathRegex != nil && h.Type != egv1a1.PathRegexHTTPHostnameModifier {
			return nil, ".hostname: pathRegex must only be set for type PathRegex"
		}
		switch h.Type {
		case egv1a1.HeaderHTTPHostnameModifier:
			if h.Header == nil || !isHeaderToken(*h.Header) {
				return nil, ".hostname.header must name a request header"
			}
			if strings.HasPrefix(*h.Header, ":") {
				return nil, ".hostname.header must not be a pseudo-header"
			}
			rw.HostFromHeader = strings.ToLower(*h.Header)
		case egv1a1.BackendHTTPHostnameModifier:
			rw.HostFromBackend = true
		case egv1a1.PathRegexHTTPHostnameModifier:
			p := h.PathRegex
			if p == nil || p.Pattern == "" || p.Substitution == "" {
				return nil, ".hostname.pathRegex: pattern and substitution are required"
			}
			if strings.ContainsAny(p.Substitution, "\r\n\x00") {
				return nil, ".hostname.pathRegex.substitution must not contain CR, LF or NUL"
			}
			if msg := checkRegexRewrite(p.Pattern, p.Substitution); msg != "" {
				return nil, ".hostname.pathRegex" + msg
			}
			rw.HostPathRegex = &ir.RegexRewrite{Pattern: p.Pattern, Substitution: p.Substitution}
		default:
			return nil, fmt.Sprintf(".hostname.type %q is not supported (Header, Backend or PathRegex)", h.Type)
		}
	}
	if p := u.Path; p != nil {
		if p.Type != egv1a1.RegexHTTPPathModifier {
			return nil, fmt.Sprintf(".path.type %q is not supported (ReplaceRegexMatch)", p.Type)
		}
		r := p.ReplaceRegexMatch
		if r == nil || r.Pattern == "" {
			return nil, ".path.replaceRegexMatch.pattern is required for type ReplaceRegexMatch"
		}
		if msg := checkRegexRewrite(r.Pattern, r.Substitution); msg != "" {
			return nil, ".path.replaceRegexMatch" + msg
		}
		rw.Path = &ir.PathModifier{Type: ir.RegexReplace, Pattern: r.Pattern, Value: r.Substitution}
	}
	if rw.Path == nil && !hostRewritten(rw) {
		return nil, ""
	}
	return rw, ""
}

func hostRewritten(u *ir.URLRewrite) bool {
	return u != nil && (u.Hostname != "" || u.HostFromHeader != "" || u.HostFromBackend || u.HostPathRegex != nil)
}

// checkRegexRewrite validates a pattern and its substitution as Envoy's
// RE2 does: the substitution may name capture groups \0 … \N of the
// pattern, and a backslash escapes only a digit or another backslash.
func checkRegexRewrite(pattern, subst string) string {
	if err := checkEnvoyRegex(pattern); err != nil {
		return fmt.Sprintf(".pattern %q: %v", pattern, err)
	}
	groups := regexp.MustCompile(pattern).NumSubexp()
	for i := 0; i < len(subst); i++ {
		if subst[i] != '\\' {
			continue
		}
		i++
		switch {
		case i == len(subst):
			return fmt.Sprintf(".substitution %q ends in a lone backslash", subst)
		case subst[i] == '\\':
		case subst[i] >= '0' && subst[i] <= '9':
			if n := int(subst[i] - '0'); n > groups {
				return fmt.Sprintf(".substitution %q names group \\%d; the pattern has %d", subst, n, groups)
			}
		default:
			return fmt.Sprintf(".substitution %q: a backslash may only precede a digit or a backslash", subst)
		}
	}
	return ""
}

// responseBodyKey is the ConfigMap key a direct response body is read from.
const responseBodyKey = "response.body"

// hrfDirectResponse compiles directResponse into st; msg continues the
// field path.
func (b *builder) hrfDirectResponse(f *egv1a1.HTTPRouteFilter, d *egv1a1.HTTPDirectResponseFilter, st *hrfState) string {
	dr := &ir.DirectResponse{StatusCode: 200}
	if d.StatusCode != nil {
		if *d.StatusCode < 200 || *d.StatusCode > 599 {
			return fmt.Sprintf(".statusCode %d is out of range 200-599", *d.StatusCode)
		}
		dr.StatusCode = uint32(*d.StatusCode)
	}
	if body := d.Body; body != nil {
		text, binary, msg := b.responseBody(f.Namespace, body)
		if msg != "" {
			return ".body" + msg
		}
		if binary {
			// binaryData (an image, say) is sent as it is.
			dr.BinaryBody = []byte(text)
		} else {
			// Text is a format string (command operators).
			if msg := checkCommandOperators(text); msg != "" {
				return ".body: " + msg
			}
			dr.Body, dr.Formatted = text, true
		}
	}
	hm := &ir.HeaderModifier{}
	if h := d.Header; h != nil {
		if len(h.Remove) > 0 {
			return ".header.remove is not supported for a direct response"
		}
		if e := checkHeaderFilter(h, "header"); e != nil { // validate_filters.go
			return "." + e.msg
		}
		hm = headerModifier(h)
	}
	if ct := d.ContentType; ct != nil {
		if *ct == "" || strings.ContainsAny(*ct, "\r\n\x00") {
			return fmt.Sprintf(".contentType %q is not a header value", *ct)
		}
		hm.Set = append(hm.Set, ir.Header{Name: "Content-Type", Value: *ct})
	}
	st.direct = dr
	if len(hm.Set) > 0 || len(hm.Add) > 0 {
		st.directHeaders = hm
	}
	return ""
}

// responseBody reads an inline body, or the ConfigMap one names: key
// response.body, else the first key in sorted order, of data or
// binaryData (binary then says so).
func (b *builder) responseBody(ns string, body *egv1a1.CustomResponseBody) (text string, binary bool, msg string) {
	typ := egv1a1.ResponseValueTypeInline
	if body.Type != nil {
		typ = *body.Type
	}
	switch typ {
	case egv1a1.ResponseValueTypeInline:
		if body.Inline == nil {
			return "", false, ".inline must be set for type Inline"
		}
		return *body.Inline, false, ""
	case egv1a1.ResponseValueTypeValueRef:
		ref := body.ValueRef
		if ref == nil {
			return "", false, ".valueRef must be set for type ValueRef"
		}
		if ref.Group != "" || ref.Kind != "ConfigMap" {
			return "", false, fmt.Sprintf(".valueRef: %s is not supported; only ConfigMap", groupKind(string(ref.Group), string(ref.Kind)))
		}
		for _, cm := range b.out.ConfigMaps {
			if cm.Namespace != ns || cm.Name != string(ref.Name) {
				continue
			}
			if v, ok := cm.Data[responseBodyKey]; ok {
				return v, false, ""
			}
			if v, ok := cm.BinaryData[responseBodyKey]; ok {
				return string(v), true, ""
			}
			keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			for k := range cm.BinaryData {
				keys = append(keys, k)
			}
			if len(keys) == 0 {
				return "", false, fmt.Sprintf(".valueRef: ConfigMap %s/%s has no data", ns, ref.Name)
			}
			sort.Strings(keys)
			if v, ok := cm.Data[keys[0]]; ok {
				return v, false, ""
			}
			return string(cm.BinaryData[keys[0]]), true, ""
		}
		return "", false, fmt.Sprintf(".valueRef: ConfigMap %s/%s not found", ns, ref.Name)
	}
	return "", false, fmt.Sprintf(".type %q is not supported (Inline or ValueRef)", typ)
}

// hrfCredential resolves credentialInjection: the credential is the
// Secret's "credential" key.
func (b *builder) hrfCredential(f *egv1a1.HTTPRouteFilter, c *egv1a1.HTTPCredentialInjectionFilter) (*ir.CredentialInjection, string) {
	out := &ir.CredentialInjection{Name: "httproutefilter/" + f.Namespace + "/" + f.Name}
	if c.Header != nil && *c.Header != "" {
		if !isHeaderToken(*c.Header) {
			return nil, fmt.Sprintf(".header %q is not a header name", *c.Header)
		}
		out.Header = *c.Header
	}
	out.Overwrite = c.Overwrite != nil && *c.Overwrite
	ref := c.Credential.ValueRef
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
		return nil, ".credential.valueRef: only a core Secret is supported"
	}
	ns := f.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	from := objRef{group: resource.GroupEnvoyGateway, kind: egv1a1.KindHTTPRouteFilter, namespace: f.Namespace, name: f.Name}
	if !b.grants.allowed(from, objRef{group: "", kind: "Secret", namespace: ns, name: string(ref.Name)}) {
		return nil, fmt.Sprintf(".credential.valueRef: Secret %s/%s is in another namespace and no ReferenceGrant allows it", ns, ref.Name)
	}
	s := b.secrets[nsName{ns, string(ref.Name)}]
	if s == nil {
		return nil, fmt.Sprintf(".credential.valueRef: Secret %s/%s not found", ns, ref.Name)
	}
	v := secretValue(s, egv1a1.InjectedCredentialKey) // listener.go
	if len(v) == 0 {
		return nil, fmt.Sprintf(".credential.valueRef: Secret %s/%s has no key %q", ns, ref.Name, egv1a1.InjectedCredentialKey)
	}
	if strings.ContainsAny(string(v), "\r\n\x00") {
		return nil, fmt.Sprintf(".credential.valueRef: Secret %s/%s key %q is not a header value (CR, LF or NUL)", ns, ref.Name, egv1a1.InjectedCredentialKey)
	}
	out.Credential = v
	return out, ""
}

// ruleFilters are what a rule's HTTPRouteFilters add, merged.
type ruleFilters struct {
	rewrite   *ir.URLRewrite
	appendXFH *bool
	direct    *ir.DirectResponse
	headers   *ir.HeaderModifier
	cred      *ir.CredentialInjection
	// cookies: the filter with matches, if any (one per rule).
	cookies [][]ir.StringMatch
}

// extensionFilter resolves one ExtensionRef filter of a rule into rf. It
// returns false when the rule must fail closed (reason recorded on rs).
func (b *builder) extensionFilter(rs *routeState, f *gwv1.HTTPRouteFilter, rf *ruleFilters, fw string) bool {
	ref := f.ExtensionRef
	if ref == nil {
		rs.invalid(fw + ": extensionRef is missing")
		return false
	}
	if string(ref.Group) != resource.GroupEnvoyGateway || string(ref.Kind) != egv1a1.KindHTTPRouteFilter {
		rs.unsupported("UnsupportedValue", fmt.Sprintf("%s: ExtensionRef filter %s %s is not supported; only %s/%s",
			fw, groupKind(string(ref.Group), string(ref.Kind)), ref.Name, resource.GroupEnvoyGateway, egv1a1.KindHTTPRouteFilter))
		return false
	}
	st := b.httpRouteFilter(rs.r.Namespace, string(ref.Name))
	if st == nil {
		rs.unresolved("UnsupportedValue", fmt.Sprintf("%s: HTTPRouteFilter %s/%s not found", fw, rs.r.Namespace, ref.Name))
		return false
	}
	if st.msg != "" {
		rs.unsupported("UnsupportedValue", fw+": "+st.msg)
		return false
	}
	conflict := func(what string) bool {
		rs.unsupported("UnsupportedValue", fmt.Sprintf("%s: another HTTPRouteFilter of the rule already sets %s", fw, what))
		return false
	}
	if st.rewrite != nil {
		if rf.rewrite == nil {
			rf.rewrite = &ir.URLRewrite{}
		}
		if st.rewrite.Path != nil {
			if rf.rewrite.Path != nil {
				return conflict("a path rewrite")
			}
			rf.rewrite.Path = st.rewrite.Path
		}
		if hostRewritten(st.rewrite) {
			if hostRewritten(rf.rewrite) {
				return conflict("a host rewrite")
			}
			rf.rewrite.HostFromHeader, rf.rewrite.HostFromBackend, rf.rewrite.HostPathRegex =
				st.rewrite.HostFromHeader, st.rewrite.HostFromBackend, st.rewrite.HostPathRegex
		}
	}
	if st.appendXFH != nil {
		rf.appendXFH = st.appendXFH
	}
	if st.direct != nil {
		if rf.direct != nil {
			return conflict("a direct response")
		}
		rf.direct, rf.headers = st.direct, st.directHeaders
	}
	if st.cred != nil {
		if rf.cred != nil {
			return conflict("credential injection")
		}
		rf.cred = st.cred
	}
	if len(st.cookies) > 0 {
		if rf.cookies != nil {
			return conflict("matches (only one HTTPRouteFilter with matches is supported per rule)")
		}
		rf.cookies = st.cookies
	}
	return true
}

// applyRuleFilters merges what the rule's HTTPRouteFilters ask into its
// template, next to the rule's own Gateway API filters. false: fail closed.
func applyRuleFilters(rs *routeState, t *ir.HTTPRoute, rf *ruleFilters, where string) bool {
	// t.URLRewrite, when the rule has one, is the rule's own: no copy needed.
	if rw := rf.rewrite; rw != nil {
		if t.URLRewrite == nil {
			t.URLRewrite = &ir.URLRewrite{}
		}
		u := t.URLRewrite
		if rw.Path != nil {
			if u.Path != nil {
				rs.unsupported("UnsupportedValue", where+": a URLRewrite filter and an HTTPRouteFilter both rewrite the path")
				return false
			}
			u.Path = rw.Path
		}
		if hostRewritten(rw) {
			if u.Hostname != "" {
				rs.unsupported("UnsupportedValue", where+": a URLRewrite filter and an HTTPRouteFilter both rewrite the host")
				return false
			}
			u.HostFromHeader, u.HostFromBackend, u.HostPathRegex = rw.HostFromHeader, rw.HostFromBackend, rw.HostPathRegex
			u.AppendXForwardedHost = true // Envoy Gateway's default for these rewrites
		}
	}
	if rf.appendXFH != nil && hostRewritten(t.URLRewrite) {
		t.URLRewrite.AppendXForwardedHost = *rf.appendXFH
	}
	if rf.direct != nil {
		switch {
		case t.Redirect != nil:
			rs.unsupported("IncompatibleFilters", where+": a RequestRedirect and an HTTPRouteFilter directResponse cannot be used together")
			return false
		case len(t.Mirrors) > 0:
			rs.unsupported("IncompatibleFilters", where+": RequestMirror filter cannot be used when the rule also configures a DirectResponse filter")
			return false
		case rs.kind == "GRPCRoute" && rf.direct.StatusCode < 300:
			rs.unsupported("UnsupportedValue", fmt.Sprintf("%s: a direct response with status %d is not supported on a GRPCRoute: "+
				"a 2xx answer means gRPC OK but carries no response message; use a non-2xx status to deny the call", where, rf.direct.StatusCode))
			return false
		}
		t.DirectResponse = rf.direct
		if rf.headers != nil {
			hm := &ir.HeaderModifier{}
			if t.ResponseHeaders != nil {
				*hm = *t.ResponseHeaders
			}
			hm.Set = append(append([]ir.Header(nil), hm.Set...), rf.headers.Set...)
			hm.Add = append(append([]ir.Header(nil), hm.Add...), rf.headers.Add...)
			t.ResponseHeaders = hm
		}
	}
	t.CredentialInjection = rf.cred
	return true
}

// commandOperator is one Envoy substitution command: %NAME%, %NAME(arg)%,
// %NAME(arg):length%.
var commandOperator = regexp.MustCompile(`^%([A-Z0-9_]+)(\([^)]*\))?(:[0-9]+)?%`)

// knownOperators are the built-in command operators Envoy 1.40 expands in
// a direct response body; an unknown one makes Envoy refuse the whole
// configuration, so it is refused here with its position.
var knownOperators = map[string]bool{
	"REQ": true, "RESP": true, "TRAILER": true, "PATH": true,
	"START_TIME": true, "START_TIME_LOCAL": true, "EMIT_TIME": true, "EMIT_TIME_LOCAL": true,
	"REQUEST_HEADERS_BYTES": true, "BYTES_RECEIVED": true, "BYTES_SENT": true, "PROTOCOL": true,
	"UPSTREAM_PROTOCOL": true, "RESPONSE_CODE": true, "RESPONSE_CODE_DETAILS": true,
	"CONNECTION_TERMINATION_DETAILS": true, "RESPONSE_FLAGS": true, "RESPONSE_FLAGS_LONG": true,
	"DURATION": true, "REQUEST_DURATION": true, "REQUEST_TX_DURATION": true, "RESPONSE_DURATION": true,
	"RESPONSE_TX_DURATION": true, "ROUTE_NAME": true, "VIRTUAL_CLUSTER_NAME": true,
	"UPSTREAM_HOST": true, "UPSTREAM_HOST_NAME": true, "UPSTREAM_CLUSTER": true, "UPSTREAM_LOCAL_ADDRESS": true,
	"UPSTREAM_REMOTE_ADDRESS": true, "UPSTREAM_TRANSPORT_FAILURE_REASON": true,
	"DOWNSTREAM_REMOTE_ADDRESS": true, "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": true, "DOWNSTREAM_REMOTE_PORT": true,
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS": true, "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": true,
	"DOWNSTREAM_DIRECT_REMOTE_PORT": true, "DOWNSTREAM_LOCAL_ADDRESS": true,
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": true, "DOWNSTREAM_LOCAL_PORT": true,
	"REQUESTED_SERVER_NAME": true, "HOSTNAME": true, "DYNAMIC_METADATA": true, "FILTER_STATE": true,
	"METADATA": true, "ENVIRONMENT": true, "LOCAL_REPLY_BODY": true, "STREAM_ID": true,
	"UNIQUE_ID": true, "CONNECTION_ID": true, "UPSTREAM_CONNECTION_ID": true, "TRACE_ID": true,
	"DOWNSTREAM_TLS_VERSION": true, "DOWNSTREAM_TLS_CIPHER": true, "DOWNSTREAM_TLS_SESSION_ID": true,
	"DOWNSTREAM_PEER_SUBJECT": true, "DOWNSTREAM_PEER_ISSUER": true, "DOWNSTREAM_PEER_URI_SAN": true,
	"DOWNSTREAM_LOCAL_URI_SAN": true, "DOWNSTREAM_PEER_FINGERPRINT_256": true, "DOWNSTREAM_PEER_SERIAL": true,
}

// checkCommandOperators reports the first '%' of body that does not start
// a known Envoy command operator (Envoy would refuse the configuration).
func checkCommandOperators(body string) string {
	for i := 0; i < len(body); i++ {
		if body[i] != '%' {
			continue
		}
		if i+1 < len(body) && body[i+1] == '%' {
			i++ // "%%" is a literal '%'
			continue
		}
		m := commandOperator.FindStringSubmatch(body[i:])
		if m == nil {
			return fmt.Sprintf("'%%' at byte %d does not start an Envoy command operator such as %%REQ(:path)%%; "+
				"the body is a format string: write %%%% for a literal '%%'", i)
		}
		if !knownOperators[m[1]] {
			return fmt.Sprintf("%%%s%% at byte %d is not an Envoy command operator egctl knows", m[1], i)
		}
		i += len(m[0]) - 1
	}
	return ""
}

// ruleExtensionFilters resolves every ExtensionRef filter of a rule. ok is
// false when the rule must fail closed; rf is nil when the rule has none
// (most rules: no allocation for them).
func (b *builder) ruleExtensionFilters(rs *routeState, filters []gwv1.HTTPRouteFilter, where string) (rf *ruleFilters, ok bool) {
	ok = true
	for fi := range filters {
		if filters[fi].Type != gwv1.HTTPRouteFilterExtensionRef {
			continue
		}
		if rf == nil {
			rf = &ruleFilters{}
		}
		if !b.extensionFilter(rs, &filters[fi], rf, filterPath{where, fi}.String()) {
			ok = false
		}
	}
	return rf, ok
}

// cookieSets is rf's cookie matches; none for a nil rf.
func (rf *ruleFilters) cookieSets() [][]ir.StringMatch {
	if rf == nil {
		return nil
	}
	return rf.cookies
}

// compileMatches adds the rule's entries: each match, and when an
// HTTPRouteFilter adds cookie matches, each match with each cookie set
// (both must hold), numbered as Envoy Gateway numbers them.
func (b *builder) compileMatches(rs *routeState, cr *compiledRule, matches []gwv1.HTTPRouteMatch, cookies [][]ir.StringMatch, where string) {
	per := len(cookies)
	if per == 0 {
		per = 1
	}
	for j := range matches {
		m, err := compileMatch(&matches[j]) // match.go
		if err != nil {
			msg := fmt.Sprintf("%s.matches[%d]: %v (match not programmed)", where, j, err)
			rs.rejectValue(err, msg)
			continue
		}
		for k := 0; k < per; k++ {
			mk := m
			if len(cookies) > 0 {
				mk.Cookies = cookies[k]
			}
			idx := j*per + k
			e := &matchEntry{route: rs, rule: cr, j: idx, match: mk}
			e.key = newPrecKey(rs, cr.idx, idx, &e.match)
			cr.entries = append(cr.entries, e)
		}
	}
}

// backendExtensionFilter applies an HTTPRouteFilter on a backendRef: only
// its credential injection can act on one backend (an upstream filter of
// that backend's cluster); anything else it asks is refused.
func (b *builder) backendExtensionFilter(rs *routeState, be *ir.Backend, f *gwv1.HTTPRouteFilter, fw string) bool {
	rf := &ruleFilters{}
	if !b.extensionFilter(rs, f, rf, fw) {
		return false
	}
	switch {
	case rf.rewrite != nil || rf.appendXFH != nil, rf.direct != nil, rf.cookies != nil:
		rs.unsupported("UnsupportedValue", fw+": on a backendRef an HTTPRouteFilter can only inject credentials; put urlRewrite, directResponse and matches on the rule")
		return false
	case be.CredentialInjection != nil:
		rs.unsupported("UnsupportedValue", fw+": another HTTPRouteFilter of the backendRef already injects a credential")
		return false
	}
	be.CredentialInjection = rf.cred
	return true
}
