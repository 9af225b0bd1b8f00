package translate

import (
	"strings"
	"testing"
)

// The sizes RE2 reports were measured with Envoy 1.40 (`envoy --mode
// validate`): the estimate must never be below them.
func TestRE2ProgramSizeBoundsEnvoy(t *testing.T) {
	for _, c := range []struct {
		expr string
		re2  int // as Envoy reports it
	}{
		{"a{100}", 104},
		{"[a-z]{100}", 104},
		{"(foo|bar){20}", 164},
		{`\w{40}`, 124},
		{".{50}", 104},
		{"[^/]{50}", 104},
		{"/x[0-9]{1,50}", 105},
		{"[a-zA-Z0-9_-]{30}", 124},
	} {
		if got := re2ProgramSize(c.expr); got < c.re2 {
			t.Errorf("re2ProgramSize(%q) = %d, below RE2's %d", c.expr, got, c.re2)
		}
		if err := checkEnvoyRegex(c.expr); err == nil {
			t.Errorf("checkEnvoyRegex(%q) accepted a regex Envoy refuses", c.expr)
		}
	}
}

func TestCheckEnvoyRegexAcceptsUsualRegexes(t *testing.T) {
	for _, e := range []string{
		"/api/v[0-9]+/users/[^/]+", "^/(foo|bar)/.*$", "(?i)bearer .+", `\d{3}-\d{4}`,
		"a{96}", strings.Repeat("[a-z]", 90),
		"/(grpc\\.health\\.v1\\..*)/(Check|Watch)",
	} {
		if err := checkEnvoyRegex(e); err != nil {
			t.Errorf("checkEnvoyRegex(%q): %v", e, err)
		}
	}
	if err := checkEnvoyRegex(`[\x{100}-\x{10FFFF}]`); err == nil {
		t.Error(`\x{100} passed; Envoy 1.40 refuses it`)
	}
	for _, e := range []string{`\x{FF}`, `\x{00e9}`, `\\x{2}`, "日本"} {
		if err := checkEnvoyRegex(e); err != nil {
			t.Errorf("checkEnvoyRegex(%q): %v", e, err)
		}
	}
	if err := checkEnvoyRegex("(a"); err == nil {
		t.Error("an unparsable regex passed")
	}
}
