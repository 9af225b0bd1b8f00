package ratelimitcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/egctl/egctl/ir"
)

// Domain is one configuration file of the rate-limit service: a domain
// and its descriptor tree.
type Domain struct {
	Domain      string       `json:"domain"`
	Descriptors []*TreeEntry `json:"descriptors"`
	// top indexes Descriptors by key and value: a domain has one per
	// route, thousands of them.
	top map[[2]string]*TreeEntry
}

// TreeEntry is one descriptor of the service's configuration; the
// service's YAML field names.
type TreeEntry struct {
	Key         string       `json:"key"`
	Value       string       `json:"value,omitempty"`
	RateLimit   *Limit       `json:"rate_limit,omitempty"`
	Descriptors []*TreeEntry `json:"descriptors,omitempty"`
	ShadowMode  bool         `json:"shadow_mode,omitempty"`
}

// Limit is requests_per_unit per unit (SECOND … YEAR).
type Limit struct {
	Unit            string `json:"unit"`
	RequestsPerUnit uint32 `json:"requests_per_unit"`
}

// Config builds the service's configuration for every global rule of
// every route of cfg: one Domain per listener with unshared rules and one
// per policy with shared rules, sorted by domain, descriptors in the order
// routes first ask for them. Routes of several proxies that use one shared
// rule get one descriptor: they count against one limit, which is what
// shared means.
func Config(cfg *ir.Config) ([]*Domain, error) {
	domains := map[string]*Domain{}
	done := map[*ir.GlobalRateLimit]map[string]bool{} // shared rules already added, per rule set
	for _, p := range cfg.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					if r.Traffic == nil || r.Traffic.RateLimit == nil || r.Traffic.RateLimit.Global == nil {
						continue
					}
					g := r.Traffic.RateLimit.Global
					for i, rule := range g.Rules {
						if rule.Shared {
							// A shared rule's descriptor does not depend on
							// the route: add it once per rule set.
							if done[g] == nil {
								done[g] = map[string]bool{}
							}
							if done[g][rule.Name] {
								continue
							}
							done[g][rule.Name] = true
						}
						d := Global(l.Name, r.Name, g.Rules, i)
						if err := add(domains, d, rule); err != nil {
							return nil, fmt.Errorf("route %s: rule %s: %w", r.Name, rule.Name, err)
						}
					}
				}
			}
		}
	}
	out := make([]*Domain, 0, len(domains))
	for _, d := range domains {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out, nil
}

// add puts one rule's chain of entries into its domain's tree, the limit
// on the last entry.
func add(domains map[string]*Domain, d Descriptor, rule *ir.RateLimitRule) error {
	dom := domains[d.Domain]
	if dom == nil {
		dom = &Domain{Domain: d.Domain, top: map[[2]string]*TreeEntry{}}
		domains[d.Domain] = dom
	}
	level := &dom.Descriptors
	var node *TreeEntry
	for i, e := range d.Entries {
		node = nil
		if i == 0 {
			node = dom.top[[2]string{e.Key, e.Value}]
		} else {
			for _, n := range *level {
				if n.Key == e.Key && n.Value == e.Value {
					node = n
					break
				}
			}
		}
		if node == nil {
			node = &TreeEntry{Key: e.Key, Value: e.Value}
			*level = append(*level, node)
			if i == 0 {
				dom.top[[2]string{e.Key, e.Value}] = node
			}
		}
		level = &node.Descriptors
	}
	lim := &Limit{Unit: strings.ToUpper(string(rule.Limit.Unit)), RequestsPerUnit: rule.Limit.Requests}
	if node.RateLimit != nil && (*node.RateLimit != *lim || node.ShadowMode != rule.ShadowMode) {
		return fmt.Errorf("descriptor %s of domain %s already has another limit", keyPath(d.Entries), d.Domain)
	}
	node.RateLimit = lim
	node.ShadowMode = rule.ShadowMode
	return nil
}

func keyPath(es []Entry) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Key
		if e.Value != "" {
			parts[i] += "_" + e.Value
		}
	}
	return strings.Join(parts, ".")
}

// FileName is the file the service loads a domain from: the domain with
// "/" as "_" (never in Kubernetes names, so unambiguous), ".yaml".
func FileName(domain string) string {
	return strings.ReplaceAll(domain, "/", "_") + ".yaml"
}

// JSON is the domain as the service's YAML fields, in JSON.
func (d *Domain) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
