package translate

import (
	"fmt"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// compileMatch validates one HTTPRouteMatch and applies the spec defaults.
func compileMatch(m *gwv1.HTTPRouteMatch) (ir.HTTPMatch, error) {
	out := ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.PathType = ir.PathMatchType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path = *m.Path.Value
		}
	}
	switch out.PathType {
	case ir.PathExact, ir.PathPrefix:
		if !strings.HasPrefix(out.Path, "/") {
			return out, fmt.Errorf("path %q must start with /", out.Path)
		}
		if strings.Contains(out.Path, "//") {
			return out, fmt.Errorf("path %q must not contain //", out.Path)
		}
		// PathPrefix is element-wise and ignores a trailing slash:
		// "/foo/" matches exactly what "/foo" matches.
		if out.PathType == ir.PathPrefix && len(out.Path) > 1 {
			out.Path = strings.TrimRight(out.Path, "/")
		}
	case ir.PathRegex:
		if err := checkEnvoyRegex(out.Path); err != nil { // regex.go
			return out, fmt.Errorf("path regex %q: %v", out.Path, err)
		}
	default:
		return out, unknownValuef("path match type %q is not supported", out.PathType)
	}

	// Header names are case-insensitive; on duplicates the first wins.
	// Lists are short (at most 16), so a scan beats a map.
	for _, h := range m.Headers {
		if !isHeaderToken(string(h.Name)) { // validate_filters.go
			return out, fmt.Errorf("header name %q is not a valid HTTP header name", h.Name)
		}
		name := strings.ToLower(string(h.Name))
		if hasName(out.Headers, name) {
			continue
		}
		sm, err := stringMatch(name, h.Type, h.Value)
		if err != nil {
			return out, wrapKeep(err, "header %s", h.Name)
		}
		out.Headers = append(out.Headers, sm)
	}
	// Query parameter names are compared exactly; on duplicates the first wins.
	for _, q := range m.QueryParams {
		if !isHeaderToken(string(q.Name)) {
			return out, fmt.Errorf("query parameter name %q is not valid (token characters only)", q.Name)
		}
		name := string(q.Name)
		if hasName(out.QueryParams, name) {
			continue
		}
		var t *gwv1.HeaderMatchType
		if q.Type != nil {
			t = (*gwv1.HeaderMatchType)(q.Type)
		}
		sm, err := stringMatch(name, t, q.Value)
		if err != nil {
			return out, wrapKeep(err, "query parameter %s", q.Name)
		}
		out.QueryParams = append(out.QueryParams, sm)
	}
	if m.Method != nil {
		if !httpMethods[*m.Method] { // validate_crd.go
			return out, unknownValuef("method %q is not an HTTP method the spec knows", *m.Method)
		}
		out.Method = string(*m.Method)
	}
	return out, nil
}

func stringMatch(name string, t *gwv1.HeaderMatchType, value string) (ir.StringMatch, error) {
	sm := ir.StringMatch{Name: name, Type: ir.MatchExact, Value: value}
	if t == nil {
		return sm, nil
	}
	switch *t {
	case gwv1.HeaderMatchExact:
	case gwv1.HeaderMatchRegularExpression:
		if err := checkEnvoyRegex(value); err != nil { // regex.go
			return sm, fmt.Errorf("regex %q: %v", value, err)
		}
		sm.Type = ir.MatchRegex
	default:
		return sm, unknownValuef("match type %q is not supported", *t)
	}
	return sm, nil
}

func hasName(list []ir.StringMatch, name string) bool {
	for i := range list {
		if list[i].Name == name {
			return true
		}
	}
	return false
}
