package egcompat

import "strings"

// expectation accepts one kind of mismatch between egctl and Envoy
// Gateway's expected output. Every entry says which side is wrong and why;
// docs/egcompat.md summarises them.
type expectation struct {
	// Case is an EG test case name; "" matches every case.
	Case string
	// Mismatch is a substring of the mismatch line (see compare_test.go).
	Mismatch string
	// Class: "a" egctl bug (fix it, then delete the entry), "b" EG bug or
	// EG-specific behaviour where egctl follows the spec, "c" known to be
	// unsupported in egctl.
	Class string
	Why   string
}

func expectedIndex(name, diff string) int {
	for i, e := range expectations {
		if (e.Case == "" || e.Case == name) && strings.Contains(diff, e.Mismatch) {
			return i
		}
	}
	return -1
}

// each repeats one expectation for several cases.
func each(cases []string, mismatch, class, why string) []expectation {
	out := make([]expectation, 0, len(cases))
	for _, c := range cases {
		out = append(out, expectation{c, mismatch, class, why})
	}
	return out
}

func join(parts ...[]expectation) []expectation {
	var out []expectation
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Reasons, cited by several entries.
const (
	// (a) egctl bugs: none listed; add one here when a new one is found.

	// (b) EG behaviour; egctl follows the spec.
	whyConflicted = "EG: routes attach to Conflicted listeners; the spec says a partial listener set may be accepted " +
		"only if \"they throw out *all* the conflicting Listeners\" (apis/v1/gateway_types.go ListenerConditionConflicted), " +
		"so egctl marks both Conflicted and the route NoMatchingParent"
	whyCRDInvalidEG = "input the Gateway CRD rejects (CEL: unique port/protocol/hostname, TLS mode required, " +
		"certificateRefs required for Terminate); egctl and EG report it differently, neither is specified"
	whyPrecedence = "EG orders ties by input order / exact-before-regex header; the spec orders ties by creationTimestamp " +
		"then namespace/name (apis/v1/httproute_types.go HTTPRouteRule matches precedence), as egctl does"
	whyFallthrough = "egctl also adds catch-all routes to the more specific virtual hosts they cover (hostname is the first " +
		"precedence criterion, a request still falls through to them); EG only puts them on '*' (docs/translation.md)"
	whyEmptyMatch = "EG names a rule without matches match/-1; with API-server defaulting matches is [{path: PathPrefix /}] " +
		"and EG names it match/0 as egctl does; only reachable with un-defaulted test input"
	whyEGReason = "EG-specific condition or reason (BackendsAvailable, RouteRulesOverlap, PortNotFound, PortNotSpecified, " +
		"InvalidRule, PartiallyInvalidCertificateRef, UnsupportedAddressType); egctl uses the spec's reasons"
	whyMirror = "spec: an unresolved RequestMirror backendRef \"must be dropped\" and ResolvedRefs=False " +
		"(apis/v1/httproute_types.go HTTPRequestMirrorFilter.BackendRef); EG answers 500 for the whole rule, egctl drops the mirror"
	whyNoEndpoints  = "EG answers a direct 503 when a Service has no endpoints; egctl keeps an empty cluster (Envoy answers 503 too)"
	whyInvalidShare = "representation: EG keeps one empty setting per unresolved backendRef, egctl sums their weight into InvalidWeight"
	whyLoopback     = "EG refuses loopback/unix Backend addresses unless running on the host, and mixing address types across " +
		"backendRefs; egctl runs beside its backends, and loopback is its normal case"
	whyDupFilter           = "spec: a filter type may not repeat in a rule (CRD CEL); egctl rejects the route, EG merges"
	whyAttachedNotAccepted = "spec: routes with Accepted=False MUST NOT be counted in attachedRoutes " +
		"(apis/v1/gateway_types.go ListenerStatus.AttachedRoutes); EG counts them"
	whyCORS            = "EG programs CORS preflight as an extra route; egctl uses Envoy's CORS filter"
	whyPassthroughCert = "spec: certificateRefs \"is ignored\" in Passthrough mode (apis/v1/gateway_types.go); EG refuses the listener"
	whyL4Hostname      = "a TCP/UDP listener with a hostname (the CRD rejects it): egctl sets Accepted=False/UnsupportedValue, EG only Programmed=False"
	whyKindsNoGroup    = "EG treats allowedRoutes.kinds without group as core group (no CRD defaulting); egctl defaults it to gateway.networking.k8s.io as the CRD does"
	whySelector        = "invalid or missing namespace selector: egctl rejects the listener (Accepted=False/UnsupportedValue), EG keeps it and rejects routes; both defensible"
	whyMultiCert       = "several certificateRefs with one invalid: more than one reference is implementation-specific; egctl does not program the listener"
	whyInvalidMode     = "an unknown TLS mode: EG says UnsupportedTLSMode on Programmed and keeps routes; egctl rejects the listener"
	whyNoCerts         = "HTTPS listener without certificateRefs (CRD-invalid): EG ResolvedRefs=True, egctl InvalidCertificateRef"

	// (c) unsupported in egctl.
	whyDynamic          = "unsupported: Backend type DynamicResolver"
	whyBackendRefFilter = "unsupported: per-backendRef filters other than header modifiers (implementation-specific in the spec)"
	whyAddrBind         = "EG gives spec.addresses to the proxy's LoadBalancer Service; egctl has no Service and binds the listeners " +
		"to the one IP asked for, so a Hostname, NamedAddress or second IP is refused (Accepted=False/UnsupportedAddress, " +
		"apis/v1/gateway_types.go GatewaySpec.Addresses: the implementation MUST indicate an address it cannot use)"
	whyServiceImport = "unsupported: ServiceImport backends (egctl reports InvalidKind)"
)

var emptyMatchCases = []string{
	"gateway-with-attached-routes",
	"httproute-dynamic-resolver-with-mutliple-backends", "httproute-with-empty-matches", "httproute-with-metadata",
	"httproute-with-multiple-invalid-rules",
	"listenerset-conflict-route-attachment", "listenerset-cross-namespace", "listenerset-httproute",
	"listenerset-https-tls-mixed-valid-and-missing-secret", "listenerset-https-tls-same-namespace", "listenerset-invalid",
	"listenerset-no-maching-listener",
}

// headerCases set header names or values the CRD rejects; egctl, like EG,
// sets Accepted=False and fails the rule closed.
var headerCases = []string{
	"httproute-with-header-filter-empty-header-values", "httproute-with-header-filter-empty-headers",
	"httproute-with-header-filter-invalid-header-values", "httproute-with-header-filter-invalid-headers",
	"httproute-with-header-filter-no-valid-headers",
	"httproute-with-response-header-filter-empty-header-values", "httproute-with-response-header-filter-empty-headers",
	"httproute-with-response-header-filter-invalid-header-values", "httproute-with-response-header-filter-invalid-headers",
	"httproute-with-response-header-filter-no-valid-headers",
}

// notAcceptedCases have a route egctl and EG both set Accepted=False.
var notAcceptedCases = []string{
	"grpcroute-with-request-header-modifier", "httproute-with-header-filter-duplicate-add-multiple-filters",
	"httproute-with-header-filter-duplicate-remove-multiple-filters", "httproute-with-invalid-regex",
	"httproute-with-redirect-filter-invalid-scheme", "httproute-with-redirect-filter-invalid-status",
	"httproute-with-response-header-filter-duplicate-add-multiple-filters",
	"httproute-with-response-header-filter-duplicate-remove-multiple-filters",
	"httproute-with-urlrewrite-filter-invalid-multiple-filters", "httproute-with-urlrewrite-filter-invalid-path-type",
	"httproute-with-urlrewrite-filter-missing-path",
	"httproute-with-urlrewrite-filter-invalid-hostname", "httproute-with-urlrewrite-filter-invalid-path",
}

var dupFilterCases = []string{
	"httproute-with-header-filter-duplicate-add-multiple-filters", "httproute-with-header-filter-duplicate-remove-multiple-filters",
	"httproute-with-response-header-filter-duplicate-add-multiple-filters", "httproute-with-response-header-filter-duplicate-remove-multiple-filters",
	"grpcroute-with-request-header-modifier",
}

var conflictCases = []string{
	"gateway-with-two-listeners-with-http-and-tlsroute-same-hostname-and-port",
	"gateway-with-two-listeners-with-same-port-and-hostname",
	"gateway-with-two-listeners-with-same-port-and-incompatible-protocol",
	"gateway-with-two-listeners-with-same-port-http-tcp-protocol",
	"gateway-with-two-listeners-on-same-udp-port",
	"gateway-with-conflicting-listeners-one-invalid-ref",
}

var expectations = join(
	// ---- (a) egctl bugs: none listed ----

	// ---- (b) EG bugs / EG-specific; egctl follows the spec ----
	each(conflictCases, "attachedRoutes EG=1 egctl=0", "b", whyConflicted),
	each(conflictCases, "Accepted EG=True/Accepted egctl=False/NoMatchingParent", "b", whyConflicted),
	each(conflictCases[4:], "Conflicted EG=absent egctl=True/HostnameConflict", "b", whyConflicted),
	[]expectation{
		{"gateway-with-conflicting-listeners-one-invalid-ref", "Programmed EG=True/Programmed egctl=False/Invalid", "b", whyConflicted},
		{"gateway-with-conflicting-listeners-one-invalid-ref", "listener missing in egctl", "b", whyConflicted},
		{"gateway-with-two-listeners-on-same-udp-port", "Programmed EG=True/Programmed egctl=False/Invalid", "b", whyConflicted},
		{"gateway-with-two-listeners-on-same-udp-port", "Conflicted EG=True/ProtocolConflict egctl=True/HostnameConflict", "b", whyConflicted},
		{"gateway-with-two-listeners-on-same-udp-port", "listener missing in egctl", "b", whyConflicted},
		{"gateway-with-two-listeners-on-same-tcp-or-tls-port", "listener tcp2: Accepted EG=absent egctl=False/UnsupportedValue", "b", whyCRDInvalidEG},
		{"gateway-with-two-listeners-on-same-tcp-or-tls-port", "listener tcp2: attachedRoutes EG=1 egctl=0", "b", whyCRDInvalidEG},
		{"tlsroute-with-tls-listener-missing-mode", "Accepted EG=absent egctl=False/UnsupportedValue", "b", whyCRDInvalidEG},
		{"tlsroute-with-tls-listener-missing-mode", "attachedRoutes EG=1 egctl=0", "b", whyCRDInvalidEG},
		{"tlsroute-with-tls-listener-missing-mode", "Accepted EG=True/Accepted egctl=False/NoMatchingParent", "b", whyCRDInvalidEG},
		{"gateway-with-listener-with-invalid-tls-configuration-no-certificate-refs", "ResolvedRefs EG=True/ResolvedRefs egctl=False/InvalidCertificateRef", "b", whyNoCerts},
		{"gateway-with-listener-with-invalid-tls-configuration-invalid-mode", "", "b", whyInvalidMode},
		{"gateway-with-listener-with-invalid-multiple-tls-configuration", "", "b", whyMultiCert},
		{"sds-listener-disabled", "", "b", whyMultiCert},
		{"gateway-with-listener-with-invalid-allowed-namespaces-selector", "", "b", whySelector},
		{"gateway-with-listener-with-missing-allowed-namespaces-selector", "", "b", whySelector},
		{"tlsroute-with-listener-both-passthrough-and-cert-data", "", "b", whyPassthroughCert},
		{"tlsroute-invalid-reference-grant", "", "b", whyKindsNoGroup},
		{"grpcroute-mixed-with-httproute", "Accepted EG=True/Accepted egctl=False/HostnameConflict", "b",
			"spec: an HTTPRoute and a GRPCRoute must not share a hostname on a listener (GEP-1016); EG does not enforce it (docs/translation.md)"},
		{"grpcroute-mixed-with-httproute", "attachedRoutes EG=2 egctl=1", "b", "follows from the HostnameConflict above"},
		{"grpcroute-mixed-with-httproute", "match-all/rule/0/match/-1/* missing in egctl", "b", "follows from the HostnameConflict above"},
		{"httproute-default-order-by-creation-date-and-route-name", "route order", "b", whyPrecedence},
		{"httproute-order-by-creation-date", "route order", "b", whyPrecedence},
		{"httproute-with-header-match-diff-type", "route order", "b", whyPrecedence},
		{"httproutes-with-multiple-matches", "only in egctl", "b", whyFallthrough},
		{"", "BackendsAvailable EG=False/EndpointsNotFound egctl=absent", "b", whyEGReason},
		{"", "RouteRulesOverlap EG=True/RouteRulesOverlap egctl=absent", "b", whyEGReason},
		{"", "ResolvedRefs EG=False/PortNotFound egctl=False/BackendNotFound", "b", whyEGReason},
		{"", "ResolvedRefs EG=False/PortNotSpecified egctl=False/BackendNotFound", "b", whyEGReason},
		{"", "Accepted EG=False/InvalidRule egctl=False/UnsupportedValue", "b", whyEGReason},
		{"httproute-with-mirror-filter-service-no-port", "EG=direct 500 egctl=dest", "b", whyMirror},
		{"httproute-with-mirror-filter-service-not-found", "EG=direct 500 egctl=dest", "b", whyMirror},
		{"httproute-with-backendref-no-endpoints", "EG=direct 503 egctl=dest", "b", whyNoEndpoints},
		{"httproute-with-mixed-invalid-and-valid-backend-refs", "EG=dest", "b", whyInvalidShare},
		{"grpcroute-with-mixed-invalid-and-valid-backend-refs", "EG=dest", "b", whyInvalidShare},
		{"httproute-with-some-invalid-backend-refs-no-service", "EG=dest", "b", whyInvalidShare},
		{"httproute-attaching-to-listener-with-backend-backendref", "", "b", whyLoopback},
		{"httproute-attaching-to-listener-with-backend-backendref-mixed-address-type", "", "b", whyLoopback},
		{"httproute-attaching-to-listener-with-multiple-backend-backendrefs-diff-address-type", "", "b", whyLoopback},
		{"httproute-attaching-to-listener-with-multiple-backend-backendrefs-same-address-type", "", "b", whyLoopback},
		{"httproute-with-cors-filter", "cors-preflight", "b", whyCORS},
		{"gateway-static-addresses", "Programmed EG=True/Programmed egctl=False/Invalid", "b", whyAddrBind},
		{"gateway-with-addresses-with-ipaddress", "Programmed EG=True/Programmed egctl=False/Invalid", "b", whyAddrBind},
		{"gateway-with-listener-with-tcp-with-hostname", "Accepted EG=absent egctl=False/UnsupportedValue", "b", whyL4Hostname},
		{"gateway-with-listener-with-udp-with-hostname", "Accepted EG=absent egctl=False/UnsupportedValue", "b", whyL4Hostname},
		{"gateway-with-unsupported-address-type", "Programmed EG=absent egctl=False/AddressNotUsable", "b",
			"egctl also says Programmed=False/AddressNotUsable (apis/v1/gateway_types.go GatewayReasonAddressNotUsable) for a Gateway refused for its addresses; EG writes no Programmed"},
	},
	each(emptyMatchCases, "/match/-1/", "b", whyEmptyMatch),
	each(emptyMatchCases, "/match/0/", "b", whyEmptyMatch),
	each(notAcceptedCases, "attachedRoutes EG=1 egctl=0", "b", whyAttachedNotAccepted),
	each(headerCases, "attachedRoutes EG=", "b", whyAttachedNotAccepted),
	each(dupFilterCases, "Accepted EG=True/Accepted egctl=False/UnsupportedValue", "b", whyDupFilter),
	each(dupFilterCases[:4], "egctl=direct 500", "b", whyDupFilter),
	[]expectation{
		{"grpcroute-with-request-header-modifier", "/match/", "b", whyDupFilter + "; EG also names the empty match -1"},
	},

	// ---- (c) unsupported in egctl ----
	[]expectation{
		{"httproute-dynamic-resolver-with-mutliple-backends", "InvalidBackendRef egctl=False/BackendNotFound", "c", whyDynamic},
		{"tlsroute-dynamic-resolver", "", "c", whyDynamic},
		{"tlsroute-dynamic-resolver-with-multiple-backends", "", "c", whyDynamic},
		{"tlsroute-dynamic-resolver-with-tls-terminate", "", "c", whyDynamic},
		{"httproute-with-backendref-urlrewrite-filter", "", "c", whyBackendRefFilter},
		{"httproute-with-invalid-backend-ref-unsupported-filter", "", "c", whyBackendRefFilter},
		{"httproute-with-invalid-backendref-urlrewrite-path-filter", "", "c", whyBackendRefFilter},
		{"httproute-with-invalid-backend-ref-no-service.import", "ResolvedRefs EG=False/BackendNotFound egctl=False/InvalidKind", "c", whyServiceImport},
	},

	// Per policy kind, in kind_*_test.go.
	ctpExpectations, epExpectations, btpExpectations, spExpectations, spAuthExpectations, eepExpectations,
)
