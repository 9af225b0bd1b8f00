package validate

import (
	"regexp"
	"strings"
	"testing"
)

var patternSamples = []string{
	"", "a", "A", "-", "a-", "-a", "a-b", "a.b", "a..b", ".a", "a.", "*.a.b", "*.", "*", "a*",
	"x-env", "X-Env", "x env", "x_env", "a\tb", "a  b", " a", "a ", "a\t\tb", "ünï", "a\nb",
	"1h", "10m30s", "5ms", "1ms5s", "123456s", "1h2m3s4ms", "1h2m3s4ms5s", "1", "s", "1x", "1mss",
	"example.com", "sub.example.com", "UPPER.example.com", "a_b.example.com", "0", "9-9",
	"GRPCRoute", "HTTPRoute", "Kind-1", "1Kind", "kind-",
}

// TestFastPatterns: each hand matcher agrees with the regular expression
// it replaces.
func TestFastPatterns(t *testing.T) {
	for src, fast := range fastPatterns {
		re := regexp.MustCompile(src)
		for _, s := range patternSamples {
			if got, want := fast(s), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", src, s, got, want)
			}
		}
	}
}

func FuzzPatterns(f *testing.F) {
	for _, s := range patternSamples {
		f.Add(s)
	}
	type pair struct {
		src  string
		re   *regexp.Regexp
		fast func(string) bool
	}
	var all []pair
	for src, fast := range fastPatterns {
		all = append(all, pair{src, regexp.MustCompile(src), fast})
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range all {
			if got, want := p.fast(s), p.re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", p.src, s, got, want)
			}
			// The same near a dot, where most mistakes would be.
			for _, v := range []string{s + ".a", "a." + s, strings.ToLower(s)} {
				if got, want := p.fast(v), p.re.MatchString(v); got != want {
					t.Errorf("%s on %q: %v, regexp says %v", p.src, v, got, want)
				}
			}
		}
	})
}
