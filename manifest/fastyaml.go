package manifest

import (
	"strings"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"

	"github.com/egctl/egctl/validate"
)

// This file is a fast path for the YAML most manifests are written in:
// block mappings and sequences, one-line plain and quoted scalars, empty
// flow collections ("{}", "[]"), comments and a leading "---". Such a document is turned straight into
// the JSON the strict decoder reads, without building a yaml.Node tree,
// which is where yaml.v3 spends most of its time and allocations.
//
// The fast path is only an optimisation: whenever the text uses anything
// else (anchors, tags, other flow collections, block scalars, multi-line
// scalars, tabs, non-ASCII, odd indentation...) or the document does not
// decode cleanly, it reports failure and the document goes through the
// yaml.v3 path, which produces every message and line number. Scalars are
// typed by the very code yaml.v3 and toJSON use, so both paths yield
// identical JSON (fastyaml_test.go checks this on every corpus and by
// fuzzing).

// fastMaxDepth is far below maxDepth; deeper documents take the slow path.
const fastMaxDepth = 64

// fastMaxKey mirrors yaml.v3's limit on simple keys (1024 characters).
const fastMaxKey = 1000

// fastLine is one line of the document: data[start:end] without the
// newline, indent leading spaces, and whether it holds no content.
type fastLine struct {
	start, end, indent int
	empty              bool // blank or comment only
}

// fastHeader is what readHeader would find, for the fast path.
type fastHeader struct {
	apiVersion, kind, name, namespace string
	seen                              uint8 // bits: apiVersion, kind, name, namespace
	bad                               bool  // something readHeader would treat differently
}

// fastParser converts one document; it is reused across the documents of
// a unit so its buffers are allocated once.
type fastParser struct {
	data  []byte
	lines []fastLine
	li    int // current line
	w     jsonWriter
	tmp   yaml.Node // scalar handed to jsonWriter.scalar for typing
	sbuf  []byte    // unescaped quoted scalar
	hdr   fastHeader
	doc   validate.Doc // the JSON, parsed
	strs  map[string]string
	meta  bool // parsing the root's metadata value
	line  int  // 1-based line of the root mapping's first key
}

// fastAbort aborts the fast path; it never reaches users.
type fastAbort struct{}

// parse converts data (one document) to JSON in p.w.buf. It reports false
// when the document is outside the fast subset or its root is not a
// mapping.
func (p *fastParser) parse(data []byte) (ok bool) {
	p.data = data
	p.w.buf = p.w.buf[:0]
	p.w.stack = p.w.stack[:0]
	p.w.rec = nil
	p.w.budget = 1 << 62
	p.hdr = fastHeader{}
	p.meta = false
	if !p.splitLines() {
		return false
	}
	p.li = 0
	if len(p.lines) > 0 {
		// A leading "---" marker, possibly with a comment after it.
		l := p.lines[0]
		s := data[l.start:l.end]
		if len(s) >= 3 && string(s[:3]) == "---" {
			rest := trimSpaces(s[3:])
			if len(rest) > 0 && (rest[0] != '#' || len(s) == 3 || s[3] != ' ') {
				return false
			}
			p.li = 1
		}
	}
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(fastAbort); !is {
				panic(r)
			}
			ok = false
		}
	}()
	p.skip()
	if p.li >= len(p.lines) {
		return false // empty document: the slow path handles it cheaply
	}
	l := p.lines[p.li]
	if l.indent != 0 || !p.isKeyAt(p.li, 0) {
		return false
	}
	p.line = p.li + 1
	p.mapping(0, 0)
	p.skip()
	if p.li < len(p.lines) || p.hdr.bad {
		return false
	}
	return true
}

func fail() { panic(fastAbort{}) }

// splitLines fills p.lines, rejecting bytes the fast path does not handle.
func (p *fastParser) splitLines() bool {
	p.lines = p.lines[:0]
	data := p.data
	start := 0
	for i := 0; i <= len(data); i++ {
		if i < len(data) {
			c := data[i]
			if c != '\n' {
				if c < 0x20 || c >= 0x7f {
					return false // tabs, CR, control and non-ASCII bytes
				}
				continue
			}
		}
		if i == len(data) && start == i {
			break
		}
		ind := start
		for ind < i && data[ind] == ' ' {
			ind++
		}
		empty := ind == i || data[ind] == '#'
		if !empty && i-start >= 3 && (string(data[start:start+3]) == "..." || (string(data[start:start+3]) == "---" && len(p.lines) > 0)) {
			return false
		}
		p.lines = append(p.lines, fastLine{start: start, end: i, indent: ind - start, empty: empty})
		start = i + 1
	}
	return true
}

func ltrim(s []byte) []byte {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

func trimSpaces(s []byte) []byte {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// skip moves past blank and comment lines.
func (p *fastParser) skip() {
	for p.li < len(p.lines) && p.lines[p.li].empty {
		p.li++
	}
}

func (p *fastParser) text(li, col int) []byte {
	l := p.lines[li]
	return p.data[l.start+col : l.end]
}

func isDash(s []byte) bool { return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ') }

// isKeyAt reports whether the text at line li, column col starts with a
// "key:" the fast path can read.
func (p *fastParser) isKeyAt(li, col int) bool {
	s := p.text(li, col)
	if len(s) == 0 || isDash(s) {
		return false
	}
	_, _, ok := p.scanKey(s)
	return ok
}

// plainStart reports whether c may begin a plain scalar (next is the
// following byte, 0 at the end).
func plainStart(c, next byte) bool {
	switch c {
	case '-':
		return next != ' ' && next != 0
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// scanKey reads the key at the start of s. It returns the key text (for
// quoted keys, possibly unescaped into p.sbuf), the rest of the
// line after the colon, and whether s starts with a key.
func (p *fastParser) scanKey(s []byte) (key []byte, rest []byte, ok bool) {
	switch s[0] {
	case '\'', '"':
		v, n, ok := p.quoted(s)
		if !ok || n >= len(s) || s[n] != ':' || (n+1 < len(s) && s[n+1] != ' ') {
			return nil, nil, false
		}
		return v, s[n+1:], true
	}
	var next byte
	if len(s) > 1 {
		next = s[1]
	}
	if !plainStart(s[0], next) {
		return nil, nil, false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':':
			if i+1 == len(s) || s[i+1] == ' ' {
				k := s[:i]
				if k[len(k)-1] == ' ' || len(k) > fastMaxKey || string(k) == "<<" {
					return nil, nil, false
				}
				return k, s[i+1:], true
			}
			return nil, nil, false // "a:b: c" is legal but rare: slow path
		case '#':
			if s[i-1] == ' ' {
				return nil, nil, false
			}
		}
	}
	return nil, nil, false
}

// quoted reads a one-line quoted scalar at the start of s, returning its
// value (in p.sbuf or aliasing s), the length consumed and success.
func (p *fastParser) quoted(s []byte) ([]byte, int, bool) {
	q := s[0]
	p.sbuf = p.sbuf[:0]
	plain := true // value is s[1:i] verbatim so far
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q && q == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				if plain {
					p.sbuf = append(p.sbuf[:0], s[1:i]...)
					plain = false
				}
				p.sbuf = append(p.sbuf, '\'')
				i++
				continue
			}
			if plain {
				return s[1:i], i + 1, true
			}
			return p.sbuf, i + 1, true
		case c == q:
			if plain {
				return s[1:i], i + 1, true
			}
			return p.sbuf, i + 1, true
		case c == '\\' && q == '"':
			if plain {
				p.sbuf = append(p.sbuf[:0], s[1:i]...)
				plain = false
			}
			if i+1 >= len(s) {
				return nil, 0, false
			}
			i++
			switch s[i] {
			case '\\', '"':
				p.sbuf = append(p.sbuf, s[i])
			case 'n':
				p.sbuf = append(p.sbuf, '\n')
			case 't':
				p.sbuf = append(p.sbuf, '\t')
			case 'r':
				p.sbuf = append(p.sbuf, '\r')
			default:
				return nil, 0, false
			}
		default:
			if !plain {
				p.sbuf = append(p.sbuf, c)
			}
		}
	}
	return nil, 0, false // not closed on this line
}

// endOK reports whether what follows a quoted scalar is only spaces and
// maybe a comment.
func endOK(rest []byte) bool {
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ' ' {
		return false
	}
	rest = trimSpaces(rest)
	return len(rest) == 0 || rest[0] == '#'
}

func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// scalar writes the one-line scalar s (a value, not a key) and returns
// whether it is a string, and its text, for the header.
func (p *fastParser) scalar(s []byte) (isStr bool, val []byte) {
	if s[0] == '{' || s[0] == '[' {
		// The empty flow collections "{}" and "[]" (Envoy Gateway's
		// "gzip: {}") are the only flow syntax taken here.
		if len(s) < 2 || s[1] != s[0]+2 || !endOK(s[2:]) {
			fail()
		}
		p.w.buf = append(p.w.buf, s[:2]...)
		return false, s[:2]
	}
	if s[0] == '\'' || s[0] == '"' {
		v, n, ok := p.quoted(s)
		if !ok || !endOK(s[n:]) {
			fail()
		}
		p.w.buf = appendJSONString(p.w.buf, bstr(v))
		return true, v
	}
	var next byte
	if len(s) > 1 {
		next = s[1]
	}
	if !plainStart(s[0], next) {
		fail()
	}
	end := len(s)
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case ':':
			if i+1 == len(s) || s[i+1] == ' ' {
				fail() // "a: b: c" is an error; let yaml.v3 say so
			}
		case '#':
			if s[i-1] == ' ' {
				end = i
				i = len(s)
			}
		}
	}
	v := s[:end]
	for len(v) > 0 && v[len(v)-1] == ' ' {
		v = v[:len(v)-1]
	}
	switch {
	case !strings.ContainsRune(resolveHints, rune(v[0])):
		// yaml.v3's resolver reads every other first byte as a string
		// without looking further; skipping it saves an allocation.
		p.w.buf = appendJSONString(p.w.buf, bstr(v))
		return true, v
	case strings.IndexByte("yYnNtTfFoO~<", v[0]) >= 0 && !resolveMapped(v):
		// For these first bytes the resolver only looks the whole
		// value up in its table of keywords.
		p.w.buf = appendJSONString(p.w.buf, bstr(v))
		return true, v
	case isSmallDecimal(v):
		p.w.buf = append(p.w.buf, v...)
		return false, v
	}
	// Tag it exactly as yaml.v3's parser tags a plain scalar.
	p.tmp = yaml.Node{Kind: yaml.ScalarNode, Value: bstr(v)}
	p.tmp.Tag = p.tmp.ShortTag()
	start := len(p.w.buf)
	if err := p.w.scalar(&p.tmp, 0); err != nil {
		fail()
	}
	p.tmp.Value = ""
	return p.w.buf[start] == '"', v
}

// resolveMapped reports the keywords of yaml.v3's resolver table that
// begin with a letter, '~' or '<' (booleans, nulls, the merge key).
func resolveMapped(v []byte) bool {
	switch string(v) {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~", "<<":
		return true
	}
	return false
}

// resolveHints are the first bytes for which yaml.v3's resolver considers
// anything but a string (numbers, booleans, nulls, .inf, the merge key).
const resolveHints = "+-0123456789yYnNtTfFoO~<."

// isSmallDecimal reports whether s is a decimal integer yaml.v3 reads as
// an int and toJSON copies verbatim: no sign, no leading zero, no
// underscore, too short to overflow or to be a timestamp.
func isSmallDecimal(s []byte) bool {
	if len(s) == 0 || len(s) > 18 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// value writes the value that follows "key:" or "- " on line p.li, whose
// inline text is rest (already without leading spaces). col is the
// column of the enclosing collection; compactOK allows a sequence at col
// itself (a mapping value written as "key:\n- item").
func (p *fastParser) value(rest []byte, col, valCol, depth int, compactOK bool) (isScalar, isStr bool, val []byte) {
	if len(rest) == 0 || rest[0] == '#' {
		p.li++
		p.skip()
		if p.li < len(p.lines) {
			ind := p.lines[p.li].indent
			switch {
			case ind > col:
				p.block(p.li, ind, depth+1)
				return false, false, nil
			case ind == col && compactOK && isDash(p.text(p.li, ind)):
				p.sequence(col, depth+1, true)
				return false, false, nil
			}
		}
		p.w.buf = append(p.w.buf, "null"...)
		return false, false, nil
	}
	if isDash(rest) {
		if compactOK {
			fail() // "key: - a" is an error
		}
		p.sequence(valCol, depth+1, false)
		return false, false, nil
	}
	if !compactOK && p.isKeyAt(p.li, valCol) {
		p.mapping(valCol, depth+1)
		return false, false, nil
	}
	isStr, val = p.scalar(rest)
	p.li++
	return true, isStr, val
}

// block parses the collection starting at line li, column col.
func (p *fastParser) block(li, col, depth int) {
	s := p.text(li, col)
	switch {
	case isDash(s):
		p.sequence(col, depth, false)
	case p.isKeyAt(li, col):
		p.mapping(col, depth)
	default:
		fail() // a scalar on its own line(s)
	}
}

// next reports whether the collection at col continues on the next
// content line; it aborts on indentation yaml.v3 would reject or read
// differently.
func (p *fastParser) next(col int) bool {
	p.skip()
	if p.li >= len(p.lines) {
		return false
	}
	ind := p.lines[p.li].indent
	if ind > col {
		fail()
	}
	return ind == col
}

func (p *fastParser) mapping(col, depth int) {
	if depth > fastMaxDepth {
		fail()
	}
	p.w.buf = append(p.w.buf, '{')
	first := true
	for {
		s := p.text(p.li, col)
		if len(s) == 0 || isDash(s) {
			fail()
		}
		key, rest, ok := p.scanKey(s)
		if !ok {
			fail()
		}
		if !first {
			p.w.buf = append(p.w.buf, ',')
		}
		first = false
		p.w.buf = appendJSONString(p.w.buf, bstr(key))
		p.w.buf = append(p.w.buf, ':')
		field := -1
		switch {
		case depth == 0:
			switch string(key) {
			case "apiVersion":
				field = 0
			case "kind":
				field = 1
			case "metadata":
				p.meta = true
			}
		case depth == 1 && p.meta:
			switch string(key) {
			case "name":
				field = 2
			case "namespace":
				field = 3
			}
		}
		rest = ltrim(rest)
		valCol := col + (len(s) - len(rest))
		isScalar, isStr, val := p.value(rest, col, valCol, depth, true)
		if depth == 0 {
			p.meta = false
		}
		if field >= 0 {
			p.setHeader(field, isScalar && isStr, val)
		}
		if !p.next(col) {
			break
		}
	}
	p.w.buf = append(p.w.buf, '}')
}

// setHeader records an apiVersion, kind, name or namespace. Anything
// but one string value (null, a number, a collection, a repeated key)
// is left to the slow path, whose readHeader has its own rules.
func (p *fastParser) setHeader(field int, isStr bool, val []byte) {
	bit := uint8(1) << field
	if !isStr || p.hdr.seen&bit != 0 {
		p.hdr.bad = true
		return
	}
	p.hdr.seen |= bit
	var v string
	if field == 2 {
		v = string(val) // names are seldom repeated
	} else {
		v = p.intern(val)
	}
	switch field {
	case 0:
		p.hdr.apiVersion = v
	case 1:
		p.hdr.kind = v
	case 2:
		p.hdr.name = v
	case 3:
		p.hdr.namespace = v
	}
}

// intern returns val as a string, the same one for the same bytes: a
// run has a few apiVersions, kinds and namespaces.
func (p *fastParser) intern(val []byte) string {
	if s, ok := p.strs[string(val)]; ok {
		return s
	}
	s := string(val)
	if len(p.strs) < 1024 {
		if p.strs == nil {
			p.strs = map[string]string{}
		}
		p.strs[s] = s
	}
	return s
}

func (p *fastParser) sequence(col, depth int, compact bool) {
	if depth > fastMaxDepth {
		fail()
	}
	p.w.buf = append(p.w.buf, '[')
	first := true
	meta := p.meta
	p.meta = false // metadata's own fields are only those of a mapping
	for {
		s := p.text(p.li, col)
		if !isDash(s) {
			if compact && !first {
				break
			}
			fail()
		}
		if !first {
			p.w.buf = append(p.w.buf, ',')
		}
		first = false
		rest := ltrim(s[1:])
		valCol := col + (len(s) - len(rest))
		p.value(rest, col, valCol, depth, false)
		if !p.next(col) {
			break
		}
	}
	p.meta = meta
	p.w.buf = append(p.w.buf, ']')
}
