package validate

// Go's regexp takes about a third of validation's time on typical
// routes, nearly all of it on a handful of patterns the CRDs repeat
// hundreds of times (names, kinds, hostnames, header names and values).
// Those are matched by hand here; every other pattern goes to regexp.
// FuzzPatterns holds each matcher to the regular expression it replaces.

var fastPatterns = map[string]func(string) bool{
	`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`: func(s string) bool { return s == "" || isSubdomain(s) },
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`:    isSubdomain,
	`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`: func(s string) bool {
		if len(s) >= 2 && s[0] == '*' && s[1] == '.' {
			s = s[2:]
		}
		return isSubdomain(s)
	},
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`:       isLabel,
	`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`: isKind,
	`^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$`:     isHeaderName,
	`^[!-~]+([\t ]?[!-~]+)*$`:               isHeaderValue,
	`^([0-9]{1,5}(h|m|s|ms)){1,4}$`:         isGatewayDuration,
}

func isLower(c byte) bool    { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isLowerAN(c byte) bool  { return isLower(c) || isDigit(c) }
func isLetter(c byte) bool   { return isLower(c) || (c >= 'A' && c <= 'Z') }
func isAlphaNum(c byte) bool { return isLetter(c) || isDigit(c) }

// isLabel: [a-z0-9]([-a-z0-9]*[a-z0-9])?
func isLabel(s string) bool {
	if s == "" || !isLowerAN(s[0]) || !isLowerAN(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isLowerAN(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// isSubdomain: labels joined by dots.
func isSubdomain(s string) bool {
	for {
		i := 0
		for i < len(s) && s[i] != '.' {
			i++
		}
		if !isLabel(s[:i]) {
			return false
		}
		if i == len(s) {
			return true
		}
		s = s[i+1:]
	}
}

// isKind: [a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?
func isKind(s string) bool {
	if s == "" || !isLetter(s[0]) || !isAlphaNum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isAlphaNum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// isHeaderName: one or more RFC 7230 token characters.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlphaNum(c) {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return false
	}
	return true
}

// isHeaderValue: visible ASCII, single tabs or spaces between visible
// characters, none at the ends.
func isHeaderValue(s string) bool {
	if s == "" {
		return false
	}
	visible := func(c byte) bool { return c >= '!' && c <= '~' }
	if !visible(s[0]) || !visible(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if visible(c) {
			continue
		}
		if (c == ' ' || c == '\t') && visible(s[i-1]) && visible(s[i+1]) {
			continue
		}
		return false
	}
	return true
}

// isGatewayDuration: one to four groups of one to five digits and a unit
// of h, m, s or ms.
func isGatewayDuration(s string) bool {
	groups := 0
	for len(s) > 0 {
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == 0 || i > 5 {
			return false
		}
		s = s[i:]
		switch {
		case len(s) >= 2 && s[0] == 'm' && s[1] == 's':
			s = s[2:]
		case len(s) >= 1 && (s[0] == 'h' || s[0] == 'm' || s[0] == 's'):
			s = s[1:]
		default:
			return false
		}
		groups++
	}
	return groups >= 1 && groups <= 4
}
