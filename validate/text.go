package validate

import "strings"

// Control characters are egctl's rule, not the API server's: a value with
// a NUL, an escape sequence or a bare line break is never what a manifest
// author meant, and in a header, a path, a hostname or a name that reaches
// Envoy it splits or truncates what Envoy sees (header injection, a path
// match that means something else). Two rules:
//
//   - Every string and key of every object is free of the C0 controls
//     other than tab, CR and LF, of DEL and of the C1 controls
//     (isForbiddenControl). Nothing in these APIs needs them.
//   - CR and LF are refused as well, except in fields that hold documents
//     or text (scripts, bodies, JWKS, CEL expressions, health-check
//     payloads, free-form descriptions and annotations) and in the two
//     Envoy Gateway kinds that carry Kubernetes pod specs and raw Envoy
//     configuration.
//
// ir.Validate enforces the same on everything that becomes Envoy
// configuration, so a field this list forgets cannot carry a line break
// into Envoy either; it would only be reported later and less precisely.

// lineBreakKinds may hold line breaks anywhere.
var lineBreakKinds = map[string]bool{
	"EnvoyProxy":       true, // pod and container specs, bootstrap patches
	"EnvoyPatchPolicy": true, // JSON patches of Envoy configuration
}

// lineBreakFields are last path elements whose strings are text.
var lineBreakFields = map[string]bool{
	"inline":      true, // Lua scripts, direct response bodies, local JWKS
	"cel":         true, // SecurityPolicy authorization expressions
	"text":        true, // health-check payloads ("PING\r\n")
	"description": true, // GatewayClass spec.description
}

func lineBreaksAllowed(kind, path string) bool {
	if lineBreakKinds[kind] {
		return true
	}
	last := path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		last = path[i+1:]
	}
	last = strings.TrimSuffix(last, "[*]")
	if lineBreakFields[last] {
		return true
	}
	// Annotations are free-form text for other tools (infrastructure
	// annotations of a Gateway); they never reach Envoy.
	return strings.Contains(path, "annotations")
}

// hasLineBreak reports a CR or LF.
func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }
