package report

import (
	"fmt"
	"regexp"
	"strings"
)

// Suppression silences one code, on every object or on those whose
// "Kind namespace/name" matches a glob ("*" matches any text, "/"
// included; "?" one character).
type Suppression struct {
	Code   string
	object *regexp.Regexp
}

// ParseSuppressions reads --suppress values: CODE or CODE=OBJECT-GLOB,
// CODE being an ID (EGC2002) or a name (GatewayClassNotOurs).
func ParseSuppressions(values []string) ([]Suppression, error) {
	var out []Suppression
	for _, v := range values {
		code, glob, hasGlob := strings.Cut(v, "=")
		c, ok := lookup(strings.TrimSpace(code))
		if !ok {
			return nil, fmt.Errorf("--suppress %q: unknown code %q (egctl x validate --list-codes lists them)", v, code)
		}
		s := Suppression{Code: c.ID}
		if hasGlob {
			glob = strings.TrimSpace(glob)
			if glob == "" {
				return nil, fmt.Errorf("--suppress %q: empty object glob (want CODE=Kind namespace/name)", v)
			}
			re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(glob)) + "$"
			s.object = regexp.MustCompile(re)
		}
		out = append(out, s)
	}
	return out, nil
}

func (s Suppression) matches(f Finding) bool {
	if s.Code != f.Code {
		return false
	}
	return s.object == nil || f.Object != nil && s.object.MatchString(f.Object.String())
}

// Filter drops the findings a suppression matches and says how many.
func Filter(fs []Finding, sup []Suppression) ([]Finding, int) {
	if len(sup) == 0 {
		return fs, 0
	}
	kept := fs[:0:0]
	n := 0
	for _, f := range fs {
		silenced := false
		for _, s := range sup {
			if s.matches(f) {
				silenced = true
				break
			}
		}
		if silenced {
			n++
			continue
		}
		kept = append(kept, f)
	}
	return kept, n
}
