package egcompat

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// Envoy Gateway's cases with Backends (fallback, TLS, endpoints),
// HTTPRouteFilters (in.yaml key httpFilters), BackendTLSPolicies, the
// ConfigMaps they read, and sessionPersistence are compared: egctl
// translates all of them.
func init() {
	for _, k := range []string{"httpFilters", "configMaps", "backendTLSPolicies"} {
		supportedKeys[k] = true
	}
	expectations = append(expectations, backendExpectations...)
	extExpectations = append(extExpectations, backendExtExpectations...)
}

// foreignExtensionRef reports whether a route of set uses an ExtensionRef
// filter of another kind than HTTPRouteFilter: EG runs those through an
// extension server, which its translator cases configure and egctl has not.
func foreignExtensionRef(set *resource.Set) bool {
	foreign := func(f *gwv1.LocalObjectReference) bool {
		return f != nil && (string(f.Group) != resource.GroupEnvoyGateway || f.Kind != "HTTPRouteFilter")
	}
	for _, r := range set.HTTPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if foreign(f.ExtensionRef) {
					return true
				}
			}
			for _, br := range rule.BackendRefs {
				for _, f := range br.Filters {
					if foreign(f.ExtensionRef) {
						return true
					}
				}
			}
		}
	}
	for _, r := range set.GRPCRoutes {
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if foreign(f.ExtensionRef) {
					return true
				}
			}
			for _, br := range rule.BackendRefs {
				for _, f := range br.Filters {
					if foreign(f.ExtensionRef) {
						return true
					}
				}
			}
		}
	}
	return false
}

// Reasons of these cases' accepted differences.
const (
	whyBTLSInvalidCA = "spec (apis/v1/backendtlspolicy_types.go CACertificateRefs): an invalid CA is reported on the " +
		"BackendTLSPolicy (ResolvedRefs=False, Accepted=False NoValidCACertificate) and connections to its targets fail " +
		"with a 5xx; egctl does that (the backend gets no endpoints: 503), EG also marks the route ResolvedRefs=False " +
		"InvalidBackendTLS and answers 500 directly"
	whyDupRouteName = "the case lists two HTTPRoutes with one namespace/name; an API server holds one object per name, " +
		"egctl takes the first (as for every kind), EG translates both"
	whyMirrorConflict = "a RequestMirror with a direct response or a redirect (nothing is forwarded to mirror): EG drops " +
		"the rule (Accepted=True, PartiallyInvalid IncompatibleFilters); egctl treats it as it treats the spec's " +
		"RequestRedirect+URLRewrite: Accepted=False IncompatibleFilters and the rule answers 500 (partial.go)"
	whyGRPC2xx = "a 2xx direct response on a GRPCRoute (both refuse it, Accepted=False): EG drops the rule, so its " +
		"requests fall through to other routes; egctl answers them 500 (fail closed)"
	whyBackendFilterReason = "an HTTPRouteFilter on a backendRef that does not exist: both ResolvedRefs=False; EG adds " +
		"its own reason InvalidBackendFilters"
)

// btlsExtProcCases have an ext_proc service whose BackendTLSPolicy has no
// valid CA.
var btlsExtProcCases = []string{
	"envoyextensionpolicy-with-extproc-with-backendtlspolicy",
	"envoyextensionpolicy-with-extproc-with-backendtlspolicy-per-resource-secret",
	"envoyextensionpolicy-with-extproc-with-backendtlspolicy-shared-secret",
}

// backendExtExpectations are accepted differences of TestEnvoyGatewayExtensions
// in those cases: EG drops the route's policy (invalid), so the Gateway's
// applies; egctl keeps the route's policy, whose ext_proc backend fails.
var backendExtExpectations = each(btlsExtProcCases, "extensions EG=extproc{envoyextensionpolicy/default/policy-for-gateway", "b", whyBTLSInvalidCA)

// backendExpectations are the accepted differences of these cases.
var backendExpectations = join(
	each([]string{"backendtlspolicy-invalid-ca", "backendtlspolicy-ca-only-invalid", "backendtlspolicy-status-conditions-truncated"},
		"ResolvedRefs EG=False/InvalidBackendTLS egctl=True/ResolvedRefs", "b", whyBTLSInvalidCA),
	each([]string{"backendtlspolicy-invalid-ca", "backendtlspolicy-ca-only-invalid", "backendtlspolicy-status-conditions-truncated"},
		"EG=direct 500 egctl=dest", "b", whyBTLSInvalidCA),
	each([]string{
		"httproute-filter-match-matrix", "httproute-with-conflicting-filters", "httproute-with-credential-injection",
		"httproute-with-urlrewrite-filter-regex-match-replace-invalid", "httproute-with-urlrewrite-hostname-filter-invalid",
		"grpcroute-with-conflicting-filters",
	}, "attachedRoutes EG=", "b", whyAttachedNotAccepted),
	each([]string{"httproute-with-conflicting-filters", "grpcroute-with-conflicting-filters"},
		"Accepted EG=True/Accepted egctl=False/IncompatibleFilters", "b", whyMirrorConflict),
	each([]string{"httproute-with-conflicting-filters", "grpcroute-with-conflicting-filters"},
		"PartiallyInvalid EG=True/IncompatibleFilters egctl=absent", "b", whyMirrorConflict),
	// Cases of other kinds that run once BackendTLSPolicies and ConfigMaps
	// are taken.
	each(btlsExtProcCases, "Accepted EG=False/Invalid egctl=True/Accepted", "b", whyBTLSInvalidCA),
	each(btlsExtProcCases, "EG=direct 500 egctl=dest", "b", whyBTLSInvalidCA),
	each([]string{"envoyextensionpolicy-with-extproc-with-retries"}, "Accepted EG=True/Accepted egctl=False/Invalid", "c", whyExtProcRetry),
	each([]string{"envoyextensionpolicy-with-extproc-with-retries"}, "egctl=direct 500", "c", whyExtProcRetry),
	each([]string{"envoyextensionpolicy-with-extproc-with-traffic-features", "securitypolicy-with-jwt-backendcluster",
		"securitypolicy-with-oidc-backendcluster"}, "Accepted EG=True/Accepted egctl=False/Invalid", "b", whyServiceHash),
	each([]string{"envoyextensionpolicy-with-extproc-with-traffic-features", "securitypolicy-with-jwt-backendcluster",
		"securitypolicy-with-oidc-backendcluster"}, "egctl=direct 500", "b", whyServiceHash),
	[]expectation{
		{"httproute-with-urlrewrite-hostname-filter-invalid", "httproute-multiple-header-host-rewrites parent", "b", whyDupRouteName},
		{"httproute-with-urlrewrite-hostname-filter-invalid", "route order", "b", whyDupRouteName},
		{"httproute-with-urlrewrite-hostname-filter-invalid", "dynamic-resolver-path-regex", "c", whyDynamic},
		{"grpcroute-with-urlrewrite-hostname-filter-invalid", "dynamic-resolver-path-regex", "c", whyDynamic},
		{"grpcroute-with-direct-response-2xx-invalid", "only in egctl (direct 500)", "b", whyGRPC2xx},
		{"httproute-with-urlrewrite-hostname-filter", "InvalidBackendFilters", "b", whyBackendFilterReason},
		{"httproute-rule-with-non-service-backends-and-websocket-app-protocols", "route order", "b", whyPrecedence},
	},
)
