package translate

import "strings"

// Hostnames here are lower-case DNS names, optionally with a leading "*."
// wildcard label; "" means "any host". A wildcard is a suffix match over one
// or more labels: "*.example.com" covers "a.example.com" and
// "a.b.example.com" but not "example.com".

func isWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// covers reports whether every host matched by h is matched by pattern.
func covers(pattern, h string) bool {
	switch {
	case pattern == "":
		return true
	case pattern == h:
		return true
	case isWildcard(pattern):
		return h != "" && strings.HasSuffix(h, pattern[1:])
	}
	return false
}

// intersect returns the hosts served by both a listener hostname and a route
// hostname, as one hostname: the more specific of the two when one covers
// the other.
func intersect(listener, route string) (string, bool) {
	switch {
	case listener == "":
		return route, true
	case route == "":
		return listener, true
	case covers(listener, route):
		return route, true
	case covers(route, listener):
		return listener, true
	}
	return "", false
}

// routeHostnames is the set of hostnames a route serves through a listener,
// in route order without duplicates; ok is false when none intersect.
func routeHostnames(listener string, route []string) (hosts []string, ok bool) {
	if len(route) == 0 {
		return []string{listener}, true
	}
	seen := make(map[string]bool, len(route))
	for _, rh := range route {
		h, ok := intersect(listener, strings.ToLower(rh))
		if ok && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts, len(hosts) > 0
}

// moreSpecific orders listener hostnames: an exact name beats any wildcard,
// a longer wildcard beats a shorter one, and "" (any) comes last.
func moreSpecific(a, b string) bool {
	if (a == "") != (b == "") {
		return b == ""
	}
	if isWildcard(a) != isWildcard(b) {
		return !isWildcard(a)
	}
	return len(a) > len(b)
}

// hostLabel is the last element of a virtual host or route name.
func hostLabel(h string) string {
	if h == "" {
		return "*"
	}
	return strings.ReplaceAll(h, ".", "_")
}

// domain is the Envoy virtual host domain for a hostname.
func domain(h string) string {
	if h == "" {
		return "*"
	}
	return h
}
