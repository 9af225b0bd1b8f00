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
	whyExtServiceSettings = "unsupported: backendSettings that Envoy Gateway puts on an external service's cluster (circuit breakers, " +
		"load balancing, health checks, TCP/HTTP connection settings); egctl refuses the policy until BackendTrafficPolicy's " +
		"cluster settings are applied to those clusters (docs/securitypolicy-extauth.md)"
	whyExtAuthExternalName = "egctl resolves an ExternalName Service as a DNS cluster, for ext-auth services as for route " +
		"backends (docs/translation.md); EG refuses it and fails the route"
)

// spAuthExpectations are the accepted differences of those cases.
var spAuthExpectations = join(
	[]expectation{
		{"securitypolicy-with-extauth-externalname-service", "policy-for-http-route-1 ancestor default/gateway-1#http: Accepted EG=False/Invalid egctl=True/Accepted", "b", whyExtAuthExternalName},
		{"securitypolicy-with-extauth-externalname-service", "EG=direct 500 egctl=dest", "b", whyExtAuthExternalName},
	},
	each([]string{"securitypolicy-with-extauth-backendref", "securitypolicy-with-extauth-backendrefs"},
		"SecurityPolicy default/policy-for-gateway-1 ancestor default/gateway-1: Accepted EG=True/Accepted egctl=False/Invalid", "c", whyExtServiceSettings),
	each([]string{"securitypolicy-with-extauth-backendref", "securitypolicy-with-extauth-backendrefs"},
		"route httproute/default/httproute-2/rule/0/match/0/www_bar_com EG=dest", "c", whyExtServiceSettings),
	[]expectation{
		{"securitypolicy-with-oidc-backendsettings", "Accepted EG=True/Accepted egctl=False/Invalid", "c", whyExtServiceSettings},
		{"securitypolicy-with-oidc-backendsettings", "EG=dest httproute/default/httproute-1/rule/0", "c", whyExtServiceSettings},
	},
)
