package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	sigsjson "sigs.k8s.io/json"
)

// This file turns decoder failures into errors that point at a line and a
// field path. None of it runs while input is valid.

func (c *docCtx) syntaxError(ch chunk, err error) {
	line, msg := yamlErrorLine(err)
	if l := firstBadLine(ch.data); l > 0 {
		line = l
	}
	if line == 0 {
		line = 1
	}
	c.errorf(line, "", "", "invalid YAML: %s", msg)
}

// maxBisect bounds the chunk size for which firstBadLine re-parses.
const maxBisect = 1 << 20

// firstBadLine finds the first line at which the YAML text stops parsing,
// by bisecting over line prefixes. yaml.v3 reports the line where the
// enclosing mapping started (and 0-based at that), which is often far from
// the mistake. 0 means not found.
func firstBadLine(data []byte) int {
	if len(data) > maxBisect {
		return 0
	}
	var ends []int // ends[i] is the offset just past line i+1
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(k int) bool { // do the first k lines fail to parse?
		dec := yaml.NewDecoder(bytes.NewReader(data[:ends[k-1]]))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == io.EOF {
				return false
			}
			if err != nil {
				return true
			}
		}
	}
	lo, hi := 0, len(ends) // fails(lo) is false (empty), fails(hi) is true
	if !fails(hi) {
		return 0
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine pulls the line out of a yaml.v3 error message.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if l, e := strconv.Atoi(m[1]); e == nil {
			return l, m[2]
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// maxTypeErrors bounds how many wrong-type values are reported per object.
const maxTypeErrors = 20

// decodeErrors turns what the strict decoder reported into located
// errors. It runs only on failure: the document is converted again, this
// time recording which YAML line produced each JSON value.
//
// The JSON decoder stops reporting after the first wrong-type value and
// then drops its strict (unknown/duplicate field) findings, so each
// wrong-type value is reported, replaced by null, and the object decoded
// again; this way one run shows every problem of the object.
func (c *docCtx) decodeErrors(n *yaml.Node, info *kindInfo, disp string, strict []error, err error) {
	for round := 0; ; round++ {
		rec := &recorder{}
		if _, cerr := toJSON(n, c.budget, rec); cerr != nil {
			c.convError(cerr, disp)
			return
		}
		if round > 0 {
			_, strict, err = info.decode(rec.json)
		}
		if err == nil {
			c.strictErrors(n, rec, disp, strict)
			return
		}
		bad := -1 // span of the value to blank out before the next round
		var te *json.UnmarshalTypeError
		var ce *conversionError
		var be base64.CorruptInputError
		switch {
		case errors.As(err, &te):
			pos := int(te.Offset) - 1
			for i, s := range rec.spans {
				if s.start <= pos && pos < s.end && (bad < 0 || s.end-s.start < rec.spans[bad].end-rec.spans[bad].start) {
					bad = i
				}
			}
			path, line := "", n.Line
			if bad >= 0 {
				path, line = rec.spans[bad].path, rec.spans[bad].line
			}
			c.errorf(line, disp, path, "expected %s, got %s", describeType(te.Type), describeValue(te.Value))
		case errors.As(err, &ce):
			c.errorf(n.Line, disp, "", "%s", ce.msg)
		case errors.As(err, &be):
			bad = findBadBase64(rec, info)
			path, line := "", n.Line
			if bad >= 0 {
				path, line = rec.spans[bad].path, rec.spans[bad].line
			}
			c.errorf(line, disp, path, "invalid base64 data")
		default:
			// A type's own UnmarshalJSON failed (a quantity, a time...);
			// the decoder does not say where, so search for it.
			msg := strings.TrimPrefix(err.Error(), "json: ")
			if info.kind == "Secret" {
				msg = "invalid value (details hidden because this is a Secret)"
			}
			path, line := "", n.Line
			if found := c.locateOpaque(n, info, err.Error()); found != nil {
				for i, s := range rec.spans {
					if s.node == found {
						bad, path, line = i, s.path, s.line
						break
					}
				}
			}
			c.errorf(line, disp, path, "%s", msg)
		}
		if bad < 0 || rec.spans[bad].path == "" || round+1 >= maxTypeErrors {
			return
		}
		// Blank the value out in place (the tree is ours and used once).
		*rec.spans[bad].node = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: rec.spans[bad].node.Line}
	}
}

func (c *docCtx) strictErrors(n *yaml.Node, rec *recorder, disp string, strict []error) {
	byPath := make(map[string]int, len(rec.spans))
	for _, s := range rec.spans {
		byPath[s.path] = s.line
	}
	lineOf := func(path string) int {
		for p := path; p != ""; p = parentPath(p) {
			if l, ok := byPath[p]; ok {
				return l
			}
		}
		return n.Line
	}
	for _, e := range strict {
		var fe sigsjson.FieldError
		if !errors.As(e, &fe) {
			c.errorf(n.Line, disp, "", "%s", e.Error())
			continue
		}
		path := fe.FieldPath()
		msg := e.Error()
		if i := strings.Index(msg, " \""); i > 0 {
			msg = msg[:i] // `unknown field "a.b"` → "unknown field"
		}
		c.errorf(lineOf(path), disp, path, "%s", msg)
	}
}

// findBadBase64 finds the binary field that failed to decode (the JSON
// decoder reports this error without a location) and returns its span.
func findBadBase64(rec *recorder, info *kindInfo) int {
	var prefix string
	switch {
	case info.group == "" && info.kind == "Secret":
		prefix = "data."
	case info.group == "" && info.kind == "ConfigMap":
		prefix = "binaryData."
	default:
		return -1
	}
	for i, s := range rec.spans {
		if !strings.HasPrefix(s.path, prefix) || strings.Contains(s.path[len(prefix):], ".") {
			continue
		}
		var str string
		if json.Unmarshal(rec.json[s.start:s.end], &str) != nil {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(str); err != nil {
			return i
		}
	}
	return -1
}

// parentPath drops the last segment of a field path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func describeType(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64 string"
		}
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// describeValue names the kind of a JSON value, dropping the value itself
// ("number 42" → "number") so no data is echoed.
func describeValue(v string) string {
	switch {
	case strings.HasPrefix(v, "number"):
		return "number"
	case v == "bool":
		return "boolean"
	case v == "array":
		return "list"
	}
	return v
}

// maxProbes and maxProbeBytes bound the decodes locateOpaque may spend on
// one error, so a huge object cannot make an error slow to report.
const (
	maxProbes     = 2000
	maxProbeBytes = 64 << 20
)

// locateOpaque finds the value behind a decode error that carries no
// position: walking down from the root, it blanks out one child at a time
// and descends into the child whose removal makes that error go away.
// It returns the innermost such node, or nil.
func (c *docCtx) locateOpaque(root *yaml.Node, info *kindInfo, target string) *yaml.Node {
	probes, work := 0, 0
	stillFails := func() bool {
		probes++
		data, err := toJSON(root, c.budget, nil)
		work += len(data)
		if err != nil {
			return true
		}
		_, _, derr := info.decode(data)
		return derr != nil && derr.Error() == target
	}
	var found *yaml.Node
	cur := root
	for depth := 0; depth < maxDepth && cur != nil; depth++ {
		var children []*yaml.Node
		switch cur.Kind {
		case yaml.MappingNode:
			for i := 1; i < len(cur.Content); i += 2 {
				children = append(children, cur.Content[i])
			}
		case yaml.SequenceNode:
			children = cur.Content
		}
		var next *yaml.Node
		for _, ch := range children {
			if probes >= maxProbes || work >= maxProbeBytes {
				return found
			}
			saved := *ch
			*ch = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: saved.Line}
			fails := stillFails()
			*ch = saved
			if !fails {
				next = resolveAlias(ch)
				break
			}
		}
		if next == nil {
			break
		}
		found, cur = next, next
	}
	return found
}
