package translate

import (
	"fmt"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Offline there is no API server, so the CRD validation it would run on
// filter fields is done here. Values the CRD rejects are invalid
// (rs.invalid, partial.go); values the CRD allows but Envoy refuses are
// unsupported.

// isHeaderToken reports whether s is an RFC 7230 token, the Gateway API
// HeaderName pattern ^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$ (max 256 characters).
// It excludes ':' so pseudo-headers (":status", ":path") never pass.
func isHeaderToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headerFilterError is a header modifier the CRD or Envoy refuses;
// unsupported says which (see above).
type headerFilterError struct {
	msg         string
	unsupported bool
}

// checkHeaderFilter validates one RequestHeaderModifier or
// ResponseHeaderModifier. field is the filter's field name for messages.
func checkHeaderFilter(f *gwv1.HTTPHeaderFilter, field string) *headerFilterError {
	check := func(list string, i int, name string) *headerFilterError {
		where := fmt.Sprintf("%s.%s[%d]", field, list, i)
		if !isHeaderToken(name) {
			return &headerFilterError{msg: fmt.Sprintf("%s: header name %q is not a valid HTTP header name (token characters only, 1-256)", where, name)}
		}
		// Envoy refuses to modify Host through header mutation; a rewrite
		// of the host is URLRewrite's hostname.
		if strings.EqualFold(name, "host") {
			return &headerFilterError{msg: where + `: header "host" cannot be modified (use a URLRewrite hostname)`, unsupported: true}
		}
		return nil
	}
	checkValue := func(list string, i int, v string) *headerFilterError {
		where := fmt.Sprintf("%s.%s[%d]", field, list, i)
		switch {
		case v == "":
			return &headerFilterError{msg: where + ": header value must not be empty"}
		case len(v) > 4096:
			return &headerFilterError{msg: where + ": header value is longer than 4096 characters"}
		case strings.ContainsAny(v, "\r\n\x00"):
			return &headerFilterError{msg: where + ": header value must not contain CR, LF or NUL"}
		}
		return nil
	}
	for i, h := range f.Set {
		if e := check("set", i, string(h.Name)); e != nil {
			return e
		}
		if e := checkValue("set", i, h.Value); e != nil {
			return e
		}
	}
	for i, h := range f.Add {
		if e := check("add", i, string(h.Name)); e != nil {
			return e
		}
		if e := checkValue("add", i, h.Value); e != nil {
			return e
		}
	}
	for i, n := range f.Remove {
		if e := check("remove", i, n); e != nil {
			return e
		}
	}
	return nil
}

// headerFilterOK reports a header filter problem on rs (unsupported or
// invalid) and returns whether the filter may be programmed.
func headerFilterOK(rs *routeState, f *gwv1.HTTPHeaderFilter, where, field string) bool {
	e := checkHeaderFilter(f, field)
	if e == nil {
		return true
	}
	if e.unsupported {
		rs.unsupported("UnsupportedValue", where+"."+e.msg)
	} else {
		rs.invalid(where + "." + e.msg)
	}
	return false
}
