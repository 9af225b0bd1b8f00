package manifest

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// maxDepth bounds nesting (and therefore alias cycles) while converting a
// YAML tree; real Kubernetes objects stay far below it.
const maxDepth = 512

// pathSeg is one step of a field path: a mapping key or a list index.
type pathSeg struct {
	key   string
	index int // -1 for a key
}

// formatPath renders segments the way sigs.k8s.io/json reports strict
// errors ("spec.rules[0].matches"), so both can be compared as strings.
func formatPath(segs []pathSeg) string {
	var b strings.Builder
	for _, s := range segs {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// span says where one value landed in the generated JSON and which YAML
// line produced it; recorded only when an error needs locating.
type span struct {
	start, end int
	path       string
	line       int
	node       *yaml.Node
}

// recorder collects spans while converting; nil on the fast path.
type recorder struct {
	spans []span
	json  []byte // the JSON the spans point into
}

// convError is a problem found while turning YAML into JSON. Its message
// never contains the offending value (it may be Secret data).
type convError struct {
	path string
	line int
	msg  string
}

func (e *convError) Error() string { return e.msg }

// jsonWriter turns a yaml.Node tree into compact JSON in a single walk.
type jsonWriter struct {
	buf    []byte
	budget int // output size limit, defends against alias bombs
	rec    *recorder
	stack  []pathSeg
	depth  int
}

func (w *jsonWriter) fail(n *yaml.Node, line int, msg string) error {
	if line == 0 && n != nil {
		line = n.Line
	}
	return &convError{path: formatPath(w.stack), line: line, msg: msg}
}

// value writes n. line is the line that names the value (its key's line
// for mapping values), used for error locations.
func (w *jsonWriter) value(n *yaml.Node, line int) error {
	if line == 0 {
		line = n.Line
	}
	if len(w.buf) > w.budget {
		return w.fail(n, line, "document too large after expanding YAML aliases")
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		return w.fail(n, line, "nesting too deep (or an alias refers to itself)")
	}
	start := len(w.buf)
	var err error
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return w.fail(n, line, "unknown YAML alias")
		}
		// The alias stands for the anchored node; keep the alias's line.
		return w.value(n.Alias, line)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		return w.value(n.Content[0], line)
	case yaml.MappingNode:
		err = w.mapping(n)
	case yaml.SequenceNode:
		err = w.sequence(n)
	case yaml.ScalarNode:
		err = w.scalar(n, line)
	default:
		return w.fail(n, line, "unsupported YAML node")
	}
	if err != nil {
		return err
	}
	if w.rec != nil {
		w.rec.spans = append(w.rec.spans, span{start: start, end: len(w.buf), path: formatPath(w.stack), line: line, node: n})
	}
	return nil
}

type pair struct{ key, val *yaml.Node }

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "tag:yaml.org,2002:merge")
}

// pairs returns the key/value pairs of a mapping, applying YAML merge keys
// ("<<"): explicit keys win over merged ones, earlier merges over later.
func (w *jsonWriter) pairs(n *yaml.Node) ([]pair, error) {
	out := make([]pair, 0, len(n.Content)/2)
	hasMerge := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(n.Content[i]) {
			hasMerge = true
			continue
		}
		out = append(out, pair{n.Content[i], n.Content[i+1]})
	}
	if !hasMerge {
		return out, nil
	}
	seen := make(map[string]bool, len(out))
	for _, p := range out {
		seen[p.key.Value] = true
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		return nil, w.fail(n, 0, "nesting too deep (or an alias refers to itself)")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMergeKey(n.Content[i]) {
			continue
		}
		src := resolveAlias(n.Content[i+1])
		var sources []*yaml.Node
		switch {
		case src == nil:
			return nil, w.fail(n.Content[i], 0, "invalid YAML merge key")
		case src.Kind == yaml.MappingNode:
			sources = []*yaml.Node{src}
		case src.Kind == yaml.SequenceNode:
			for _, s := range src.Content {
				sources = append(sources, resolveAlias(s))
			}
		default:
			return nil, w.fail(n.Content[i], 0, "YAML merge key (<<) must refer to a mapping or a list of mappings")
		}
		for _, s := range sources {
			if s == nil || s.Kind != yaml.MappingNode {
				return nil, w.fail(n.Content[i], 0, "YAML merge key (<<) must refer to a mapping or a list of mappings")
			}
			merged, err := w.pairs(s)
			if err != nil {
				return nil, err
			}
			for _, p := range merged {
				if seen[p.key.Value] {
					continue
				}
				seen[p.key.Value] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (w *jsonWriter) mapping(n *yaml.Node) error {
	ps, err := w.pairs(n)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, '{')
	for i, p := range ps {
		k := resolveAlias(p.key)
		if k == nil || k.Kind != yaml.ScalarNode {
			return w.fail(p.key, 0, "mapping keys must be strings")
		}
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		// Non-string keys (80: x, true: y) become their text, as
		// sigs.k8s.io/yaml does.
		w.buf = appendJSONString(w.buf, k.Value)
		w.buf = append(w.buf, ':')
		w.stack = append(w.stack, pathSeg{key: k.Value, index: -1})
		if err := w.value(p.val, p.key.Line); err != nil {
			return err
		}
		w.stack = w.stack[:len(w.stack)-1]
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *jsonWriter) sequence(n *yaml.Node) error {
	w.buf = append(w.buf, '[')
	for i, c := range n.Content {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.stack = append(w.stack, pathSeg{index: i})
		if err := w.value(c, 0); err != nil {
			return err
		}
		w.stack = w.stack[:len(w.stack)-1]
	}
	w.buf = append(w.buf, ']')
	return nil
}

func (w *jsonWriter) scalar(n *yaml.Node, line int) error {
	tag := n.Tag
	if tag == "" || tag == "!" {
		tag = n.ShortTag()
	}
	switch tag {
	case "!!null", "tag:yaml.org,2002:null":
		w.buf = append(w.buf, "null"...)
	case "!!bool", "tag:yaml.org,2002:bool":
		switch n.Value {
		case "true", "True", "TRUE":
			w.buf = append(w.buf, "true"...)
		case "false", "False", "FALSE":
			w.buf = append(w.buf, "false"...)
		default:
			var b bool
			if err := n.Decode(&b); err != nil {
				return w.fail(n, line, "invalid boolean")
			}
			w.buf = strconv.AppendBool(w.buf, b)
		}
	case "!!int", "tag:yaml.org,2002:int":
		if isDecimalInt(n.Value) {
			w.buf = append(w.buf, n.Value...)
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return w.fail(n, line, "invalid integer")
		}
		switch x := v.(type) {
		case int:
			w.buf = strconv.AppendInt(w.buf, int64(x), 10)
		case int64:
			w.buf = strconv.AppendInt(w.buf, x, 10)
		case uint64:
			w.buf = strconv.AppendUint(w.buf, x, 10)
		case float64:
			return w.appendFloat(n, line, x)
		default:
			return w.fail(n, line, "invalid integer")
		}
	case "!!float", "tag:yaml.org,2002:float":
		if isJSONNumber(n.Value) {
			w.buf = append(w.buf, n.Value...)
			return nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return w.fail(n, line, "invalid number")
		}
		return w.appendFloat(n, line, f)
	default:
		// Strings, timestamps, binary and custom tags keep their text.
		w.buf = appendJSONString(w.buf, n.Value)
	}
	return nil
}

func (w *jsonWriter) appendFloat(n *yaml.Node, line int, f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return w.fail(n, line, "infinity and NaN cannot be represented in JSON")
	}
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
	return nil
}

func isDecimalInt(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether s is already a valid JSON number literal.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD
// like encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// toJSON converts one YAML node to JSON. budget caps the output size.
func toJSON(n *yaml.Node, budget int, rec *recorder) ([]byte, error) {
	w := &jsonWriter{budget: budget, rec: rec, buf: make([]byte, 0, 1024)}
	if err := w.value(n, 0); err != nil {
		return nil, err
	}
	if rec != nil {
		rec.json = w.buf
	}
	return w.buf, nil
}
