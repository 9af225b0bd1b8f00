package validate

import (
	"math"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	sigsjson "sigs.k8s.io/json"
)

// allOf, anyOf, oneOf and not are rare in these CRDs (int-or-string
// quantities, Gateway addresses, a few enums) and can depend on defaulted
// fields (a Gateway address type defaults to IPAddress, which decides the
// oneOf branch), so they are evaluated as the API server evaluates them:
// on the decoded value with defaults applied.

// decode returns v as the API server would hold it: decoded with integers
// kept as int64, nulls the schema does not allow dropped, defaults set.
func (s *Session) decode(n *node, v *jnode) (any, error) {
	var x any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(s.tree.raw(v), &x); err != nil {
		return nil, err
	}
	defaulting.PruneNonNullableNullsWithoutDefaults(x, n.s)
	defaulting.Default(x, n.s)
	return x, nil
}

func (s *Session) checkNested(n *node, v *jnode) {
	x, err := s.decode(n, v)
	if err != nil {
		s.errorf("cannot decode: %v", err)
		return
	}
	vv := n.vv
	for _, sub := range vv.AllOf {
		if msg := nestedFailure(&sub, x); msg != "" {
			s.errorf("%s", msg)
		}
	}
	if len(vv.AnyOf) > 0 {
		ok := false
		for _, sub := range vv.AnyOf {
			if nestedFailure(&sub, x) == "" {
				ok = true
				break
			}
		}
		if !ok {
			s.errorf("must validate at least one schema (anyOf)")
		}
	}
	if len(vv.OneOf) > 0 {
		matched := 0
		for _, sub := range vv.OneOf {
			if nestedFailure(&sub, x) == "" {
				matched++
			}
		}
		if matched != 1 {
			s.errorf("must validate one and only one schema (oneOf); %d match", matched)
		}
	}
	if vv.Not != nil && nestedFailure(vv.Not, x) == "" {
		s.errorf("must not validate the schema (not)")
	}
}

// nestedFailure returns why x fails nv, or "".
func nestedFailure(nv *structuralschema.NestedValueValidation, x any) string {
	if msg := valueFailure(&nv.ValueValidation, x); msg != "" {
		return msg
	}
	switch v := x.(type) {
	case map[string]any:
		for k, p := range nv.Properties {
			if c, ok := v[k]; ok {
				if msg := nestedFailure(&p, c); msg != "" {
					return k + ": " + msg
				}
			}
		}
		if nv.AdditionalProperties != nil {
			for k, c := range v {
				if _, known := nv.Properties[k]; known {
					continue
				}
				if msg := nestedFailure(nv.AdditionalProperties, c); msg != "" {
					return k + ": " + msg
				}
			}
		}
	case []any:
		if nv.Items != nil {
			for _, c := range v {
				if msg := nestedFailure(nv.Items, c); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

var nestedRegexps sync.Map // pattern → *regexp.Regexp (or error)

func nestedRegexp(p string) (*regexp.Regexp, error) {
	if r, ok := nestedRegexps.Load(p); ok {
		if re, ok := r.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, r.(error)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		nestedRegexps.Store(p, err)
		return nil, err
	}
	nestedRegexps.Store(p, re)
	return re, nil
}

// valueFailure applies one ValueValidation to a decoded value (its own
// level only).
func valueFailure(vv *structuralschema.ValueValidation, x any) string {
	if len(vv.Enum) > 0 {
		found := false
		for _, e := range vv.Enum {
			if scalarEqual(e.Object, x) {
				found = true
				break
			}
		}
		if !found {
			return "Unsupported value"
		}
	}
	switch v := x.(type) {
	case string:
		l := int64(utf8.RuneCountInString(v))
		if vv.MaxLength != nil && l > *vv.MaxLength {
			return "Too long"
		}
		if vv.MinLength != nil && l < *vv.MinLength {
			return "too short"
		}
		if vv.Pattern != "" {
			re, err := nestedRegexp(vv.Pattern)
			if err != nil || !re.MatchString(v) {
				return "should match '" + vv.Pattern + "'"
			}
		}
		if vv.Format != "" && !formatOK(vv.Format, v) {
			return "must be of format " + vv.Format
		}
	case int64, float64:
		f, _ := toFloat(v)
		if vv.Maximum != nil && (f > *vv.Maximum || vv.ExclusiveMaximum && f == *vv.Maximum) {
			return "too large"
		}
		if vv.Minimum != nil && (f < *vv.Minimum || vv.ExclusiveMinimum && f == *vv.Minimum) {
			return "too small"
		}
		if vv.MultipleOf != nil && *vv.MultipleOf != 0 {
			if q := f / *vv.MultipleOf; q != math.Trunc(q) {
				return "not a multiple"
			}
		}
	case []any:
		if vv.MaxItems != nil && int64(len(v)) > *vv.MaxItems {
			return "Too many items"
		}
		if vv.MinItems != nil && int64(len(v)) < *vv.MinItems {
			return "too few items"
		}
	case map[string]any:
		if vv.MaxProperties != nil && int64(len(v)) > *vv.MaxProperties {
			return "Too many properties"
		}
		if vv.MinProperties != nil && int64(len(v)) < *vv.MinProperties {
			return "too few properties"
		}
		var missing []string
		for _, r := range vv.Required {
			if _, ok := v[r]; !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return "Required value: " + strings.Join(missing, ", ")
		}
	}
	for _, sub := range vv.AllOf {
		if msg := nestedFailure(&sub, x); msg != "" {
			return msg
		}
	}
	if len(vv.AnyOf) > 0 {
		ok := false
		for _, sub := range vv.AnyOf {
			if nestedFailure(&sub, x) == "" {
				ok = true
				break
			}
		}
		if !ok {
			return "must validate at least one schema (anyOf)"
		}
	}
	if len(vv.OneOf) > 0 {
		matched := 0
		for _, sub := range vv.OneOf {
			if nestedFailure(&sub, x) == "" {
				matched++
			}
		}
		if matched != 1 {
			return "must validate one and only one schema (oneOf)"
		}
	}
	if vv.Not != nil && nestedFailure(vv.Not, x) == "" {
		return "must not validate the schema (not)"
	}
	return ""
}
