package translate

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// envoyMaxProgramSize is Envoy's default RE2 program-size error threshold
// (runtime key re2.max_program_size.error_level). A larger regex makes
// Envoy refuse the whole route configuration, taking every route of the
// listener down with it, so such a match is refused here instead.
const envoyMaxProgramSize = 100

// checkEnvoyRegex reports whether Envoy's Google RE2 engine would load
// expr: it must parse, and its program must fit envoyMaxProgramSize.
func checkEnvoyRegex(expr string) error {
	if _, err := regexp.Compile(expr); err != nil {
		return err
	}
	if esc := wideHexEscape(expr); esc != "" {
		// Measured with Envoy 1.40: its RE2 refuses \x{...} above FF
		// ("invalid escape sequence") though the literal character loads.
		return fmt.Errorf("escape %s is refused by Envoy's RE2 (above \\x{FF}); write the character itself", esc)
	}
	if n := re2ProgramSize(expr); n > envoyMaxProgramSize {
		return fmt.Errorf("compiles to about %d RE2 instructions; Envoy refuses more than %d", n, envoyMaxProgramSize)
	}
	return nil
}

// re2ProgramSize estimates the size RE2 reports for expr. Go's compiler
// is a port of RE2's, so its instruction count is close; the differences
// measured against Envoy are that RE2 adds two fixed instructions, spends
// one instruction per byte range of a character class where Go spends one
// per class, and two on "any character". Counting one per class range
// errs on the large side (RE2 merges some ranges), which fails closed.
func re2ProgramSize(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	n := 2
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune:
			if k := len(in.Rune) / 2; k > 1 {
				n += k
				continue
			}
			n++
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			n += 2
		default:
			n++
		}
	}
	return n
}

// wideHexEscape returns the first \x{...} escape of expr naming a code
// point above 0xFF, or "".
func wideHexEscape(expr string) string {
	for i := 0; i+1 < len(expr); i++ {
		if expr[i] != '\\' {
			continue
		}
		if expr[i+1] == 'x' && i+2 < len(expr) && expr[i+2] == '{' {
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				return ""
			}
			hex := strings.TrimLeft(expr[i+3:i+end], "0")
			if len(hex) > 2 {
				return expr[i : i+end+1]
			}
		}
		i++ // skip the escaped character, so \\x{100} is a literal backslash
	}
	return ""
}
