package validate

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Doc is one object's JSON, parsed once into the flat tree validation
// walks. The loader parses each object into a Doc, decodes the typed object
// from it (Decode) and validates it (Object.Doc) without reading the text
// again. A Doc is reused from object to object; it aliases the bytes it
// parsed.
type Doc struct{ t jtree }

// Parse reads b, which must stay unchanged while the Doc is used.
func (d *Doc) Parse(b []byte) error {
	if err := d.t.parse(b); err != nil {
		d.t.nodes = d.t.nodes[:0] // nothing half-parsed is used
		return err
	}
	return nil
}

// Decode stores the document in v, a non-nil pointer to a struct, exactly
// as sigs.k8s.io/json's UnmarshalStrict would store it when that reports
// neither an error nor a strict error (an unknown or duplicate field), and
// reports true. It reports false whenever UnmarshalStrict might say
// anything else, or the input or the type uses what this decoder does not
// implement (interfaces, []byte, arrays, ",string" fields, text
// unmarshalers, embedded pointers, field names that conflict, escapes it
// does not handle, ...): the caller then discards v and decodes with
// UnmarshalStrict, which produces the errors. It is about four times
// faster than UnmarshalStrict because the text is not scanned again and
// every type's plan is computed once.
//
// Strings that need no unescaping share one copy of the document's text:
// an object holds its text for as long as it holds any of its strings.
func (d *Doc) Decode(v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || len(d.t.nodes) == 0 {
		return false
	}
	if d.t.nodes[0].kind != jObject {
		return false
	}
	// The pointer's decoder: it sees an Unmarshaler on *T, as
	// encoding/json does at the top level.
	st := decState{t: &d.t}
	return decoderOf(rv.Type()).decode(&st, &d.t.nodes[0], rv)
}

// decState is one Decode call.
type decState struct {
	t *jtree
	// text is the document's text as one string, made the first time a
	// string value is stored.
	text string
}

// str returns a string node's value, or false for escapes this decoder
// leaves to encoding/json.
func (st *decState) str(n *jnode) (string, bool) {
	return st.quoted(n.start+1, n.end-1, n.esc)
}

func (st *decState) key(n *jnode) (string, bool) {
	return st.quoted(n.keyStart, n.keyEnd, n.keyEsc)
}

func (st *decState) quoted(start, end int32, esc bool) (string, bool) {
	raw := st.t.buf[start:end]
	if esc {
		return unquoteStrict(raw)
	}
	if !plainOK(raw) {
		return "", false
	}
	if st.text == "" {
		st.text = string(st.t.buf)
	}
	return st.text[start:end], true
}

// plainOK reports whether a string body without escapes is valid JSON
// that encoding/json copies as it is.
func plainOK(raw []byte) bool {
	for _, c := range raw {
		if c < 0x20 {
			return false // invalid JSON: let encoding/json say so
		}
		if c >= 0x80 {
			return utf8.Valid(raw) // else encoding/json substitutes U+FFFD
		}
	}
	return true
}

// valid reports whether the subtree at n is JSON encoding/json accepts
// (jtree checks the structure, not the strings and numbers): what an
// Unmarshaler is handed must be, as encoding/json checks the whole input
// before decoding any of it.
func (st *decState) valid(n *jnode) bool {
	t := st.t
	switch n.kind {
	case jString:
		raw := t.buf[n.start+1 : n.end-1]
		if n.esc {
			_, ok := unquoteStrict(raw)
			return ok
		}
		return plainOK(raw)
	case jNumber:
		return validNumber(t.raw(n))
	case jObject, jArray:
		for ci := n.first; ci >= 0; ci = t.nodes[ci].next {
			c := &t.nodes[ci]
			if n.kind == jObject {
				if _, ok := st.key(c); !ok {
					return false
				}
			}
			if !st.valid(c) {
				return false
			}
		}
	}
	return true
}

// unquoteStrict decodes a string body with escapes: the usual one-letter
// escapes and \u outside the surrogate range.
func unquoteStrict(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c < 0x20:
			return "", false
		case c >= 0x80:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", false
			}
			out = append(out, raw[i:i+size]...)
			i += size - 1
			continue
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		i++
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return "", false
			}
			v, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16)
			if err != nil || (v >= 0xd800 && v <= 0xdfff) {
				return "", false
			}
			out = utf8.AppendRune(out, rune(v))
			i += 4
		default:
			return "", false
		}
	}
	return string(out), true
}

// validNumber is JSON's number grammar, which jtree does not check.
func validNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[json.Number]()
)

// typeDec decodes into one type; fn is nil for a type this decoder does
// not handle. It is reached through a pointer so that recursive types can
// refer to themselves while being built.
type typeDec struct {
	fn func(st *decState, n *jnode, v reflect.Value) bool
}

func (d *typeDec) decode(st *decState, n *jnode, v reflect.Value) bool {
	return d.fn != nil && d.fn(st, n, v)
}

var (
	decCache sync.Map // reflect.Type → *typeDec
	decMu    sync.Mutex
	building = map[reflect.Type]*typeDec{}
)

func decoderOf(t reflect.Type) *typeDec {
	if d, ok := decCache.Load(t); ok {
		return d.(*typeDec)
	}
	decMu.Lock()
	defer decMu.Unlock()
	return buildDec(t)
}

// buildDec runs under decMu.
func buildDec(t reflect.Type) *typeDec {
	if d, ok := decCache.Load(t); ok {
		return d.(*typeDec)
	}
	if d := building[t]; d != nil {
		return d // recursive type: filled in when its build finishes
	}
	d := &typeDec{}
	building[t] = d
	d.fn = makeDec(t)
	delete(building, t)
	decCache.Store(t, d)
	return d
}

type decFn = func(st *decState, n *jnode, v reflect.Value) bool

// makeDec mirrors what encoding/json's indirect and literalStore do for a
// value of type t, reached through an addressable reflect.Value.
func makeDec(t reflect.Type) decFn {
	if t.Kind() == reflect.Pointer {
		return makePtrDec(t)
	}
	// encoding/json looks for methods on the address of a named value,
	// and on the value itself for an unnamed one.
	mt := t
	if t.Name() != "" {
		mt = reflect.PointerTo(t)
	}
	if mt.Implements(unmarshalerType) {
		if t.Name() == "" {
			return nil
		}
		// Called for null too: encoding/json only skips it for pointers.
		return func(st *decState, n *jnode, v reflect.Value) bool {
			if !st.valid(n) {
				return false
			}
			u := v.Addr().Interface().(json.Unmarshaler)
			return u.UnmarshalJSON(st.t.raw(n)) == nil
		}
	}
	if mt.Implements(textUnmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return makeStructDec(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // base64
		}
		return makeSliceDec(t)
	case reflect.Map:
		return makeMapDec(t)
	case reflect.String:
		if t == numberType {
			return nil
		}
		return func(st *decState, n *jnode, v reflect.Value) bool {
			switch n.kind {
			case jNull:
				return true
			case jString:
				s, ok := st.str(n)
				if ok {
					v.SetString(s)
				}
				return ok
			}
			return false
		}
	case reflect.Bool:
		return func(st *decState, n *jnode, v reflect.Value) bool {
			switch n.kind {
			case jNull:
			case jTrue:
				v.SetBool(true)
			case jFalse:
				v.SetBool(false)
			default:
				return false
			}
			return true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(st *decState, n *jnode, v reflect.Value) bool {
			switch n.kind {
			case jNull:
				return true
			case jNumber:
				raw := st.t.raw(n)
				if !validNumber(raw) {
					return false
				}
				x, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(raw), len(raw)), 10, 64)
				if err != nil || v.OverflowInt(x) {
					return false
				}
				v.SetInt(x)
				return true
			}
			return false
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(st *decState, n *jnode, v reflect.Value) bool {
			switch n.kind {
			case jNull:
				return true
			case jNumber:
				raw := st.t.raw(n)
				if !validNumber(raw) {
					return false
				}
				x, err := strconv.ParseUint(unsafe.String(unsafe.SliceData(raw), len(raw)), 10, 64)
				if err != nil || v.OverflowUint(x) {
					return false
				}
				v.SetUint(x)
				return true
			}
			return false
		}
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(st *decState, n *jnode, v reflect.Value) bool {
			switch n.kind {
			case jNull:
				return true
			case jNumber:
				raw := st.t.raw(n)
				if !validNumber(raw) {
					return false
				}
				x, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), bits)
				if err != nil || v.OverflowFloat(x) {
					return false
				}
				v.SetFloat(x)
				return true
			}
			return false
		}
	}
	return nil // interfaces, arrays, channels, functions, complex numbers
}

func makePtrDec(t reflect.Type) decFn {
	et := t.Elem()
	if et.Kind() == reflect.Pointer || et.Kind() == reflect.Interface {
		return nil
	}
	if t.Implements(unmarshalerType) {
		return func(st *decState, n *jnode, v reflect.Value) bool {
			if n.kind == jNull {
				v.SetZero()
				return true
			}
			if !st.valid(n) {
				return false
			}
			if v.IsNil() {
				v.Set(reflect.New(et))
			}
			return v.Interface().(json.Unmarshaler).UnmarshalJSON(st.t.raw(n)) == nil
		}
	}
	if t.Implements(textUnmarshalerType) {
		return nil
	}
	ed := buildDec(et)
	return func(st *decState, n *jnode, v reflect.Value) bool {
		if n.kind == jNull {
			v.SetZero()
			return true
		}
		if v.IsNil() {
			v.Set(reflect.New(et))
		}
		return ed.decode(st, n, v.Elem())
	}
}

func makeSliceDec(t reflect.Type) decFn {
	ed := buildDec(t.Elem())
	return func(st *decState, n *jnode, v reflect.Value) bool {
		switch n.kind {
		case jNull:
			v.SetZero()
			return true
		case jArray:
		default:
			return false
		}
		if n.count == 0 {
			v.Set(reflect.MakeSlice(t, 0, 0)) // empty, not nil
			return true
		}
		// Grown in place: MakeSlice would allocate a header too.
		v.Grow(int(n.count))
		v.SetLen(int(n.count))
		i := 0
		for ci := n.first; ci >= 0; ci = st.t.nodes[ci].next {
			if !ed.decode(st, &st.t.nodes[ci], v.Index(i)) {
				return false
			}
			i++
		}
		return true
	}
}

func makeMapDec(t reflect.Type) decFn {
	kt := t.Key()
	if kt.Kind() != reflect.String || reflect.PointerTo(kt).Implements(textUnmarshalerType) {
		return nil
	}
	et := t.Elem()
	ed := buildDec(et)
	return func(st *decState, n *jnode, v reflect.Value) bool {
		switch n.kind {
		case jNull:
			v.SetZero()
			return true
		case jObject:
		default:
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, int(n.count)))
		}
		for ci := n.first; ci >= 0; ci = st.t.nodes[ci].next {
			c := &st.t.nodes[ci]
			k, ok := st.key(c)
			if !ok {
				return false
			}
			kv := reflect.ValueOf(k)
			if kt != kv.Type() {
				kv = kv.Convert(kt)
			}
			if v.MapIndex(kv).IsValid() {
				return false // a duplicate key: a strict error
			}
			ev := reflect.New(et).Elem()
			if !ed.decode(st, c, ev) {
				return false
			}
			v.SetMapIndex(kv, ev)
		}
		return true
	}
}

// structField is one JSON member of a struct: the path to it through
// embedded structs (never through a pointer), and its position in the
// struct's list (for the duplicate check).
type structField struct {
	index []int
	pos   int
	dec   *typeDec
}

type namedField struct {
	name string
	f    *structField
}

func makeStructDec(t reflect.Type) decFn {
	fields := map[string]*structField{}
	if !collectFields(t, nil, fields) {
		return nil
	}
	for _, f := range fields {
		f.dec = buildDec(t.FieldByIndex(f.index).Type)
	}
	count := len(fields)
	// Most structs have a few fields: comparing the key with each name
	// (lengths first) is faster than hashing it.
	var list []namedField
	if count <= 16 {
		for name, f := range fields {
			list = append(list, namedField{name, f})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].f.pos < list[j].f.pos })
	}
	lookup := func(key []byte) *structField {
		if list == nil {
			return fields[string(key)]
		}
		for i := range list {
			if len(list[i].name) == len(key) && list[i].name == string(key) {
				return list[i].f
			}
		}
		return nil
	}
	return func(st *decState, n *jnode, v reflect.Value) bool {
		switch n.kind {
		case jNull:
			return true // ignored, as for any non-pointer
		case jObject:
		default:
			return false
		}
		var seen uint64
		var seenMore []bool
		for ci := n.first; ci >= 0; ci = st.t.nodes[ci].next {
			c := &st.t.nodes[ci]
			var f *structField
			if c.keyEsc {
				k, ok := st.key(c)
				if !ok {
					return false
				}
				f = fields[k]
			} else {
				f = lookup(st.t.buf[c.keyStart:c.keyEnd])
			}
			if f == nil {
				return false // an unknown field (names match case-sensitively)
			}
			if f.pos < 64 {
				if seen&(1<<f.pos) != 0 {
					return false
				}
				seen |= 1 << f.pos
			} else {
				if seenMore == nil {
					seenMore = make([]bool, count)
				}
				if seenMore[f.pos] {
					return false
				}
				seenMore[f.pos] = true
			}
			fv := v
			if len(f.index) == 1 {
				fv = v.Field(f.index[0])
			} else {
				fv = v.FieldByIndex(f.index)
			}
			if !f.dec.decode(st, c, fv) {
				return false
			}
		}
		return true
	}
}

// collectFields lists t's JSON members as encoding/json names them. It
// reports false for what it does not mirror: two members of the same name
// (encoding/json's dominance rules), embedded pointers, ",string", tag
// names outside the plain alphabet.
func collectFields(t reflect.Type, prefix []int, out map[string]*structField) bool {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		ft := sf.Type
		tag := sf.Tag.Get("json")
		if sf.Anonymous {
			if ft.Kind() == reflect.Pointer {
				return false
			}
			if !sf.IsExported() && tag != "" && tag != "-" {
				return false // named unexported embedded field: not settable
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for o := range strings.SplitSeq(opts, ",") {
			if o == "string" {
				return false
			}
		}
		if !plainName(name) {
			return false
		}
		index := append(append([]int(nil), prefix...), i)
		if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
			if !collectFields(ft, index, out) {
				return false
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if out[name] != nil {
			return false
		}
		out[name] = &structField{index: index, pos: len(out)}
	}
	return true
}

// plainName: letters, digits, '-', '_' and '.', which encoding/json
// accepts as a tag name as written.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
