package translate

import (
	"slices"
	"strings"

	"github.com/egctl/egctl/ir"
)

// Virtual hosts are ordered as Envoy Gateway orders them, so that `egctl x
// diff` against a proxy it programs shows no change. Envoy does not care:
// it picks a virtual host by its domains, never by position. Envoy Gateway
// creates a virtual host where a hostname first appears in the listener's
// route list, and that list is sorted (stably, most specific first) by path
// match type, path length, header, cookie and query parameter matches; ties
// keep the order routes were translated in: HTTPRoutes before GRPCRoutes,
// each kind oldest first (then namespace/name), and within a route each
// hostname's rules and matches in order.

// egRank is what Envoy Gateway's route sort compares, most significant
// first; a larger value sorts first.
type egRank [8]int

func egRankOf(m *ir.HTTPMatch) egRank {
	var r egRank
	switch m.PathType {
	case ir.PathExact:
		r[0] = 3
	case ir.PathRegex:
		r[0] = 2
	case ir.PathPrefix:
		r[0] = 1
	}
	if !(m.PathType == ir.PathPrefix && m.Path == "/") {
		r[1] = len(m.Path) // a "/" prefix counts as no path match
	}
	r[2], r[3] = len(m.Headers), exactCount(m.Headers)
	if m.Method != "" { // Envoy Gateway matches the method as a header
		r[2]++
		r[3]++
	}
	r[4], r[5] = len(m.Cookies), exactCount(m.Cookies)
	r[6], r[7] = len(m.QueryParams), exactCount(m.QueryParams)
	return r
}

func exactCount(ms []ir.StringMatch) int {
	n := 0
	for _, m := range ms {
		if m.Type == ir.MatchExact {
			n++
		}
	}
	return n
}

// vhostFirst is where a virtual host's first route lands in Envoy
// Gateway's sorted route list.
type vhostFirst struct {
	none    bool // no route of its own: last
	rank    egRank
	grpc    bool
	created int64
	nsName  string
	hostIdx int
	rule    int
	match   int
}

func compareFirst(a, b *vhostFirst, ranked bool) int {
	if a.none != b.none {
		return boolCmp(!a.none, !b.none)
	}
	if ranked {
		for i := range a.rank {
			if c := intDesc(a.rank[i], b.rank[i]); c != 0 {
				return c
			}
		}
	}
	if c := boolCmp(!a.grpc, !b.grpc); c != 0 {
		return c
	}
	if c := byAge(a.created, b.created, a.nsName, b.nsName); c != 0 { // precedence.go
		return c
	}
	if a.hostIdx != b.hostIdx {
		return a.hostIdx - b.hostIdx
	}
	if a.rule != b.rule {
		return a.rule - b.rule
	}
	return a.match - b.match
}

// first finds v's route that comes first in Envoy Gateway's order.
func (v *vhostBuild) first(ranked bool) vhostFirst {
	best := vhostFirst{none: true}
	for _, e := range v.entries {
		f := vhostFirst{
			grpc:    e.route.kind == "GRPCRoute",
			created: e.key.created,
			nsName:  e.key.nsName,
			hostIdx: v.hostIdx[e.route],
			rule:    e.key.rule,
			match:   e.key.match,
		}
		if ranked {
			f.rank = egRankOf(&e.match)
		}
		if best.none || compareFirst(&f, &best, ranked) < 0 {
			best = f
		}
	}
	return best
}

// vhostOrder returns the hostnames of l's virtual hosts in Envoy
// Gateway's order (ties, which its order leaves to map iteration, by name).
func (l *listenerState) vhostOrder() []string {
	ranked := l.gw.ep == nil || !l.gw.ep.preserveOrder
	type hf struct {
		host string
		f    vhostFirst
	}
	hs := make([]hf, 0, len(l.vhosts))
	for h, v := range l.vhosts {
		hs = append(hs, hf{h, v.first(ranked)})
	}
	slices.SortFunc(hs, func(a, b hf) int {
		if c := compareFirst(&a.f, &b.f, ranked); c != 0 {
			return c
		}
		return strings.Compare(hostLabel(a.host), hostLabel(b.host))
	})
	names := make([]string, len(hs))
	for i := range hs {
		names[i] = hs[i].host
	}
	return names
}
