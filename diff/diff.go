package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Change says what happened to one resource from the old side to the new.
type Change string

const (
	Added   Change = "added"
	Removed Change = "removed"
	Changed Change = "changed"
)

// Options tune Compare.
type Options struct {
	// ShowSecrets keeps secret material as is. By default it is redacted
	// on both sides (see redactor).
	ShowSecrets bool
	// Context is the number of unchanged lines around each change in the
	// unified diffs: 0 means the default, 3; negative means none.
	Context int
}

// Entry is one resource that differs.
type Entry struct {
	Proxy  string `json:"proxy"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Change Change `json:"change"`
	// Diff is a unified diff of the resource's YAML (no ---/+++ header).
	Diff string `json:"diff"`
}

// Count is the per-proxy, per-type tally of a comparison.
type Count struct {
	Proxy     string `json:"proxy"`
	Type      string `json:"type"`
	Added     int    `json:"added"`
	Removed   int    `json:"removed"`
	Changed   int    `json:"changed"`
	Unchanged int    `json:"unchanged"`
}

// Result is a comparison: entries sorted by proxy, type (in Types order)
// and name; counts for every proxy and type that has resources.
type Result struct {
	Entries []Entry
	Counts  []Count
	// Proxies are the proxy keys compared, sorted.
	Proxies []string
	// Skipped lists, per proxy, the resource types not compared because a
	// side did not include them (see Snapshot.Skip).
	Skipped map[string][]string
}

// Empty reports whether the sides agree.
func (r *Result) Empty() bool { return len(r.Entries) == 0 }

var typeRank = func() map[string]int {
	m := map[string]int{}
	for i, t := range Types {
		m[t] = i
	}
	return m
}()

// Compare diffs old against new, proxy by proxy (by key). A proxy on one
// side only has all of its resources added or removed.
func Compare(oldSide, newSide Side, o Options) (*Result, error) {
	switch {
	case o.Context == 0:
		o.Context = 3
	case o.Context < 0:
		o.Context = 0
	}
	keys := map[string]bool{}
	for k := range oldSide {
		keys[k] = true
	}
	for k := range newSide {
		keys[k] = true
	}
	res := &Result{}
	for k := range keys {
		res.Proxies = append(res.Proxies, k)
	}
	sort.Strings(res.Proxies)
	for _, p := range res.Proxies {
		if err := compareProxy(res, p, oldSide[p], newSide[p], o); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func compareProxy(res *Result, proxy string, a, b *Snapshot, o Options) error {
	reported := (a != nil && a.ReportedEndpoints) || (b != nil && b.ReportedEndpoints)
	oldRes, err := resources(a, reported)
	if err != nil {
		return fmt.Errorf("diff: proxy %s (old side): %w", proxy, err)
	}
	newRes, err := resources(b, reported)
	if err != nil {
		return fmt.Errorf("diff: proxy %s (new side): %w", proxy, err)
	}
	skip := map[string]bool{}
	for _, s := range []*Snapshot{a, b} {
		if s != nil {
			for _, t := range s.Skip {
				skip[t] = true
			}
		}
	}
	for _, t := range Types {
		if skip[t] {
			if res.Skipped == nil {
				res.Skipped = map[string][]string{}
			}
			res.Skipped[proxy] = append(res.Skipped[proxy], t)
		}
	}
	type pair struct{ old, new *resource }
	pairs := map[[2]string]*pair{}
	for i := range oldRes {
		r := &oldRes[i]
		if !skip[r.typ] {
			pairs[[2]string{r.typ, r.name}] = &pair{old: r}
		}
	}
	for i := range newRes {
		r := &newRes[i]
		if skip[r.typ] {
			continue
		}
		k := [2]string{r.typ, r.name}
		if p := pairs[k]; p != nil {
			p.new = r
		} else {
			pairs[k] = &pair{new: r}
		}
	}
	keys := make([][2]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return typeRank[keys[i][0]] < typeRank[keys[j][0]]
		}
		return keys[i][1] < keys[j][1]
	})
	counts := map[string]*Count{}
	for _, k := range keys {
		p := pairs[k]
		c := counts[k[0]]
		if c == nil {
			c = &Count{Proxy: proxy, Type: k[0]}
			counts[k[0]] = c
		}
		oldText, newText, err := render(p.old, p.new, o.ShowSecrets)
		if err != nil {
			return fmt.Errorf("diff: proxy %s: %s %q: %w", proxy, k[0], k[1], err)
		}
		var change Change
		switch {
		case p.old == nil:
			change = Added
			c.Added++
		case p.new == nil:
			change = Removed
			c.Removed++
		case oldText == newText:
			c.Unchanged++
			continue
		default:
			change = Changed
			c.Changed++
		}
		res.Entries = append(res.Entries, Entry{
			Proxy: proxy, Type: k[0], Name: k[1], Change: change,
			Diff: unified(oldText, newText, o.Context),
		})
	}
	for _, t := range Types {
		if c := counts[t]; c != nil {
			res.Counts = append(res.Counts, *c)
		}
	}
	return nil
}

// render turns both versions of one resource into YAML, redacting secret
// material the same way on both sides. Either may be nil.
func render(a, b *resource, showSecrets bool) (string, string, error) {
	trees := []tree{nil, nil}
	for i, r := range []*resource{a, b} {
		if r != nil {
			trees[i] = r.tree
		}
	}
	if !showSecrets {
		redacted, err := redactPair(trees)
		if err != nil {
			return "", "", err
		}
		trees = redacted
	}
	out := []string{"", ""}
	for i, t := range trees {
		if t == nil {
			continue
		}
		y, err := toYAML(t)
		if err != nil {
			return "", "", err
		}
		out[i] = y
	}
	return out[0], out[1], nil
}

// redactPair redacts copies of both trees with fingerprints, or plainly
// when either side already held redacted values (then fingerprints would
// differ from a placeholder although the keys may well be the same).
func redactPair(trees []tree) ([]tree, error) {
	try := func(fingerprint bool) ([]tree, bool, error) {
		out := make([]tree, len(trees))
		found := false
		for i, t := range trees {
			if t == nil {
				continue
			}
			c, err := deepCopy(t)
			if err != nil {
				return nil, false, err
			}
			r := &redactor{fingerprint: fingerprint}
			r.walk(c, "")
			found = found || r.found
			out[i] = c
		}
		return out, found, nil
	}
	out, found, err := try(true)
	if err != nil || !found {
		return out, err
	}
	out, _, err = try(false)
	return out, err
}

func deepCopy(t tree) (tree, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err = dec.Decode(&v)
	return v, err
}
