package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/egctl/egctl/resource"
)

// chunk is a slice of a YAML file holding one or more whole documents.
// lineOff is the number of file lines before it.
type chunk struct {
	data    []byte
	lineOff int
	single  bool // holds at most one document (cut at markers)
}

// unit is the piece of work one goroutine does: some YAML chunks, or
// documents already parsed from JSON, all from one source.
type unit struct {
	src    *source
	chunks []chunk
	docs   []*yaml.Node // pre-parsed JSON documents (lines are absolute)
	err    *Error       // a parse error found while splitting
}

// unitTarget is the rough amount of YAML one unit parses; enough to make
// scheduling overhead negligible, small enough to spread work evenly.
const unitTarget = 64 << 10

// jsonDocsPerUnit groups pre-parsed JSON documents for decoding.
const jsonDocsPerUnit = 64

// split cuts a source into units. YAML is cut at document markers ("---"
// and "..." at the start of a line): YAML forbids those sequences inside
// any scalar, so the cut never changes the meaning of the text and lets
// documents be parsed in parallel.
func split(src *source) []*unit {
	data := src.data
	isJSON := strings.EqualFold(filepath.Ext(src.name), ".json")
	if isJSON || looksLikeJSON(data) {
		docs, err := parseJSONStream(data)
		switch {
		case err == nil:
			var units []*unit
			for len(docs) > 0 {
				n := min(jsonDocsPerUnit, len(docs))
				units = append(units, &unit{src: src, docs: docs[:n:n]})
				docs = docs[n:]
			}
			return units
		case isJSON:
			err.Origin.File = src.name
			err.fileIndex = src.index
			return []*unit{{src: src, err: err}}
		}
		// Not JSON after all (a YAML flow mapping, say): read it as YAML.
	}
	return splitYAML(src)
}

func looksLikeJSON(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		default:
			return false
		}
	}
	return false
}

func splitYAML(src *source) []*unit {
	data := src.data
	var units []*unit
	cur := &unit{src: src}
	curSize := 0
	chunkStart, chunkLine := 0, 0
	line := 0
	flush := func(end int) {
		if end > chunkStart {
			cur.chunks = append(cur.chunks, chunk{data: data[chunkStart:end], lineOff: chunkLine, single: true})
			curSize += end - chunkStart
		}
		if curSize >= unitTarget {
			units = append(units, cur)
			cur = &unit{src: src}
			curSize = 0
		}
	}
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		l := data[off:next]
		switch {
		case len(l) > 0 && l[0] == '%':
			// Directives apply to the document that follows; keep the
			// file whole rather than reason about them.
			return []*unit{{src: src, chunks: []chunk{{data: data}}}}
		case isMarker(l, "---"):
			flush(off)
			chunkStart, chunkLine = off, line
		case isMarker(l, "..."):
			flush(next)
			chunkStart, chunkLine = next, line+1
		}
		line++
		off = next
	}
	flush(len(data))
	if len(cur.chunks) > 0 {
		units = append(units, cur)
	}
	return units
}

// isMarker reports whether line starts with the document marker m followed
// by white space or the end of the line.
func isMarker(line []byte, m string) bool {
	if len(line) < 3 || string(line[:3]) != m {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' || line[3] == '\n'
}

// jsonParser builds yaml.Node trees from a JSON stream so that JSON and
// YAML share one decoding path, with line numbers.
type jsonParser struct {
	dec      *json.Decoder
	data     []byte
	newlines []int
	depth    int
}

func (p *jsonParser) lineAt(off int) int {
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return sort.SearchInts(p.newlines, off) + 1
}

var badCharRE = regexp.MustCompile(`invalid character '(?:[^'\\]|\\.)+'`)

var errTooDeep = errors.New("nesting too deep")

func parseJSONStream(data []byte) ([]*yaml.Node, *Error) {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		// A byte order mark is not JSON; blank it out, keeping offsets.
		data = append([]byte("   "), data[3:]...)
	}
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	for i, c := range data {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	var docs []*yaml.Node
	for {
		line := p.lineAt(int(p.dec.InputOffset()))
		tok, err := p.dec.Token()
		if err == io.EOF {
			return docs, nil
		}
		var n *yaml.Node
		if err == nil {
			n, err = p.value(tok, line)
		}
		if err != nil {
			return nil, p.syntaxError(err)
		}
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Line: n.Line, Content: []*yaml.Node{n}})
	}
}

func (p *jsonParser) syntaxError(err error) *Error {
	var se *json.SyntaxError
	off := len(p.data)
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
		if off > 0 {
			off-- // Offset is just past the bad byte
		}
	case err == io.ErrUnexpectedEOF:
		msg = "unexpected end of input"
	}
	// The offending character could be part of Secret data: leave it out.
	msg = badCharRE.ReplaceAllString(msg, "unexpected character")
	return &Error{Origin: resource.Origin{Line: sort.SearchInts(p.newlines, off) + 1}, Message: "invalid JSON: " + msg}
}

func (p *jsonParser) value(tok json.Token, line int) (*yaml.Node, error) {
	switch t := tok.(type) {
	case json.Delim:
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, errTooDeep
		}
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
			for p.dec.More() {
				kline := p.lineAt(int(p.dec.InputOffset()))
				ktok, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := ktok.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				vline := p.lineAt(int(p.dec.InputOffset()))
				vtok, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := p.value(vtok, vline)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: kline}, v)
			}
			if _, err := p.dec.Token(); err != nil { // '}'
				return nil, err
			}
			if len(n.Content) > 0 {
				n.Line = n.Content[0].Line // like YAML: the line of the first key
			}
			return n, nil
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
			for p.dec.More() {
				vline := p.lineAt(int(p.dec.InputOffset()))
				vtok, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := p.value(vtok, vline)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			if _, err := p.dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, errors.New("unexpected delimiter")
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Line: line, Style: yaml.DoubleQuotedStyle}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v, Line: line}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
	return nil, errors.New("unexpected token")
}
