package translate

import (
	"fmt"
	"regexp"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Offline there is no API server: the checks the Gateway API CRDs would
// make at admission (OpenAPI patterns, enums, CEL rules) are made here, so
// input the cluster would refuse is reported instead of compiled.

// checkListenerCRD: the Gateway CRD rejects a hostname on TCP and UDP
// listeners (CEL "hostname must not be specified for protocols ['TCP',
// 'UDP']"); those protocols carry no hostname to match on, so programming
// the listener would silently ignore what the user wrote.
func checkListenerCRD(l *listenerState) {
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
