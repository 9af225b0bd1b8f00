package ir

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Every string of the IR ends up in Envoy's configuration: names, domains,
// paths, header names and values, regular expressions, addresses, SNI,
// bodies. A control character in one of them is at best a broken config
// and at worst an injection (CR LF in a header value, a NUL truncating a
// name in Envoy's C++). The loader refuses them in input (package
// validate); this check makes sure none reaches xds whatever the path, by
// looking at every string field, including the ones added after it was
// written, through reflection.
//
// Fields tagged `ir:"text"` hold documents (PEM bundles, response
// bodies, scripts): tab, LF and CR are allowed there, nothing else.
// []byte fields are binary data (certificates and keys as read from
// Secrets) and are not checked.

// textPlan is what to check in one struct type.
type textPlan struct {
	fields []textField
}

type textField struct {
	index int
	name  string
	text  bool // `ir:"text"`
}

var textPlans sync.Map // reflect.Type → *textPlan

func planFor(t reflect.Type) *textPlan {
	if p, ok := textPlans.Load(t); ok {
		return p.(*textPlan)
	}
	p := &textPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || !mayHoldString(f.Type, map[reflect.Type]bool{}) {
			continue
		}
		p.fields = append(p.fields, textField{index: i, name: f.Name, text: f.Tag.Get("ir") == "text"})
	}
	textPlans.Store(t, p)
	return p
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
	plans  map[reflect.Type]*textPlan // planFor, without its lock
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

// walk reports each string under v holding a control character.
func (w *textWalker) walk(v reflect.Value, text bool) {
	switch v.Kind() {
	case reflect.String:
		if msg := controlError(v.String(), text); msg != "" {
			w.report(w.path(), msg)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), text)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			w.segs = append(w.segs, pathSeg{idx: i})
			w.walk(v.Index(i), text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.segs = append(w.segs, pathSeg{name: "{" + fmt.Sprint(it.Key().Interface()) + "}"})
			w.walk(it.Key(), text)
			w.walk(it.Value(), text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	case reflect.Struct:
		t := v.Type()
		plan := w.plans[t]
		if plan == nil {
			plan = planFor(t)
			w.plans[t] = plan
		}
		for _, f := range plan.fields {
			w.segs = append(w.segs, pathSeg{name: f.name})
			w.walk(v.Field(f.index), f.text)
			w.segs = w.segs[:len(w.segs)-1]
		}
	}
}

// validateText reports the control characters anywhere in the proxy.
func (p *Proxy) validateText() []error {
	var errs []error
	w := &textWalker{segs: make([]pathSeg, 0, 16), plans: map[reflect.Type]*textPlan{}, report: func(path, msg string) {
		errs = append(errs, fmt.Errorf("proxy %s: %s: %s", p.Name, path, msg))
	}}
	w.walk(reflect.ValueOf(p).Elem(), false)
	return errs
}
