package egcompat

import (
	"fmt"

	"github.com/egctl/egctl/translate"
)

// SecurityPolicy oidc and extAuth (translate/sp_oidc.go, sp_extauth.go):
// their cases run with the rest of the kind (kind_securitypolicy_test.go);
// this file gives them the discovery document they need and lists their
// differences.

func init() {
	// Envoy Gateway's tests discover accounts.google.com's endpoints over
	// the network; egctl is given the same document, as a user would with
	// --oidc-discovery.
	caseOptions.OIDCDiscovery = func(issuer string) (*translate.OIDCProviderConfig, error) {
		if issuer != "https://accounts.google.com" {
			return nil, fmt.Errorf("no discovery document for %s in the test", issuer)
		}
		return &translate.OIDCProviderConfig{Issuer: issuer, AuthorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
			TokenEndpoint: "https://oauth2.googleapis.com/token"}, nil
	}
}

const (
	whyServiceHash = "loadBalancer.consistentHash in an external service's backendSettings: the filter's calls carry no " +
		"hash key, so EG's Maglev cluster picks endpoints at random; egctl refuses it rather than claim a hash " +
		"(docs/translation.md)"
	whyExtProcRetry = "unsupported: retry in an external processor's backendSettings (EG sets it on the processor's " +
		"gRPC stream); egctl refuses it until a test shows Envoy retrying such a stream (docs/envoyextensionpolicy.md)"
	whyExtAuthExternalName = "egctl resolves an ExternalName Service as a DNS cluster, for ext-auth services as for route " +
		"backends (docs/translation.md); EG refuses it and fails the route"
)

// spAuthExpectations are the accepted differences of those cases.
var spAuthExpectations = join(
	[]expectation{
		{"securitypolicy-with-extauth-externalname-service", "policy-for-http-route-1 ancestor default/gateway-1#http: Accepted EG=False/Invalid egctl=True/Accepted", "b", whyExtAuthExternalName},
		{"securitypolicy-with-extauth-externalname-service", "EG=direct 500 egctl=dest", "b", whyExtAuthExternalName},
	},
	[]expectation{
		{"securitypolicy-with-oidc-backendsettings", "Accepted EG=True/Accepted egctl=False/Invalid", "b", whyServiceHash},
		{"securitypolicy-with-oidc-backendsettings", "EG=dest httproute/default/httproute-1/rule/0", "b", whyServiceHash},
	},
)
