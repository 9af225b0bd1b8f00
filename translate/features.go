package translate

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/gateway-api/pkg/features"
)

// SupportedFeatures are the Gateway API conformance features egctl
// implements, each with where or how. docs/features.md is generated from
// this list and featureGaps (go test ./translate -run TestFeaturesDoc
// -update); a test fails when the file is stale.
var SupportedFeatures = map[features.FeatureName]string{
	features.SupportGateway:                                                    "one Envoy per Gateway; HTTP, HTTPS, TLS, TCP, UDP listeners",
	features.SupportGatewayPort8080:                                            "any port; below 1024 binds port+10000 unless --keep-privileged-ports",
	features.SupportGatewayHTTPListenerIsolation:                               "a hostname belongs to the most specific listener of its port",
	features.SupportGatewayHTTPSListenerDetectMisdirectedRequests:              "421 when Host belongs to another HTTPS listener than the SNI",
	features.SupportGatewayFrontendClientCertificateValidation:                 "spec.tls.frontend default and perPort, CA in ConfigMap or Secret ca.crt",
	features.SupportGatewayFrontendClientCertificateValidationInsecureFallback: "mode AllowInsecureFallback, with the InsecureFrontendValidationMode condition",
	features.SupportGatewayBackendClientCertificate:                            "spec.tls.backend.clientCertificateRef, presented to BackendTLSPolicy backends",
	features.SupportListenerSet:                                                "all listener protocols; allowedListeners, precedence, conflicts, status",
	features.SupportReferenceGrant:                                             "certificates, CA certificates and backends across namespaces",
	features.SupportHTTPRoute:                                                  "",
	features.SupportHTTPRouteDestinationPortMatching:                           "",
	features.SupportHTTPRouteBackendRequestHeaderModification:                  "per-backendRef filters",
	features.SupportHTTPRouteQueryParamMatching:                                "",
	features.SupportHTTPRouteMethodMatching:                                    "",
	features.SupportHTTPRouteResponseHeaderModification:                        "",
	features.SupportHTTPRoutePortRedirect:                                      "without a port: the scheme's well-known port, else the listener's",
	features.SupportHTTPRouteSchemeRedirect:                                    "",
	features.SupportHTTPRoutePathRedirect:                                      "",
	features.SupportHTTPRouteHostRewrite:                                       "",
	features.SupportHTTPRoutePathRewrite:                                       "",
	features.SupportHTTPRouteRequestMirror:                                     "",
	features.SupportHTTPRouteRequestMultipleMirrors:                            "",
	features.SupportHTTPRouteRequestPercentageMirror:                           "",
	features.SupportHTTPRouteRequestTimeout:                                    "",
	features.SupportHTTPRouteBackendTimeout:                                    "",
	features.SupportHTTPRouteParentRefPort:                                     "",
	features.SupportHTTPRouteBackendProtocolH2C:                                "Service appProtocol kubernetes.io/h2c; Backend appProtocols gateway.envoyproxy.io/h2c",
	features.SupportHTTPRouteBackendProtocolWebSocket:                          "appProtocol kubernetes.io/ws, and kubernetes.io/wss with a BackendTLSPolicy; Backend appProtocols gateway.envoyproxy.io/ws and /wss",
	features.SupportHTTPRouteNamedRouteRule:                                    "",
	features.SupportHTTPRouteCORS:                                              "",
	features.SupportHTTPRoute303RedirectStatusCode:                             "",
	features.SupportHTTPRoute307RedirectStatusCode:                             "",
	features.SupportHTTPRoute308RedirectStatusCode:                             "",
	features.SupportHTTPRouteRetry:                                             "retried status codes, attempts and back-off",
	features.SupportHTTPRouteRetryConnectionError:                              "connection failures are always retried with the listed codes",
	features.SupportHTTPRouteRetryBackendTimeout:                               "an attempt cut by timeouts.backendRequest is retried (retry_on reset); the suite has no test for it, egctl's Envoy test checks it",
	features.SupportGatewayStaticAddresses:                                     "one IPAddress, bound by every listener (Envoy fails if the host lacks it); other types: UnsupportedAddress; a second IP: AddressNotUsable",
	features.SupportGatewayAddressEmpty:                                        "an IPAddress without a value binds the default address",
	features.SupportBackendTLSPolicy:                                           "Service and Envoy Gateway Backend targets (and sectionName ports); CA refs or the system store; oldest policy wins; merged with a Backend's spec.tls",
	features.SupportBackendTLSPolicySANValidation:                              "Hostname and URI subjectAltNames",
	features.SupportGRPCRoute:                                                  "",
	features.SupportGRPCRouteNamedRouteRule:                                    "",
	features.SupportTCPRoute:                                                   "",
	features.SupportTLSRoute:                                                   "TLS passthrough by SNI",
	features.SupportTLSRouteModeTerminate:                                      "",
	features.SupportTLSRouteModeMixed:                                          "Terminate and Passthrough TLS listeners share a port; SNI picks the filter chain",
	features.SupportUDPRoute:                                                   "",
}

// featureGaps say why a feature is not supported, when there is more to
// say than "not yet".
var featureGaps = map[features.FeatureName]string{
	features.SupportGatewayInfrastructure: "spec.infrastructure labels and annotations are for the Pods, Services and ServiceAccounts a controller deploys (what the suite checks), and egctl deploys none; infrastructure.parametersRef names an EnvoyProxy, which egctl applies (docs/envoyproxy.md)",
}

// FeaturesMarkdown renders docs/features.md: every conformance feature of
// the Gateway API version egctl is built with, one line each.
func FeaturesMarkdown() string {
	all := features.AllFeatures.UnsortedList()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	var b strings.Builder
	b.WriteString("# Gateway API features\n\n")
	b.WriteString("<!-- Generated from translate.SupportedFeatures by `go test ./translate -run TestFeaturesDoc -update`; do not edit. -->\n\n")
	b.WriteString("Every conformance feature of Gateway API (sigs.k8s.io/gateway-api/pkg/features) and whether egctl supports it.\n\n")
	b.WriteString("| Feature | Channel | Supported | Notes |\n|---|---|---|---|\n")
	yes := 0
	for _, f := range all {
		note, ok := SupportedFeatures[f.Name]
		mark := "no"
		if ok {
			mark = "yes"
			yes++
		} else {
			note = featureGaps[f.Name]
			if strings.HasPrefix(string(f.Name), "Mesh") {
				note = "egctl compiles Gateways, not a mesh"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, f.Channel, mark, note)
	}
	fmt.Fprintf(&b, "\n%d of %d features supported.\n", yes, len(all))
	return b.String()
}
