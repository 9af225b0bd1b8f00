// Package ratelimitcfg names the rate-limit descriptors of global (and
// local) rate limit rules, and builds the configuration of the rate-limit
// service (github.com/envoyproxy/ratelimit) that counts global limits.
//
// One plan serves both sides: xds turns each descriptor entry into an Envoy
// rate limit action, and Config turns the same entries into the service's
// descriptor tree, so what Envoy sends is what the service knows. Names
// follow Envoy Gateway: the domain is the listener ("ns/gateway/listener"),
// or the policy ("ns/policy") for a shared rule; the first entry is the
// route (or, shared, the rule); then one entry per condition, named
// rule-N-match-M, rule-N-method, rule-N-path, masked_remote_address and
// remote_address, in that order, or rule-N-match--1 for a rule that
// matches every request.
package ratelimitcfg

import (
	"strconv"
	"strings"

	"github.com/egctl/egctl/ir"
)

// EntryKind says where a descriptor entry's value comes from.
type EntryKind int

const (
	// Generic entries have a fixed key and value.
	Generic EntryKind = iota
	// Header entries come from Match on the header Match.Name: the fixed
	// Value when the match holds (or, inverted, fails), else the header's
	// value for a Distinct match (Value "").
	Header
	// Method and Path match :method and :path with Match.
	Method
	Path
	// Query entries come from the query parameter Match.Name.
	Query
	// Source is the client address inside the rule's CIDR (Value is the
	// range, "invert:" + range when inverted); SourceAddress the address
	// itself, for a Distinct range.
	Source
	SourceAddress
)

// Entry is one descriptor entry. Value "" stands for whatever value the
// request has (Distinct): every value gets its own counter.
type Entry struct {
	Kind  EntryKind
	Key   string
	Value string
	Match *ir.RateLimitMatch
	CIDR  *ir.CIDRMatch
}

// Descriptor is what one rule of one route sends to the service: its
// domain and entries.
type Descriptor struct {
	Domain  string
	Entries []Entry
}

// SharedDomain is the domain of a shared rule: its policy, "ns/name".
func SharedDomain(r *ir.RateLimitRule) string {
	if i := strings.LastIndex(r.Name, "/rule/"); i >= 0 {
		return r.Name[:i]
	}
	return r.Name
}

// Global is the descriptor rule i of rules sends for route on listener.
func Global(listener, route string, rules []*ir.RateLimitRule, i int) Descriptor {
	r := rules[i]
	d := Descriptor{Domain: listener}
	head := route
	if r.Shared {
		d.Domain = SharedDomain(r)
		head = r.Name
	}
	n := ruleIndex(rules, i)
	d.Entries = append(make([]Entry, 0, 2+len(r.Headers)+len(r.QueryParams)), Entry{Kind: Generic, Key: head, Value: head})
	d.Entries = conditions(d.Entries, r, n, "masked_remote_address", "remote_address")
	return d
}

// Local are the descriptor entries of local rule i. Local descriptors live
// in the route's own configuration, so they need no route or domain.
func Local(rules []*ir.RateLimitRule, i int) []Entry {
	p := "rule-" + strconv.Itoa(i)
	return conditions(nil, rules[i], i, p+"-masked-remote-address", p+"-remote-address")
}

func conditions(out []Entry, r *ir.RateLimitRule, n int, maskedKey, addrKey string) []Entry {
	p := "rule-" + strconv.Itoa(n)
	for m := range r.Headers {
		out = append(out, valueEntry(Header, p+"-match-"+strconv.Itoa(m), &r.Headers[m]))
	}
	if r.Methods != nil {
		out = append(out, Entry{Kind: Method, Key: p + "-method", Value: p + "-method", Match: r.Methods})
	}
	if r.Path != nil {
		out = append(out, Entry{Kind: Path, Key: p + "-path", Value: p + "-path", Match: r.Path})
	}
	if c := r.SourceCIDR; c != nil {
		v := c.CIDR
		if c.Invert {
			v = "invert:" + v
		}
		out = append(out, Entry{Kind: Source, Key: maskedKey, Value: v, CIDR: c})
		if c.Distinct {
			out = append(out, Entry{Kind: SourceAddress, Key: addrKey, CIDR: c})
		}
	}
	for m := range r.QueryParams {
		// Numbered after the headers, as Envoy Gateway numbers them.
		out = append(out, valueEntry(Query, p+"-match-"+strconv.Itoa(len(r.Headers)+m), &r.QueryParams[m]))
	}
	if r.MatchesAll() {
		k := p + "-match--1"
		out = append(out, Entry{Kind: Generic, Key: k, Value: k})
	}
	return out
}

func valueEntry(kind EntryKind, key string, m *ir.RateLimitMatch) Entry {
	e := Entry{Kind: kind, Key: key, Match: m}
	if m.Type != ir.RateLimitDistinct {
		e.Value = key
	}
	return e
}

// ruleIndex numbers rule i among the rules that share its domain, so
// descriptor keys start at rule-0 in each domain as Envoy Gateway's do.
// Envoy Gateway counts every shared rule before i, whichever policy it
// comes from; counting only the rules of i's own policy gives the same
// numbers for one policy and keeps a shared rule's descriptor the same on
// every route when a route policy merges its shared rules onto a
// Gateway's.
func ruleIndex(rules []*ir.RateLimitRule, i int) int {
	r := rules[i]
	n := 0
	for _, o := range rules[:i] {
		if o.Shared != r.Shared {
			continue
		}
		if r.Shared && SharedDomain(o) != SharedDomain(r) {
			continue
		}
		n++
	}
	return n
}
