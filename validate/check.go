package validate

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/kube-openapi/pkg/validation/strfmt"
)

// FieldError is one problem with one field. Path reads like the loader's
// own paths ("spec.rules[0].matches[0].path.value"; "" for the object).
// Message never holds a string value of the object, except an enum
// value (one of a few words) and names, which are never secret.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) String() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// pathSeg is a step of the current path: an object key or a list index.
type pathSeg struct {
	key string // aliases the object's JSON: copy before keeping
	idx int    // -1 for a key
}

func (s *Session) pathString() string {
	var b strings.Builder
	for _, p := range s.path {
		if p.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.key)
	}
	return b.String()
}

func (s *Session) errorf(format string, args ...any) {
	s.errs = append(s.errs, FieldError{Path: s.pathString(), Message: fmt.Sprintf(format, args...)})
}

func (s *Session) push(key string) { s.path = append(s.path, pathSeg{key: key, idx: -1}) }
func (s *Session) pushIndex(i int) { s.path = append(s.path, pathSeg{idx: i}) }
func (s *Session) pop()            { s.path = s.path[:len(s.path)-1] }

// walk validates v against n, then everything below it. It is the API
// server's structural validation (kube-openapi's, on a defaulted object),
// the list-type checks and the CEL rules, in one pass.
func (s *Session) walk(n *node, v *jnode) {
	if v.kind == jNull {
		// A null where null is not allowed is dropped by the API server
		// (or replaced by the default) before validation; whether the
		// field was required is its parent's concern.
		return
	}
	if !s.typeOK(n, v) {
		return
	}
	switch v.kind {
	case jString:
		s.checkString(n, v)
	case jNumber:
		s.checkNumber(n, v)
	case jTrue, jFalse:
		if len(n.enum) > 0 {
			s.checkEnum(n, v.kind == jTrue)
		}
	case jObject:
		s.checkObject(n, v)
	case jArray:
		s.checkArray(n, v)
	}
	if n.nested {
		s.checkNested(n, v)
	}
	if n.cel != nil {
		s.checkCEL(n, v)
	}
}

func kindName(k byte) string {
	switch k {
	case jObject:
		return "object"
	case jArray:
		return "array"
	case jString:
		return "string"
	case jNumber:
		return "number"
	case jTrue, jFalse:
		return "boolean"
	}
	return "null"
}

func (s *Session) typeOK(n *node, v *jnode) bool {
	if n.intOrStr {
		if v.kind == jString || (v.kind == jNumber && s.isInteger(v)) {
			return true
		}
		s.errorf("must be an integer or a string, got %s", kindName(v.kind))
		return false
	}
	ok := true
	switch n.typ {
	case "":
		return true
	case "object":
		ok = v.kind == jObject
	case "array":
		ok = v.kind == jArray
	case "string":
		ok = v.kind == jString
	case "boolean":
		ok = v.kind == jTrue || v.kind == jFalse
	case "number":
		ok = v.kind == jNumber
	case "integer":
		ok = v.kind == jNumber && s.isInteger(v)
	}
	if !ok {
		got := kindName(v.kind)
		if v.kind == jNumber && n.typ == "integer" {
			got = "a number with a fraction"
		}
		s.errorf("must be of type %s, got %s", n.typ, got)
	}
	return ok
}

func (s *Session) isInteger(v *jnode) bool {
	raw := s.tree.raw(v)
	if bytes.IndexAny(raw, ".eE") < 0 {
		return true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return err == nil && f == math.Trunc(f) && !math.IsInf(f, 0)
}

func (s *Session) checkString(n *node, v *jnode) {
	str := s.tree.str(v)
	if v.esc && !n.lineBreaks && hasLineBreak(str) {
		s.errorf("must not contain a line break (CR or LF)")
	}
	vv := n.vv
	if vv == nil && len(n.enum) == 0 {
		return
	}
	if len(n.enum) > 0 && !enumHasString(n.enum, str) {
		s.checkEnum(n, str)
	}
	if vv == nil {
		return
	}
	if vv.MaxLength != nil || vv.MinLength != nil {
		l := int64(utf8.RuneCountInString(str))
		if vv.MaxLength != nil && l > *vv.MaxLength {
			s.errorf("Too long: may not be more than %d characters", *vv.MaxLength)
		}
		if vv.MinLength != nil && l < *vv.MinLength {
			s.errorf("must be at least %d characters long", *vv.MinLength)
		}
	}
	if n.pattern != nil {
		ok, err := n.pattern.match(str)
		if err != nil {
			s.errorf("the CRD's pattern %q does not compile: %v", n.pattern.src, err)
		} else if !ok {
			s.errorf("should match '%s'", n.pattern.src)
		}
	}
	if f := vv.Format; f != "" && !formatOK(f, str) {
		s.errorf("must be of format %s", f)
	}
}

// supportedFormats are the string formats the API server checks (the
// others are dropped from CRD schemas before validation), with dashes
// removed as kube-openapi normalises them.
var supportedFormats = map[string]bool{
	"bsonobjectid": true, "uri": true, "email": true, "hostname": true, "ipv4": true, "ipv6": true,
	"cidr": true, "mac": true, "uuid": true, "uuid3": true, "uuid4": true, "uuid5": true,
	"isbn": true, "isbn10": true, "isbn13": true, "creditcard": true, "ssn": true, "hexcolor": true,
	"rgbcolor": true, "byte": true, "password": true, "date": true, "duration": true, "datetime": true,
}

func formatOK(format, s string) bool {
	if !supportedFormats[strings.ReplaceAll(format, "-", "")] {
		return true
	}
	return strfmt.Default.Validates(format, s)
}

func (s *Session) checkNumber(n *node, v *jnode) {
	vv := n.vv
	if vv == nil && len(n.enum) == 0 {
		return
	}
	raw := s.tree.raw(v)
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !math.IsInf(f, 0) {
		s.errorf("not a number")
		return
	}
	if len(n.enum) > 0 {
		s.checkEnum(n, f)
	}
	if vv == nil {
		return
	}
	if n.typ == "integer" && vv.Format == "int32" && (f > math.MaxInt32 || f < math.MinInt32) {
		s.errorf("must be a 32-bit integer, got %s", raw)
		return
	}
	if vv.Maximum != nil {
		if m := *vv.Maximum; f > m || (vv.ExclusiveMaximum && f == m) {
			op := "less than or equal to"
			if vv.ExclusiveMaximum {
				op = "less than"
			}
			s.errorf("must be %s %s, got %s", op, fmtNum(m), raw)
		}
	}
	if vv.Minimum != nil {
		if m := *vv.Minimum; f < m || (vv.ExclusiveMinimum && f == m) {
			op := "greater than or equal to"
			if vv.ExclusiveMinimum {
				op = "greater than"
			}
			s.errorf("must be %s %s, got %s", op, fmtNum(m), raw)
		}
	}
	if vv.MultipleOf != nil && *vv.MultipleOf != 0 {
		if q := f / *vv.MultipleOf; q != math.Trunc(q) {
			s.errorf("must be a multiple of %s", fmtNum(*vv.MultipleOf))
		}
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// enumHasString is checkEnum's test for a string, without boxing it (an
// allocation per value).
func enumHasString(enum []any, str string) bool {
	for _, e := range enum {
		if es, ok := e.(string); ok && es == str {
			return true
		}
	}
	return false
}

// checkEnum compares a scalar with the enum (numbers as float64).
func (s *Session) checkEnum(n *node, val any) {
	for _, e := range n.enum {
		if scalarEqual(e, val) {
			return
		}
	}
	shown := make([]string, 0, len(n.enum))
	for _, e := range n.enum {
		shown = append(shown, quoteShort(e))
	}
	s.errorf("Unsupported value: %s: supported values: %s", quoteShort(val), strings.Join(shown, ", "))
}

func scalarEqual(a, b any) bool {
	af, aNum := toFloat(a)
	bf, bNum := toFloat(b)
	if aNum || bNum {
		return aNum && bNum && af == bf
	}
	return a == b
}

func toFloat(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	}
	return 0, false
}

// quoteShort quotes an enum candidate; a value that long is no enum word.
func quoteShort(x any) string {
	switch v := x.(type) {
	case string:
		if len(v) > 64 {
			v = v[:61] + "..."
		}
		return strconv.Quote(v)
	case float64:
		return fmtNum(v)
	}
	return fmt.Sprint(x)
}

func (s *Session) checkObject(n *node, v *jnode) {
	t := s.tree
	if vv := n.vv; vv != nil {
		if vv.MaxProperties != nil && int64(v.count) > *vv.MaxProperties {
			s.errorf("Too many: %d: must have at most %d properties", v.count, *vv.MaxProperties)
		}
		if vv.MinProperties != nil && int64(v.count) < *vv.MinProperties {
			s.errorf("must have at least %d properties", *vv.MinProperties)
		}
	}
	for _, r := range n.required {
		c := t.child(v, r)
		if c == nil || (c.kind == jNull && !n.prop(r).nullableOrNil()) {
			s.push(r)
			s.errorf("Required value")
			s.pop()
		}
	}
	for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
		c := &t.nodes[ci]
		k := t.key(c)
		if c.keyEsc && !n.lineBreaks && hasLineBreak(k) {
			s.push(k)
			s.errorf("must not contain a line break (CR or LF) in its key")
			s.pop()
		}
		if n.resourceRoot {
			switch k {
			case "metadata", "status":
				// metadata is checked as ObjectMeta (meta.go); the API
				// server resets status on create.
				continue
			}
		}
		s.push(k)
		switch p := n.prop(k); {
		case p != nil:
			s.walk(p, c)
		case n.addl != nil:
			s.walk(n.addl, c)
		case n.preserve || n.props == nil && n.typ == "":
			// x-kubernetes-preserve-unknown-fields, or no schema at all
		default:
			s.errorf("unknown field")
		}
		s.pop()
	}
}

func (p *node) nullableOrNil() bool { return p != nil && p.nullable }

func (s *Session) checkArray(n *node, v *jnode) {
	t := s.tree
	if vv := n.vv; vv != nil {
		if vv.MaxItems != nil && int64(v.count) > *vv.MaxItems {
			s.errorf("Too many: %d: must have at most %d items", v.count, *vv.MaxItems)
		}
		if vv.MinItems != nil && int64(v.count) < *vv.MinItems {
			s.errorf("must have at least %d items", *vv.MinItems)
		}
		if vv.UniqueItems || n.listType == "set" {
			s.checkUnique(v)
		}
	} else if n.listType == "set" {
		s.checkUnique(v)
	}
	if n.listType == "map" && len(n.mapKeys) > 0 {
		s.checkMapKeys(n, v)
	}
	if n.items == nil {
		return
	}
	i := 0
	for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
		s.pushIndex(i)
		if c := &t.nodes[ci]; c.kind == jNull && !n.items.nullable && !n.items.intOrStr && n.items.typ != "" {
			// Nulls are dropped from objects before validation, not
			// from lists.
			s.errorf("must be of type %s, got null", n.items.typ)
		} else {
			s.walk(n.items, c)
		}
		s.pop()
		i++
	}
}

// checkUnique: x-kubernetes-list-type set (and uniqueItems) holds no
// value twice. Items are compared by their JSON text, which the loader
// writes canonically.
func (s *Session) checkUnique(v *jnode) {
	t := s.tree
	if v.count < 2 {
		return
	}
	seen := make(map[string]bool, v.count)
	i := 0
	for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
		raw := t.raw(&t.nodes[ci])
		if seen[string(raw)] {
			s.pushIndex(i)
			s.errorf("Duplicate value")
			s.pop()
		}
		seen[string(raw)] = true
		i++
	}
}

// checkMapKeys: x-kubernetes-list-type map holds no two items with the
// same key fields (a missing key field takes its default).
func (s *Session) checkMapKeys(n *node, v *jnode) {
	t := s.tree
	if v.count < 2 {
		return
	}
	seen := make(map[string]bool, v.count)
	var key []byte
	i := 0
	for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
		it := &t.nodes[ci]
		if it.kind == jObject {
			key = key[:0]
			var shown []string
			for _, k := range n.mapKeys {
				var val []byte
				if c := t.child(it, k); c != nil {
					val = t.raw(c)
				} else {
					val = n.mapKeyDefaults[k]
				}
				key = strconv.AppendInt(key, int64(len(val)), 10)
				key = append(key, ':')
				key = append(key, val...)
				shown = append(shown, k+"="+string(val))
			}
			if seen[string(key)] {
				s.pushIndex(i)
				s.errorf("Duplicate value: %s", strings.Join(shown, ", "))
				s.pop()
			}
			seen[string(key)] = true
		}
		i++
	}
}
