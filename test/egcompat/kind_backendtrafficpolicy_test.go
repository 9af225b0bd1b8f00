package egcompat

// Envoy Gateway's translator cases with BackendTrafficPolicies run here;
// the differences are classified below (docs/egcompat.md summarises them).
func init() {
	supportedKeys["backendTrafficPolicies"] = true
	// responseOverride bodies come from ConfigMaps.
	supportedKeys["configMaps"] = true
	// BackendTrafficPolicies attach to ListenerSets (and their listeners).
	supportedKeys["listenerSets"] = true
}

const (
	// (b) EG behaviour; egctl does better or follows the spec.
	whyBTPL4 = "EG silently ignores the fields it cannot apply to TCP/UDP routes (retry, HTTP timeouts, request circuit breakers; " +
		"health checks and proxy protocol on UDP); egctl refuses a policy aimed at such a route and fails it closed " +
		"(a policy inherited from the Gateway applies what it can and warns)"
	whyBTPCRD = "a value the BackendTrafficPolicy CRD rejects (faultInjection.abort.httpStatus below 200; preconnect.predictivePercent " +
		"without loadBalancer.type RoundRobin or Random); EG's translator takes it, egctl's loader refuses it as the API server " +
		"would and its translator refuses the policy"
	whyBTPMergedAncestor = "EG reports a merged route policy's Merged condition on an extra ancestor per listener (sectionName); " +
		"egctl reports it on the route's own parentRefs, as for any route policy"
	whyBTPMergeFailed = "a route policy whose merge with the Gateway's fails: EG calls the Gateway policy Overridden, egctl Merged " +
		"(the route asked to merge; the refusal is on the route policy)"
	whyBTPPolicyOrder = "EG's translator tests skip the provider's sort of policies (oldest, then namespace/name) and use input order; " +
		"egctl sorts, so of two policies with no timestamps on one target the other one wins"
	whyBTPTargetNotFound = "a policy whose target does not exist (or is another namespace's, a targetRef being namespace-local): " +
		"EG stays silent, egctl reports TargetNotFound (offline, the input is all there is; a typo would leave a route unprotected)"
	whyFromSame = "EG's test harness rejects a route in the Gateway's own namespace under allowedRoutes from: Same " +
		"(NotAllowedByListeners); the spec allows it, as egctl does"
	whySplit = "one rule reached through listeners whose policies ask for different cluster settings: EG builds one cluster " +
		"and gives every listener the first one's settings; egctl keeps EG's name for the first and names the others " +
		"<cluster>/variant/<k> (docs/backendtrafficpolicy.md)"
	whyStructuralOverride = "EG reports a wider policy Overridden as soon as a narrower one exists below it; egctl when a route's " +
		"traffic actually goes to the narrower one (these cases have no route there)"
	whyExternalName = "an ExternalName Service backend: EG 1.9 refuses it, egctl resolves the name by DNS (STRICT_DNS cluster), " +
		"as Kubernetes would (docs/translation.md)"

	// (c) unsupported in egctl.
	whyWeightedZones = "unsupported: loadBalancer.zoneAware.weightedZones (endpoint zones do not reach egctl's IR yet); the policy is refused"
	whyPreferLocal   = "unsupported: loadBalancer.zoneAware.preferLocal needs the zone the proxy runs in, which an offline compile " +
		"does not know; the policy is refused"
)

var weightedZoneCases = []string{
	"backendtrafficpolicy-with-backend-utilization-weighted-zones",
	"backendtrafficpolicy-with-endpointoverride-backend-utilization-weighted-zones",
	"backendtrafficpolicy-with-weighted-zones",
}

// btpExpectations are the accepted differences for this kind's cases.
var btpExpectations = join(
	each(weightedZoneCases, "Accepted EG=True/Accepted egctl=False/Invalid", "c", whyWeightedZones),
	each(weightedZoneCases, "egctl=direct 500", "c", whyWeightedZones),
	[]expectation{
		{"backendtrafficpolicy-with-loadbalancer", "policy-for-gateway2 ancestor envoy-gateway/gateway-2: Accepted EG=True/Accepted egctl=False/Invalid", "c", whyPreferLocal},
		{"backendtrafficpolicy-with-tcp-udp-listeners-apply-on-route", "", "b", whyBTPL4},
		{"backendtrafficpolicy-status-fault-injection", "", "b", whyBTPCRD},
		{"backendtrafficpolicy-with-preconnect", "", "b", whyBTPCRD},
		{"backendtrafficpolicy-with-routing-type-mergetype-unset", "#http: no ancestor status in egctl", "b", whyBTPMergedAncestor},
		{"backendtrafficpolicy-strategic-merge-section", "#listener-", "b", whyBTPMergedAncestor},
		{"backendtrafficpolicy-with-response-override-merged-invalid-valueref", "#http: no ancestor status in egctl", "b", whyBTPMergedAncestor},
		// EG says Invalid on that extra ancestor and Accepted on the
		// route's parentRef; egctl says Invalid on the parentRef.
		{"backendtrafficpolicy-with-response-override-merged-invalid-valueref", "my-app-rate-limit ancestor envoy-gateway-system/my-gateway: Accepted EG=True/Accepted egctl=False/Invalid", "b", whyBTPMergedAncestor},
		{"backendtrafficpolicy-with-response-override-merged-diff-namespace", "#http: no ancestor status in egctl", "b", whyBTPMergedAncestor},
		{"backendtrafficpolicy-with-response-override-merged-invalid-valueref", "Overridden EG=True/Overridden egctl=absent", "b", whyBTPMergeFailed},
		{"backendtrafficpolicy-strategic-merge", "Merged EG=True/Merged egctl=absent", "b", "follows from the HostnameConflict: the route is not served, nothing merges"},
		{"backendtrafficpolicy-strategic-merge", "HostnameConflict", "b", "spec: an HTTPRoute and a GRPCRoute must not share a hostname on a listener (GEP-1016); EG does not enforce it (docs/translation.md)"},
		{"backendtrafficpolicy-strategic-merge", "", "b", "follows from the HostnameConflict above"},
		{"backendtrafficpolicy-strategic-merge-section", "", "b", "the HTTPRoute and the GRPCRoute share listener-2's hostname; the spec gives it to one (GEP-1016), EG to both"},
		{"backendtrafficpolicy-status-conditions", "target-httproute-in-gateway-1", "b", whyBTPPolicyOrder},
		{"backendtrafficpolicy-status-conditions", "ancestor status only in egctl", "b", whyBTPTargetNotFound},
		{"backendtrafficpolicy-status-conditions", "listener https", "b", whyCRDInvalidEG},
		{"backendtrafficpolicy-status-conditions", "not-same-namespace", "b", whyFromSame},
		{"httproute-with-externalname-service-backend", "", "b", whyExternalName},
		{"backendtrafficpolicy-listenerset", "/variant/1", "b", whySplit},
		{"backendtrafficpolicy-listenerset-merge", "/variant/1", "b", whySplit},
		{"backendtrafficpolicy-route-listenerset", "/variant/1", "b", whySplit},
		{"backendtrafficpolicy-listenerset-merge", "#ext-http-", "b", whyBTPMergedAncestor},
		{"backendtrafficpolicy-listenerset-invalid", "Overridden EG=True/Overridden egctl=absent", "b", whyStructuralOverride},
		// Comparable now that its BackendTrafficPolicy is translated.
		{"httproute-dynamic-resolver-host-rewriting", "", "c", whyDynamic},
	},
)
