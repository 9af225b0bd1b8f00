package translate

import (
	"fmt"
	"regexp"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Offline there is no API server. egctl's loader validates every object
// against the full CRDs (package validate) before translation, so for the
// CLI these checks are redundant (a bare "*" listener hostname, accepted
// below as Envoy Gateway's translator accepts it, is refused there as the
// API server refuses it). They stay for the callers that build
// objects themselves (the conformance harness, the Envoy Gateway corpus
// comparison, library users): input a cluster would refuse is reported in
// status instead of being compiled.

// checkListenerCRD: the Gateway CRD rejects a hostname on TCP and UDP
// listeners (CEL "hostname must not be specified for protocols ['TCP',
// 'UDP']"); those protocols carry no hostname to match on, so programming
// the listener would silently ignore what the user wrote.
func checkListenerCRD(l *listenerState) {
	// PortNumber is minimum 1, maximum 65535 in the CRD. Out of range, the
	// listener would bind a port the user did not write (0 → 10000 after the
	// privileged-port shift) or one Envoy refuses.
	if l.spec.Port < 1 || l.spec.Port > 65535 {
		l.cond.set("Accepted", false, "UnsupportedValue",
			fmt.Sprintf("port %d is out of range 1-65535 (the Gateway CRD rejects it)", l.spec.Port))
		return
	}
	if h := l.spec.Hostname; h != nil && *h != "" {
		if err := checkHostnameCRD(string(*h)); err != nil {
			l.cond.set("Accepted", false, "UnsupportedValue", "hostname: "+err.Error())
			return
		}
	}
	switch l.spec.Protocol {
	case gwv1.TCPProtocolType, gwv1.UDPProtocolType:
		if l.spec.Hostname != nil && *l.spec.Hostname != "" {
			l.cond.set("Accepted", false, "UnsupportedValue",
				fmt.Sprintf("hostname must not be set on a %s listener (the Gateway CRD rejects it)", l.spec.Protocol))
		}
	}
}

// preciseHostname is the Gateway API PreciseHostname pattern (an RFC 1123
// DNS name, no wildcard), max 253 characters.
var preciseHostname = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// hostnameCRD is the Gateway API Hostname pattern: a precise hostname with
// an optional leading "*." label. Upper case, other Unicode and a bare "*"
// are refused at admission, so they never reach a controller. (A bare "*"
// is let through: see checkHostnameCRD.)
var hostnameCRD = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func checkHostnameCRD(h string) error {
	if h == "*" {
		// Outside the pattern, but Envoy Gateway takes it as "any host"
		// (its own test inputs use it) and so does hostname.go; refusing
		// it would break manifests EG users already have.
		return nil
	}
	if len(h) == 0 || len(h) > 253 || !hostnameCRD.MatchString(h) {
		return fmt.Errorf("%q is not a valid hostname (lower-case RFC 1123 DNS name, optionally prefixed by \"*.\"; the CRD rejects it)", h)
	}
	return nil
}

// checkRouteHostnamesCRD applies checkHostnameCRD to spec.hostnames.
func checkRouteHostnamesCRD(hosts []gwv1.Hostname) error {
	for i, h := range hosts {
		if h == "*" {
			// Unlike on a listener, "*" on a route is no EG idiom, and as
			// a TLSRoute server name Envoy refuses it.
			return fmt.Errorf("spec.hostnames[%d]: \"*\" is not a valid hostname (leave hostnames empty to match any host)", i)
		}
		if err := checkHostnameCRD(string(h)); err != nil {
			return fmt.Errorf("spec.hostnames[%d]: %v", i, err)
		}
	}
	return nil
}

func checkPreciseHostname(h string) error {
	if len(h) == 0 || len(h) > 253 || !preciseHostname.MatchString(h) {
		return fmt.Errorf("hostname %q is not a valid precise hostname (lower-case RFC 1123 DNS name, no wildcard)", h)
	}
	return nil
}

// checkPathModifierCRD applies the HTTPPathModifier CEL rules: each type
// takes only its own field.
func checkPathModifierCRD(p *gwv1.HTTPPathModifier) error {
	if p == nil {
		return nil
	}
	switch p.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p.ReplacePrefixMatch != nil {
			return fmt.Errorf("path.replacePrefixMatch must not be set with type ReplaceFullPath")
		}
	case gwv1.PrefixMatchHTTPPathModifier:
		if p.ReplaceFullPath != nil {
			return fmt.Errorf("path.replaceFullPath must not be set with type ReplacePrefixMatch")
		}
	}
	return nil
}

// httpMethods is the HTTPMethod enum.
var httpMethods = map[gwv1.HTTPMethod]bool{
	gwv1.HTTPMethodGet: true, gwv1.HTTPMethodHead: true, gwv1.HTTPMethodPost: true, gwv1.HTTPMethodPut: true,
	gwv1.HTTPMethodDelete: true, gwv1.HTTPMethodConnect: true, gwv1.HTTPMethodOptions: true,
	gwv1.HTTPMethodTrace: true, gwv1.HTTPMethodPatch: true,
}

// markDuplicateNames applies the CRD's "listener name must be unique"
// rule (listeners is a list-map keyed by name) to listeners of one owner.
// Every listener sharing a name is refused: which one the user meant is
// unknowable, and two Envoy listeners of one name cannot coexist.
func markDuplicateNames(ls []*listenerState) {
	count := map[gwv1.SectionName]int{}
	for _, l := range ls {
		count[l.spec.Name]++
	}
	for _, l := range ls {
		if n := count[l.spec.Name]; n > 1 {
			l.cond.set("Accepted", false, "UnsupportedValue",
				fmt.Sprintf("listener name %q is used by %d listeners; names must be unique (the CRD rejects it)", l.spec.Name, n))
		}
	}
}

// maxBackendWeight is the CRD maximum of backendRefs[].weight. Past it, the
// weights of one rule (at most 16 refs) could sum beyond Envoy's uint32
// total weight, or wrap the unresolved-weight counter.
const maxBackendWeight = 1000000

func checkWeightCRD(w *int32) error {
	if w != nil && *w > maxBackendWeight {
		return fmt.Errorf("weight %d is above the maximum %d (the CRD rejects it)", *w, maxBackendWeight)
	}
	return nil
}
