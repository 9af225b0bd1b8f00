package ir

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Every string of the IR ends up in Envoy's configuration: names, domains,
// paths, header names and values, regular expressions, addresses, SNI,
// bodies. A control character in one of them is at best a broken config
// and at worst an injection (CR LF in a header value, a NUL truncating a
// name in Envoy's C++). The loader refuses them in input (package
// validate); this check makes sure none reaches xds whatever the path, by
// looking at every string field, including the ones added after it was
// written (the fields are found by reflection).
//
// Fields tagged `ir:"text"` hold documents (PEM bundles, response
// bodies, scripts): tab, LF and CR are allowed there, nothing else.
// []byte fields are binary data (certificates and keys as read from
// Secrets) and are not checked.

// tnode says how to walk a value of one type in memory. The walk reads
// memory through offsets computed once per type with reflect (the IR of
// 10,000 routes has about a million fields, and reflect.Value costs
// several times more per field); maps and interfaces, which the IR does
// not use today, go through reflect.
type tnode struct {
	typ    reflect.Type
	kind   reflect.Kind
	fields []tfield // struct
	elem   *tnode   // pointer, slice, array
	size   uintptr  // element size for slices and arrays
	length int      // array length
}

type tfield struct {
	offset uintptr
	name   string
	text   bool // `ir:"text"`
	node   *tnode
}

var (
	tnodesMu sync.Mutex
	tnodes   = map[reflect.Type]*tnode{}
)

// tnodeFor returns the walk plan of t; nil when nothing under t can hold
// a string.
func tnodeFor(t reflect.Type) *tnode {
	tnodesMu.Lock()
	defer tnodesMu.Unlock()
	return buildTnode(t)
}

func buildTnode(t reflect.Type) *tnode {
	if n, ok := tnodes[t]; ok {
		return n
	}
	if !mayHoldString(t, map[reflect.Type]bool{}) {
		tnodes[t] = nil
		return nil
	}
	n := &tnode{typ: t, kind: t.Kind()}
	tnodes[t] = n // before the fields: recursive types point back to it
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if c := buildTnode(f.Type); c != nil {
				n.fields = append(n.fields, tfield{offset: f.Offset, name: f.Name, text: f.Tag.Get("ir") == "text", node: c})
			}
		}
	case reflect.Pointer:
		n.elem = buildTnode(t.Elem())
	case reflect.Slice, reflect.Array:
		n.elem = buildTnode(t.Elem())
		n.size = t.Elem().Size()
		if t.Kind() == reflect.Array {
			n.length = t.Len()
		}
	}
	return n
}

// mayHoldString prunes the walk: durations, counters and flags are skipped.
func mayHoldString(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true // recursive type: it is a struct, assume so
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String:
		return true
	case reflect.Pointer, reflect.Array:
		return mayHoldString(t.Elem(), seen)
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8 && mayHoldString(t.Elem(), seen)
	case reflect.Map:
		return mayHoldString(t.Key(), seen) || mayHoldString(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && mayHoldString(t.Field(i).Type, seen) {
				return true
			}
		}
	case reflect.Interface:
		return true
	}
	return false
}

// controlError describes the first control character of s, or "".
func controlError(s string, text bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("invalid UTF-8 at byte %d", i)
		case text && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return fmt.Sprintf("control character %U at byte %d", r, i)
		}
		i += size
	}
	return ""
}

// textWalker walks a value; the path is kept as segments and only turned
// into a string for a report (the IR of 10,000 routes has about a million
// fields).
type textWalker struct {
	segs   []pathSeg
	report func(path, msg string)
}

type pathSeg struct {
	name string // field name, or "" for an index
	idx  int
}

func (w *textWalker) path() string {
	b := make([]byte, 0, 64)
	for _, s := range w.segs {
		if s.name == "" {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.idx), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.name...)
	}
	return string(b)
}

// walk reports each string under p (of type n) holding a control
// character.
func (w *textWalker) walk(p unsafe.Pointer, n *tnode, text bool) {
	switch n.kind {
	case reflect.String:
		if msg := controlError(*(*string)(p), text); msg != "" {
			w.report(w.path(), msg)
		}
	case reflect.Pointer:
		if q := *(*unsafe.Pointer)(p); q != nil && n.elem != nil {
			w.walk(q, n.elem, text)
		}
	case reflect.Slice, reflect.Array:
		if n.elem == nil {
			return
		}
		data, length := p, n.length
		if n.kind == reflect.Slice {
			data, length = unsafe.Pointer(unsafe.SliceData(*(*[]byte)(p))), len(*(*[]byte)(p))
		}
		for i := 0; i < length; i++ {
			w.segs = append(w.segs, pathSeg{idx: i})
			w.walk(unsafe.Add(data, uintptr(i)*n.size), n.elem, text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	case reflect.Struct:
		for _, f := range n.fields {
			w.segs = append(w.segs, pathSeg{name: f.name})
			w.walk(unsafe.Add(p, f.offset), f.node, f.text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	default: // maps, interfaces: rare, through reflect
		w.walkValue(reflect.NewAt(n.typ, p).Elem(), text)
	}
}

// walkValue is walk for values reached through reflect.
func (w *textWalker) walkValue(v reflect.Value, text bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.walkValue(v.Elem(), text)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.segs = append(w.segs, pathSeg{name: "{" + fmt.Sprint(it.Key().Interface()) + "}"})
			w.walkValue(it.Key(), text)
			w.walkValue(it.Value(), text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	default:
		if n := tnodeFor(v.Type()); n != nil {
			if !v.CanAddr() {
				c := reflect.New(v.Type()).Elem()
				c.Set(v)
				v = c
			}
			w.walk(v.Addr().UnsafePointer(), n, text)
		}
	}
}

var proxyPlan = sync.OnceValue(func() *tnode { return tnodeFor(reflect.TypeFor[Proxy]()) })

// validateText reports the control characters anywhere in the proxy.
func (p *Proxy) validateText() []error {
	var errs []error
	w := &textWalker{segs: make([]pathSeg, 0, 16), report: func(path, msg string) {
		errs = append(errs, fmt.Errorf("proxy %s: %s: %s", p.Name, path, msg))
	}}
	w.walk(unsafe.Pointer(p), proxyPlan(), false)
	return errs
}
