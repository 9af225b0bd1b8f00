package validate

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The loader hands over each object as the compact JSON it strict-decodes.
// Validation walks that JSON directly, as a flat tree of spans into the
// bytes: decoding it again into maps and interfaces would cost as much as
// the strict decode itself, and most of the walk only needs to look at
// scalars. Values are decoded (into the maps CEL needs) only for the rare
// subtrees whose rules are not already known to pass.

// Kinds of JSON values.
const (
	jObject = 'o'
	jArray  = 'a'
	jString = 's'
	jNumber = 'n'
	jTrue   = 't'
	jFalse  = 'f'
	jNull   = 'z'
)

// jnode is one JSON value: buf[start:end] is its text. Object members and
// array elements are linked through first and next (-1 ends a list); an
// object member's key is buf[keyStart:keyEnd] (quotes excluded).
type jnode struct {
	kind             byte
	keyEsc, esc      bool // the key / string value holds escapes
	start, end       int32
	keyStart, keyEnd int32
	first, next      int32
	count            int32 // members or elements
}

// jtree is a parsed document; it is reused across objects.
type jtree struct {
	buf   []byte
	nodes []jnode
	depth int
	// ctrl is set when a string or key holds a control character
	// (written as an escape: the JSON writers never emit them raw).
	ctrl bool
}

var errJSON = errors.New("malformed JSON")

// maxJSONDepth matches the loader's nesting limit.
const maxJSONDepth = 512

func (t *jtree) parse(buf []byte) error {
	t.buf = buf
	t.nodes = t.nodes[:0]
	t.depth = 0
	t.ctrl = false
	i, err := t.value(skipWS(buf, 0))
	if err != nil {
		return err
	}
	if skipWS(buf, i) != len(buf) {
		return errJSON
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// value parses the value at i, appends its node and returns the offset past it.
func (t *jtree) value(i int) (int, error) {
	b := t.buf
	if i >= len(b) {
		return 0, errJSON
	}
	idx := len(t.nodes)
	t.nodes = append(t.nodes, jnode{start: int32(i), first: -1, next: -1})
	switch c := b[i]; {
	case c == '{':
		t.depth++
		if t.depth > maxJSONDepth {
			return 0, errJSON
		}
		t.nodes[idx].kind = jObject
		i = skipWS(b, i+1)
		last := int32(-1)
		if i < len(b) && b[i] == '}' {
			i++
		} else {
			for {
				if i >= len(b) || b[i] != '"' {
					return 0, errJSON
				}
				ks := i + 1
				ke, esc, ctrl, err := scanString(b, i)
				if err != nil {
					return 0, err
				}
				t.ctrl = t.ctrl || ctrl
				i = skipWS(b, ke+1)
				if i >= len(b) || b[i] != ':' {
					return 0, errJSON
				}
				child := int32(len(t.nodes))
				if i, err = t.value(skipWS(b, i+1)); err != nil {
					return 0, err
				}
				n := &t.nodes[child]
				n.keyStart, n.keyEnd, n.keyEsc = int32(ks), int32(ke), esc
				if last < 0 {
					t.nodes[idx].first = child
				} else {
					t.nodes[last].next = child
				}
				last = child
				t.nodes[idx].count++
				i = skipWS(b, i)
				if i < len(b) && b[i] == ',' {
					i = skipWS(b, i+1)
					continue
				}
				if i < len(b) && b[i] == '}' {
					i++
					break
				}
				return 0, errJSON
			}
		}
		t.depth--
	case c == '[':
		t.depth++
		if t.depth > maxJSONDepth {
			return 0, errJSON
		}
		t.nodes[idx].kind = jArray
		i = skipWS(b, i+1)
		last := int32(-1)
		if i < len(b) && b[i] == ']' {
			i++
		} else {
			for {
				child := int32(len(t.nodes))
				var err error
				if i, err = t.value(i); err != nil {
					return 0, err
				}
				if last < 0 {
					t.nodes[idx].first = child
				} else {
					t.nodes[last].next = child
				}
				last = child
				t.nodes[idx].count++
				i = skipWS(b, i)
				if i < len(b) && b[i] == ',' {
					i = skipWS(b, i+1)
					continue
				}
				if i < len(b) && b[i] == ']' {
					i++
					break
				}
				return 0, errJSON
			}
		}
		t.depth--
	case c == '"':
		end, esc, ctrl, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		t.ctrl = t.ctrl || ctrl
		t.nodes[idx].kind = jString
		t.nodes[idx].esc = esc
		i = end + 1
	case c == 't':
		if !hasLit(b, i, "true") {
			return 0, errJSON
		}
		t.nodes[idx].kind = jTrue
		i += 4
	case c == 'f':
		if !hasLit(b, i, "false") {
			return 0, errJSON
		}
		t.nodes[idx].kind = jFalse
		i += 5
	case c == 'n':
		if !hasLit(b, i, "null") {
			return 0, errJSON
		}
		t.nodes[idx].kind = jNull
		i += 4
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		t.nodes[idx].kind = jNumber
		i = j
	default:
		return 0, errJSON
	}
	t.nodes[idx].end = int32(i)
	return i, nil
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// scanString finds the closing quote of the string opening at b[i]. It
// reports whether the string holds escapes and whether one of them is a
// control character other than tab, newline and carriage return.
func scanString(b []byte, i int) (end int, esc, ctrl bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j, esc, ctrl, nil
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return 0, false, false, errJSON
			}
			j++
			switch b[j] {
			case 'u':
				if j+4 >= len(b) {
					return 0, false, false, errJSON
				}
				v, perr := strconv.ParseUint(string(b[j+1:j+5]), 16, 16)
				if perr != nil {
					return 0, false, false, errJSON
				}
				if isForbiddenControl(rune(v)) {
					ctrl = true
				}
				j += 4
			case 'b', 'f':
				ctrl = true
			}
		case c < 0x20 || c == 0x7f:
			ctrl = true
		case c == 0xc2 && j+1 < len(b) && b[j+1] >= 0x80 && b[j+1] <= 0x9f:
			ctrl = true // a C1 control, U+0080..U+009F in UTF-8
		}
	}
	return 0, false, false, errJSON
}

// isForbiddenControl reports the characters no manifest string may hold:
// the C0 controls but tab, newline and carriage return, DEL, and the C1
// controls. Nothing in Gateway API or Envoy Gateway objects needs them,
// and in a header, path or name that reaches Envoy they split or
// truncate what Envoy sees.
func isForbiddenControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// str returns the string value of a jString node. Without escapes it
// aliases the buffer: it must not outlive the validation of the object.
func (t *jtree) str(n *jnode) string {
	raw := t.buf[n.start+1 : n.end-1]
	if !n.esc {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	return unescape(raw)
}

// key returns an object member's key (same lifetime rule as str).
func (t *jtree) key(n *jnode) string {
	raw := t.buf[n.keyStart:n.keyEnd]
	if !n.keyEsc {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	return unescape(raw)
}

// index is the position of n in the tree.
func (t *jtree) index(n *jnode) int {
	return int((uintptr(unsafe.Pointer(n)) - uintptr(unsafe.Pointer(&t.nodes[0]))) / unsafe.Sizeof(jnode{}))
}

// raw is the node's JSON text.
func (t *jtree) raw(n *jnode) []byte { return t.buf[n.start:n.end] }

// child finds an object member by key.
func (t *jtree) child(n *jnode, key string) *jnode {
	for c := n.first; c >= 0; c = t.nodes[c].next {
		if t.key(&t.nodes[c]) == key {
			return &t.nodes[c]
		}
	}
	return nil
}

// unescape decodes the body of a JSON string with escapes.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(raw) {
				return string(out)
			}
			v, _ := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16)
			i += 4
			r := rune(v)
			if utf16.IsSurrogate(r) && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				v2, _ := strconv.ParseUint(string(raw[i+3:i+7]), 16, 16)
				if d := utf16.DecodeRune(r, rune(v2)); d != utf8.RuneError {
					r = d
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
		default: // \" \\ \/
			out = append(out, raw[i])
		}
	}
	return string(out)
}
