package egcompat

import (
	"encoding/json"
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// Envoy Gateway's harness hands the translator the GatewayClass's
// EnvoyProxy directly (envoyProxyForGatewayClass) and the Gateways' by
// their infrastructure.parametersRef (envoyProxiesForGateways). egctl
// reads them as any input: the class's becomes its parametersRef.
func init() {
	supportedKeys["envoyProxyForGatewayClass"] = true
	supportedKeys["envoyProxiesForGateways"] = true
}

// loadEnvoyProxies adds a case's EnvoyProxies to set, and the collector
// Envoy Gateway's harness adds to every case (monitoring/otel-collector).
func loadEnvoyProxies(top map[string]json.RawMessage, set *resource.Set, gc *gwv1.GatewayClass) error {
	addCollectorFixture(set)
	if raw, ok := top["envoyProxyForGatewayClass"]; ok && string(raw) != "null" {
		ep := &egv1a1.EnvoyProxy{}
		if err := json.Unmarshal(raw, ep); err != nil {
			return fmt.Errorf("envoyProxyForGatewayClass: %w", err)
		}
		if ep.Namespace == "" {
			ep.Namespace = "default"
		}
		ns := gwv1.Namespace(ep.Namespace)
		gc.Spec.ParametersRef = &gwv1.ParametersReference{Group: "gateway.envoyproxy.io", Kind: "EnvoyProxy", Name: ep.Name, Namespace: &ns}
		set.EnvoyProxies = append(set.EnvoyProxies, ep)
	}
	if raw, ok := top["envoyProxiesForGateways"]; ok && string(raw) != "null" {
		var eps []*egv1a1.EnvoyProxy
		if err := json.Unmarshal(raw, &eps); err != nil {
			return fmt.Errorf("envoyProxiesForGateways: %w", err)
		}
		for _, ep := range eps {
			if ep.Namespace == "" {
				ep.Namespace = "default"
			}
		}
		set.EnvoyProxies = append(set.EnvoyProxies, eps...)
	}
	return nil
}

// compareEnvoyProxies compares the GatewayClass's conditions and every
// EnvoyProxy's ancestor conditions with Envoy Gateway's.
func compareEnvoyProxies(want *egOut, res *translate.Result) []string {
	var out []string
	if w := want.GatewayClass; w != nil && len(w.Status.Conditions) > 0 {
		for _, g := range res.Status.GatewayClasses {
			if g.Name == egClassName {
				out = append(out, diffConds("GatewayClass", w.Status.Conditions, g.Status.Conditions)...)
			}
		}
	}
	var eg []*egv1a1.EnvoyProxy
	if want.EnvoyProxyForGatewayClass != nil {
		eg = append(eg, want.EnvoyProxyForGatewayClass)
	}
	eg = append(eg, want.EnvoyProxiesForGateways...)
	ours := map[string]*egv1a1.EnvoyProxy{}
	for _, ep := range res.Status.EnvoyProxies {
		ours[ep.Namespace+"/"+ep.Name] = ep
	}
	for _, w := range eg {
		ns := w.Namespace
		if ns == "" {
			ns = "default"
		}
		key := ns + "/" + w.Name
		g := ours[key]
		if g == nil {
			out = append(out, "EnvoyProxy "+key+": missing in egctl's status output")
			continue
		}
		ga := map[string]egv1a1.EnvoyProxyAncestorStatus{}
		for _, a := range g.Status.Ancestors {
			ga[parentKey(ns, a.AncestorRef)] = a
		}
		for _, wa := range w.Status.Ancestors {
			ak := parentKey(ns, wa.AncestorRef)
			a, ok := ga[ak]
			if !ok {
				out = append(out, "EnvoyProxy "+key+" ancestor "+ak+": no ancestor status in egctl")
				continue
			}
			out = append(out, diffConds("EnvoyProxy "+key+" ancestor "+ak, wa.Conditions, a.Conditions)...)
		}
	}
	return out
}

// Reasons for this kind's differences.
const (
	// (b) EG behaviour; egctl does what Envoy Gateway as a whole does, or
	// follows the API.
	whyEPRefusedProgrammed = "a Gateway refused for its EnvoyProxy (InvalidParameters): egctl also writes Programmed=False on it and " +
		"its listeners, since nothing is programmed; EG writes no Programmed on the Gateway and leaves its listeners Programmed=True"
	whyEPClassRefused = "egctl compiles nothing for the Gateways of a GatewayClass it does not accept, and writes no status on them " +
		"(a warning says why), even one whose own EnvoyProxy would replace the class's invalid one; EG's translator still processes them"
	whyEPCRD = "an EnvoyProxy the CRD rejects (format type JSON without json, an access log setting without sinks: sinks is required, " +
		"minItems 1): egctl refuses it as the API server would; EG's translator fills in defaults"
	whyEPProvider = "a Gateway whose infrastructure.parametersRef names a missing EnvoyProxy: EG's provider refuses the Gateway " +
		"(InvalidParameters, provider/kubernetes/controller.go processGatewayParamsRef), its translator test runs without the provider " +
		"and falls back to the class's EnvoyProxy; egctl does what Envoy Gateway as a whole does"
	whyEPRouteConflict = "follows from the HTTPRoute/GRPCRoute HostnameConflict (GEP-1016) on this listener"

	whyTLSRouteRules = "a TLSRoute with two rules, which the CRD rejects (TLSRoute v1 takes one rule, maxItems 1): egctl refuses the " +
		"route (Accepted=False/UnsupportedValue), EG folds the rules into one destination"

	// (c) unsupported in egctl.
	whyCollectorSettings  = "unsupported: backendSettings (cluster settings) on telemetry collectors; egctl refuses the EnvoyProxy"
	whyEPBackendTLSValues = "EnvoyProxy backendTLS values the CRD or Envoy rejects (versions tls1.2/tls1.3 outside the enum Auto, 1.0-1.3; " +
		"cipher names as ECDH curves; OpenSSL-style signature algorithm names): egctl refuses the EnvoyProxy, so the class and its " +
		"Gateways are not compiled; EG passes them to Envoy, whose handshake setup fails"
	whyEPBadClientCert = "an EnvoyProxy backendTLS client certificate Secret holding no PEM (tls.crt \"a\"): egctl refuses the EnvoyProxy, " +
		"so the class and its Gateways are not compiled; EG carries the bytes to Envoy, which rejects the clusters"
	whyEPSDSSecret = "unsupported: a backendTLS client certificate in an SDS-reference Secret (type gateway.envoyproxy.io/sds); egctl " +
		"refuses the EnvoyProxy (EG refuses such Secrets too unless SDS references are enabled, reporting it on the BackendTLSPolicy)"
	whyGeoIP = "unsupported: SecurityPolicy authorization clientIPGeoLocations (GeoIP), which these cases' EnvoyProxy geoIP provider " +
		"serves; egctl refuses the SecurityPolicy and fails its traffic closed"
	whyMergedCTPConflict = "a ClientTrafficPolicy both refuse because its Gateway's HTTP listener shares a port (one HTTP connection " +
		"manager) with another Gateway merged into the same proxy: EG routes the traffic without the policy, egctl fails it closed (500)"
)

var epEmptyMatchCases = []string{
	"accesslog-types", "httproute-with-enable-zone-discovery",
	"httproute-with-headless-service-endpoint-routing", "httproute-with-headless-service-service-routing",
}

// mergeBackendsEmptyMatch are the mergeBackends cases whose rules have no
// matches (EG's match/-1); every other difference of them is listed in
// epExpectations.
var mergeBackendsEmptyMatch = []string{
	"mergebackends-http-demerge-listener-btp-divergence-no-sectionname", "mergebackends-http-demerge-listener-ctp-divergence-no-sectionname",
	"mergebackends-http-demerge-listener-http1-divergence", "mergebackends-http-demerge-listenerset-btp", "mergebackends-http-demerge-listenerset-http1",
	"mergebackends-http-demerge-listenerset-listener-btp", "mergebackends-http-demerge-route-divergence-no-sectionname",
	"mergebackends-http-merge-gateway-wide-ctp-http1", "mergebackends-http-shared-cluster-across-listeners-no-sectionname",
}

// epExpectations are the accepted differences for this kind's cases.
var epExpectations = join(
	// ---- (b) ----
	each([]string{"envoyproxy-accesslog-backend-invalid", "envoyproxy-metric-backend-invalid", "envoyproxy-tracing-backend-invalid",
		"envoyproxy-gateway-accesslog-with-bad-sinks"}, "gateway-1: Programmed EG=absent egctl=False/Invalid", "b", whyEPRefusedProgrammed),
	each([]string{"envoyproxy-accesslog-backend-invalid", "envoyproxy-metric-backend-invalid", "envoyproxy-tracing-backend-invalid"},
		"listener http: Programmed EG=True/Programmed egctl=False/Invalid", "b", whyEPRefusedProgrammed),
	each([]string{"envoyproxy-accesslog-cel-with-invalid", "envoyproxy-accesslog-with-bad-sinks", "envoyproxy-for-gatewayclass"},
		"", "b", whyEPClassRefused),
	each([]string{"envoyproxy-accesslog-file-json-no-format", "envoyproxy-accesslog-types"}, "", "b", whyEPCRD),
	each([]string{"gateway-with-invalid-infrastructure-parametersref-does-not-exist", "gateway-with-invalid-infrastructure-parametersref-fallback"},
		"", "b", whyEPProvider),
	each(epEmptyMatchCases, "/match/-1/", "b", whyEmptyMatch),
	each(epEmptyMatchCases, "/match/0/", "b", whyEmptyMatch),
	[]expectation{
		{"envoyproxy-with-statname", "Accepted EG=True/Accepted egctl=False/HostnameConflict", "b",
			"spec: an HTTPRoute and a GRPCRoute must not share a hostname on a listener (GEP-1016); EG does not enforce it (docs/translation.md)"},
		{"envoyproxy-with-statname", "attachedRoutes EG=2 egctl=1", "b", whyEPRouteConflict},
		{"envoyproxy-with-statname", "/match/0/", "b", whyEmptyMatch},
	},

	each([]string{"backend-tls-settings", "backend-tls-settings-invalid", "envoyproxy-tls-settings", "envoyproxy-tls-settings-invalid",
		"envoyproxy-tls-settings-invalid-ns"}, "", "b", whyEPBackendTLSValues),
	each([]string{"gateway-tls-frontend-backend"}, "", "b", whyEPBadClientCert),

	each(mergeBackendsEmptyMatch, "/match/-1/", "b", whyEmptyMatch),
	each(mergeBackendsEmptyMatch, "/match/0/", "b", whyEmptyMatch),
	[]expectation{
		{"mergebackends-http-grpc-protocol-demerge", "Accepted EG=True/Accepted egctl=False/HostnameConflict", "b",
			"spec: an HTTPRoute and a GRPCRoute must not share a hostname on a listener (GEP-1016); EG does not enforce it (docs/translation.md)"},
		{"mergebackends-http-grpc-protocol-demerge", "attachedRoutes EG=2 egctl=1", "b", whyEPRouteConflict},
		{"mergebackends-http-grpc-protocol-demerge", "http-route-1/rule/0/match/0/* missing in egctl", "b", whyEPRouteConflict},
		{"mergebackends-http-routingtype-mergetype-unset", "#http: no ancestor status in egctl", "b", whyBTPMergedAncestor},
	},
	each([]string{"mergebackends-tls-multi-rule-distinct-backends", "mergebackends-tls-multi-rule-shared-cluster"}, "", "b", whyTLSRouteRules),

	// ---- (c) ----
	each([]string{"mergebackends-http-demerge-dynamic-resolver"}, "", "c", whyDynamic),
	each([]string{"sds-disabled"}, "", "c", whyEPSDSSecret),
	each([]string{"accesslog-als-grpc", "backendtrafficpolicy-dns-lookup-family", "envoyproxy-accesslog-with-traffic", "envoyproxy-tracing-backend", "envoyproxy-tracing-backend-uds",
		"envoyproxy-tracing-backend-with-hc-log"}, "", "c", whyCollectorSettings),

	// Cases of other kinds that need an EnvoyProxy to be compared; their
	// differences are those kinds' own.
	[]expectation{
		{"conflicting-policies", "route httproute/default/mfqjpuycbgjrtdww/rule/0", "b", whyMergedCTPConflict},
		{"merge-with-isolated-policies-2", "route httproute/default/httproute-3/rule/0", "b", whyMergedCTPConflict},
		{"envoypatchpolicy-invalid-merge-gateways", "Accepted EG=False/Invalid egctl=False/TargetNotFound", "b", whyTargetNotFound},
		{"envoypatchpolicy-invalid-target-kind-merge-gateways", "ancestor GatewayClass:envoy-gateway/gateway-1: no ancestor status in egctl", "b", whyEPPMergedAncestor},
		{"envoypatchpolicy-invalid-target-kind-merge-gateways", "ancestor envoy-gateway/gateway-1: ancestor status only in egctl", "b", whyEPPMergedAncestor},
	},
	each([]string{"securitypolicy-with-authorization-geoip", "securitypolicy-with-authorization-geoip-direct-source-ip",
		"securitypolicy-with-authorization-geoip-mixed-valid-invalid", "securitypolicy-with-authorization-geoip-mixed-valid-invalid-route-target"},
		"", "c", whyGeoIP),
)

// whyEPPMergedAncestor: EG's ancestor for a refused Gateway target.
const whyEPPMergedAncestor = "an EnvoyPatchPolicy targeting a Gateway whose class merges Gateways: EG names the ancestor " +
	"GatewayClass with the Gateway's name; egctl names it as the targetRef does (the Gateway)"

// addCollectorFixture adds Service monitoring/otel-collector (ports grpc
// 4317 and zipkin 9411, one ready endpoint), as Envoy Gateway's translator
// test harness does, unless the case defines it.
func addCollectorFixture(set *resource.Set) {
	for _, s := range set.Services {
		if s.Namespace == "monitoring" && s.Name == "otel-collector" {
			return
		}
	}
	port := func(name string, n int32, app *string) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: n, TargetPort: intstr.FromInt32(n), Protocol: corev1.ProtocolTCP, AppProtocol: app}
	}
	grpc := "grpc"
	set.Services = append(set.Services, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "otel-collector"},
		Spec:       corev1.ServiceSpec{ClusterIP: "3.3.3.3", Ports: []corev1.ServicePort{port("grpc", 4317, &grpc), port("zipkin", 9411, nil)}},
	})
	es := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "otel-collector-endpointslice",
			Labels: map[string]string{discoveryv1.LabelServiceName: "otel-collector"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"8.7.6.5"}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}}},
	}
	for _, p := range []struct {
		name string
		n    int32
	}{{"grpc", 4317}, {"zipkin", 9411}} {
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: new(p.name), Port: new(p.n), Protocol: new(corev1.ProtocolTCP)})
	}
	set.EndpointSlices = append(set.EndpointSlices, es)
}
