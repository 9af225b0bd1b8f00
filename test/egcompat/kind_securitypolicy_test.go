package egcompat

// Envoy Gateway's SecurityPolicy cases run here: egctl translates the kind.
// Differences of the cases about spec.oidc and spec.extAuth are in
// kind_securitypolicy_auth_test.go.

func init() { supportedKeys["securityPolicies"] = true }

const (
	whySPOrder = "EG's translator test processes policies in input order; EG's provider first sorts them oldest first, " +
		"then by namespace/name, as egctl does, so without creationTimestamps the other policy of the pair wins the target"
	whySPTargetNotFound = "a policy whose target is not in the input: egctl says Accepted=False/TargetNotFound " +
		"(offline the input is all there is; a typo would leave the intended target unprotected), EG writes nothing"
	whySPTCPInvalid = "an invalid SecurityPolicy on a TCPRoute: EG leaves the connections open (a TCP route has no " +
		"direct response), egctl refuses them; the listener's policy is reported merged, not overridden, as the route's " +
		"policy was merged onto it before the result was refused"
	whySPFailOpenInvalid = "ext-auth with failOpen whose backend does not resolve: EG leaves ext-auth out and serves the route; " +
		"egctl refuses it, as every policy it cannot honour: failOpen is for a service that fails at run time, a reference " +
		"to nothing is a configuration error, reported"
)

// spExpectations are the accepted differences for this kind's cases.
var spExpectations = join(
	// ---- (b) EG-specific; egctl follows its own documented rule ----
	[]expectation{
		{"securitypolicy-status-conditions", "target-httproute-in-gateway-1 ancestor envoy-gateway/gateway-1: Accepted", "b", whySPOrder},
		{"securitypolicy-status-conditions", "target-httproute-in-gateway-1 ancestor envoy-gateway/gateway-1: Warning EG=True/DeprecatedField egctl=absent", "b",
			whySPOrder + "; the policy that lost is not attached, so it carries no warning"},
		{"securitypolicy-status-conditions", "target-unknown-", "b", whySPTargetNotFound},
		{"securitypolicy-invalid-cross-ns-ref", "ancestor status only in egctl", "b", whySPTargetNotFound},
		{"securitypolicy-status-conditions", "listener https: ", "b", whyNoCerts},
		{"securitypolicy-with-merge-tcp-invalid", "", "b", whySPTCPInvalid},
		{"securitypolicy-with-extauth-invalid-no-service", "EG=dest", "b", whySPFailOpenInvalid},
	},
	each([]string{"tcproute-securitypolicy-conflicting-listeners"}, "", "b", whyConflicted),

	// The key set's cluster asks for a consistent hash its fetches cannot
	// carry.
	[]expectation{{"securitypolicy-with-jwt-backendsettings", "", "b", whyServiceHash}},
)
