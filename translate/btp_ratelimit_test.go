package translate

import (
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

func methods(vs ...string) []egv1a1.MethodMatch {
	var out []egv1a1.MethodMatch
	for _, v := range vs {
		m := egv1a1.MethodMatch{Value: gwv1.HTTPMethod(strings.TrimPrefix(v, "!"))}
		if strings.HasPrefix(v, "!") {
			m.Invert = ptrTo(true)
		}
		out = append(out, m)
	}
	return out
}

// TestRateLimitMethods: methods in one selector are ORed, selectors are
// ANDed, and inverted methods mean "any other method".
func TestRateLimitMethods(t *testing.T) {
	tests := []struct {
		name      string
		selectors [][]string
		want      *ir.RateLimitMatch // nil: any method
		err       string
	}{
		{"one", [][]string{{"GET"}}, &ir.RateLimitMatch{Type: ir.RateLimitExact, Value: "GET"}, ""},
		{"or", [][]string{{"POST", "GET"}}, &ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: "^(GET|POST)$"}, ""},
		{"not one", [][]string{{"!GET"}}, &ir.RateLimitMatch{Type: ir.RateLimitExact, Value: "GET", Invert: true}, ""},
		// GET or anything but GET: every method.
		{"tautology", [][]string{{"GET", "!GET"}}, nil, ""},
		// Not GET or not POST: every method too (EG: two rate limits, each matching nearly everything).
		{"two inverted", [][]string{{"!GET", "!POST"}}, nil, ""},
		{"and", [][]string{{"GET", "POST"}, {"POST", "PUT"}}, &ir.RateLimitMatch{Type: ir.RateLimitExact, Value: "POST"}, ""},
		{"and not", [][]string{{"GET", "POST"}, {"!GET"}}, &ir.RateLimitMatch{Type: ir.RateLimitExact, Value: "POST"}, ""},
		{"not and not", [][]string{{"!GET"}, {"!POST"}}, &ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: "^(GET|POST)$", Invert: true}, ""},
		{"nothing", [][]string{{"GET"}, {"POST"}}, nil, "exclude every method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := egv1a1.RateLimitRule{Limit: egv1a1.RateLimitValue{Requests: 1, Unit: egv1a1.RateLimitUnitSecond}}
			for _, s := range tt.selectors {
				r.ClientSelectors = append(r.ClientSelectors, egv1a1.RateLimitSelectCondition{Methods: methods(s...)})
			}
			got, err := rateLimitRule("rule", &r, false)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Methods == nil) != (tt.want == nil) || (got.Methods != nil && *got.Methods != *tt.want) {
				t.Fatalf("methods = %+v, want %+v", got.Methods, tt.want)
			}
		})
	}
}

// TestRateLimitPaths: prefixes are element-wise and exact paths allow a
// query, as :path carries it.
func TestRateLimitPaths(t *testing.T) {
	exact, regex := gwv1.PathMatchExact, gwv1.PathMatchRegularExpression
	tests := []struct {
		in   egv1a1.PathMatch
		want ir.RateLimitMatch
	}{
		{egv1a1.PathMatch{Value: "/"}, ir.RateLimitMatch{Type: ir.RateLimitPrefix, Value: "/"}},
		{egv1a1.PathMatch{Value: "/a.b/"}, ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: `^/a\.b(/.*|\?.*|#.*|;.*|$)`}},
		{egv1a1.PathMatch{Type: &exact, Value: "/login"}, ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: `^/login(\?.*)?$`}},
		{egv1a1.PathMatch{Type: &regex, Value: "/x/.*", Invert: ptrTo(true)}, ir.RateLimitMatch{Type: ir.RateLimitRegex, Value: "/x/.*", Invert: true}},
	}
	for _, tt := range tests {
		got, err := pathMatch("path", &tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if *got != tt.want {
			t.Errorf("%+v: got %+v, want %+v", tt.in, *got, tt.want)
		}
	}
	if _, err := pathMatch("path", &egv1a1.PathMatch{Value: "x"}); err == nil {
		t.Error("a path without / was accepted")
	}
}
