package translate

import (
	"slices"
	"strings"

	"github.com/egctl/egctl/ir"
)

// matchEntry is one match of one rule of one route, compiled once and
// shared by every virtual host it lands in.
type matchEntry struct {
	route *routeState
	rule  *compiledRule
	j     int // match index; 0 when the rule had no matches
	match ir.HTTPMatch
	key   precKey
}

// precKey is what Gateway API match precedence compares, most significant
// first. Hostname specificity is added per virtual host (see vhostBuild).
type precKey struct {
	exact   bool // Exact path beats any prefix or regex
	pathLen int  // longer prefix/regex first
	regex   bool // at equal length a prefix beats a regex (implementation-specific; we keep regexes behind plain prefixes)
	method  bool
	headers int
	query   int
	// HTTPRouteFilter cookie matches, after the spec's criteria: more
	// first, then more exact ones (as Envoy Gateway ranks them).
	cookies, exactCookies int
	created               int64 // creationTimestamp, unix nanoseconds: older first
	nsName                string
	rule                  int
	match                 int
}

func newPrecKey(rs *routeState, rule, j int, m *ir.HTTPMatch) precKey {
	return precKey{
		exact:        m.PathType == ir.PathExact,
		pathLen:      len(m.Path),
		regex:        m.PathType == ir.PathRegex,
		method:       m.Method != "",
		headers:      len(m.Headers),
		query:        len(m.QueryParams),
		cookies:      len(m.Cookies),
		exactCookies: exactMatches(m.Cookies),
		created:      rs.r.CreationTimestamp.UnixNano(),
		nsName:       rs.nsName,
		rule:         rule,
		match:        j,
	}
}

func exactMatches(ms []ir.StringMatch) int {
	n := 0
	for _, m := range ms {
		if m.Type != ir.MatchRegex {
			n++
		}
	}
	return n
}

func boolCmp(a, b bool) int { // true first
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func intDesc(a, b int) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func comparePrec(a, b *precKey) int {
	if c := boolCmp(a.exact, b.exact); c != 0 {
		return c
	}
	if c := intDesc(a.pathLen, b.pathLen); c != 0 {
		return c
	}
	if c := boolCmp(!a.regex, !b.regex); c != 0 {
		return c
	}
	if c := boolCmp(a.method, b.method); c != 0 {
		return c
	}
	if c := intDesc(a.headers, b.headers); c != 0 {
		return c
	}
	if c := intDesc(a.query, b.query); c != 0 {
		return c
	}
	if c := intDesc(a.cookies, b.cookies); c != 0 {
		return c
	}
	if c := intDesc(a.exactCookies, b.exactCookies); c != 0 {
		return c
	}
	return compareWritten(a, b)
}

// compareWritten orders matches as the user wrote them, for an EnvoyProxy
// with preserveRouteOrder: routes oldest first (then by namespace/name, the
// order Gateway API gives routes), and each route's rules and matches in
// order, whatever their paths, headers or methods.
func compareWritten(a, b *precKey) int {
	if c := byAge(a.created, b.created, a.nsName, b.nsName); c != 0 {
		return c
	}
	if a.rule != b.rule {
		return a.rule - b.rule
	}
	return a.match - b.match
}

// byAge orders routes as Gateway API breaks ties: the older first,
// then by "namespace/name".
func byAge(aCreated, bCreated int64, aName, bName string) int {
	if aCreated != bCreated {
		if aCreated < bCreated {
			return -1
		}
		return 1
	}
	return strings.Compare(aName, bName)
}

// vhostBuild collects the entries attached to one hostname of a listener.
type vhostBuild struct {
	host    string
	entries []*matchEntry
	seen    map[*routeState]bool // a route attaches once per vhost
	// hostIdx is the position of host among each route's hostnames on
	// the listener, for Envoy Gateway's virtual host order (vhost_order.go).
	hostIdx map[*routeState]int
}

func (v *vhostBuild) addRoute(rs *routeState, hostIdx int) {
	if v.seen[rs] {
		return
	}
	if v.seen == nil {
		v.seen = map[*routeState]bool{}
		v.hostIdx = map[*routeState]int{}
	}
	v.seen[rs] = true
	v.hostIdx[rs] = hostIdx
	for _, cr := range rs.rules {
		for _, e := range cr.entries {
			v.entries = append(v.entries, e)
		}
	}
}

// hostSpec ranks the hostname a route matched through: routes of an exact
// hostname come before those of a wildcard covering it, which come before
// those of the catch-all (Gateway API hostname precedence across routes).
type hostSpec struct{ exactChars, chars int }

func specOf(h string) hostSpec {
	if h == "" {
		return hostSpec{}
	}
	if isWildcard(h) {
		return hostSpec{0, len(h)}
	}
	return hostSpec{len(h), len(h)}
}

// build emits the virtual host. A request for this host also matches routes
// attached through less specific hostnames of the same listener (a wildcard
// covering it, or the catch-all), because Envoy picks one virtual host per
// request; those routes follow this host's own ones.
func (v *vhostBuild) build(l *listenerState) *ir.VirtualHost {
	type ranked struct {
		e    *matchEntry
		spec hostSpec
	}
	all := make([]ranked, 0, len(v.entries))
	for _, e := range v.entries {
		all = append(all, ranked{e, specOf(v.host)})
	}
	var wider []string
	for _, h := range l.wideHosts {
		if h != v.host && covers(h, v.host) {
			wider = append(wider, h)
		}
	}
	if len(wider) > 0 {
		// Most specific first, so a route attached through several of
		// them ranks by the best one.
		slices.SortFunc(wider, func(a, b string) int {
			if moreSpecific(a, b) {
				return -1
			}
			if moreSpecific(b, a) {
				return 1
			}
			return strings.Compare(a, b)
		})
		taken := make(map[*routeState]bool, len(v.seen))
		for r := range v.seen {
			taken[r] = true
		}
		for _, h := range wider {
			for _, e := range l.vhosts[h].entries {
				if !taken[e.route] {
					all = append(all, ranked{e, specOf(h)})
				}
			}
			for r := range l.vhosts[h].seen {
				taken[r] = true
			}
		}
	}
	cmp := comparePrec
	if l.gw.ep != nil && l.gw.ep.preserveOrder {
		cmp = compareWritten // EnvoyProxy preserveRouteOrder (envoyproxy.go)
	}
	slices.SortStableFunc(all, func(a, b ranked) int {
		if c := intDesc(a.spec.exactChars, b.spec.exactChars); c != 0 {
			return c
		}
		if c := intDesc(a.spec.chars, b.spec.chars); c != 0 {
			return c
		}
		return cmp(&a.e.key, &b.e.key)
	})
	vh := &ir.VirtualHost{
		Name:     l.name() + "/" + hostLabel(v.host),
		Domains:  []string{domain(v.host)},
		Metadata: l.metadata(),
		Routes:   make([]*ir.HTTPRoute, 0, len(all)),
	}
	label := hostLabel(v.host)
	for _, r := range all {
		route := r.e.emit(label)
		finishRedirect(route, l, v.host)
		vh.Routes = append(vh.Routes, route)
	}
	return vh
}

// emit instantiates the entry for one virtual host.
func (e *matchEntry) emit(hostLabel string) *ir.HTTPRoute {
	t := &e.rule.tmpl
	out := *t
	out.Name = e.route.prefix + "/rule/" + itoa(e.rule.idx) + "/match/" + itoa(e.j) + "/" + hostLabel
	out.Match = e.match
	return &out
}
