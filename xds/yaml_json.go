package xds

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
)

// The YAML of a JSON document (status output, --to ir, rate-limit
// configuration) used to be written by decoding the JSON with
// encoding/json into maps and writing the maps: at 10,000 routes the
// status output spent more time decoding (reflection, one map per object,
// every key hashed) than writing. parseJSONTree reads the document once
// into what the writer takes, objects as key/value pairs already in
// go-yaml's key order, strings and numbers as slices of one copy of the
// input. Whatever it does not take as encoding/json would (invalid JSON,
// duplicate keys, escapes it would have to interpret, very deep nesting)
// makes it step aside, and the document goes the old way: the result is
// the same either way.

// yamlPair is a member of a JSON object; an object is a []yamlPair, in
// the order go-yaml writes its keys.
type yamlPair struct {
	key string
	val any
}

// errJSONFallback: parseJSONTree leaves this document to encoding/json.
var errJSONFallback = errors.New("json: not for the fast parser")

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

type jsonTreeParser struct {
	s     string // the input; unescaped strings and numbers are slices of it
	i     int
	depth int
}

// parseJSONTree parses j into []yamlPair, []any, string, json.Number,
// bool and nil values: those encoding/json would decode into maps (with
// UseNumber), as the writer takes them.
func parseJSONTree(j []byte) (any, error) {
	p := &jsonTreeParser{s: string(j)}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errJSONFallback
	}
	return v, nil
}

func (p *jsonTreeParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonTreeParser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, errJSONFallback
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil, nil
	}
	return nil, errJSONFallback
}

func (p *jsonTreeParser) object() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errJSONFallback
	}
	defer func() { p.depth-- }()
	p.i++ // {
	var ps []yamlPair
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return []yamlPair{}, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, errJSONFallback
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errJSONFallback
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		ps = append(ps, yamlPair{key: k, val: v})
		p.space()
		if p.i >= len(p.s) {
			return nil, errJSONFallback
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			continue
		case '}':
			p.i++
			return ps, sortPairs(ps)
		}
		return nil, errJSONFallback
	}
}

// sortPairs puts an object's members in go-yaml's key order, as
// sortYAMLKeys does for a map's keys (byte order first, then go-yaml's
// order, by the same sort, so the same comparisons and swaps).
func sortPairs(ps []yamlPair) error {
	if len(ps) < 2 {
		return nil
	}
	slices.SortFunc(ps, func(a, b yamlPair) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(ps); i++ {
		if ps[i].key == ps[i-1].key {
			return errJSONFallback // encoding/json keeps the last: let it
		}
	}
	sort.Slice(ps, func(i, j int) bool { return yamlKeyLess(ps[i].key, ps[j].key) })
	return nil
}

func (p *jsonTreeParser) array() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errJSONFallback
	}
	defer func() { p.depth-- }()
	p.i++ // [
	vs := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return vs, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errJSONFallback
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			continue
		case ']':
			p.i++
			return vs, nil
		}
		return nil, errJSONFallback
	}
}

// str reads a string. One without escapes is a slice of the input; one
// with escapes is decoded by encoding/json, which knows them all
// (surrogate pairs, invalid UTF-8 made U+FFFD).
func (p *jsonTreeParser) str() (string, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			if !escaped {
				return p.s[start+1 : p.i-1], nil
			}
			var s string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &s); err != nil {
				return "", errJSONFallback
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", errJSONFallback
		default:
			p.i++
		}
	}
	return "", errJSONFallback
}

// number reads a JSON number as the json.Number encoding/json gives.
func (p *jsonTreeParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case digits() == 0:
		return nil, errJSONFallback
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errJSONFallback
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errJSONFallback
		}
	}
	return json.Number(p.s[start:p.i]), nil
}

// JSONSectionToYAML is JSONToYAML of the document {key: j}, without
// building that document: how `egctl x translate` writes a top-level
// section (the status of every object, the IR) whose text does not depend
// on its neighbours.
func JSONSectionToYAML(key string, j []byte) ([]byte, error) {
	if v, err := parseJSONTree(j); err == nil {
		w := &yamlWriter{}
		w.buf.Grow(len(j) + len(j)/4)
		err := w.top([]yamlPair{{key: key, val: v}})
		if err == nil {
			return w.buf.Bytes(), nil
		}
	}
	doc, err := json.Marshal(map[string]json.RawMessage{key: j})
	if err != nil {
		return nil, err
	}
	return jsonToYAML(doc)
}
