package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

// epBase is a class naming EnvoyProxy default/class-ep, a Gateway of it,
// and a Service with endpoints; tests add the EnvoyProxies and routes.
const epBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: class-ep, namespace: default}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec:
  clusterIP: 10.0.0.7
  ports: [{name: http, port: 3000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: default, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints: [{addresses: [127.0.0.5], conditions: {ready: true}}]
---
`

func epGateway(name, infra string) string {
	s := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ` + name + `, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
`
	if infra != "" {
		s += "  infrastructure:\n    parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: " + infra + "}\n"
	}
	return s + "---\n"
}

func envoyProxy(name, spec string) string {
	return "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {name: " + name + ", namespace: default}\nspec:\n" + spec + "\n---\n"
}

const epRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: svc, port: 3000}]
---
`

func proxyNamed(t *testing.T, res *Result, name string) *ir.Proxy {
	t.Helper()
	for _, p := range res.IR.Proxies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no proxy %s in %d proxies", name, len(res.IR.Proxies))
	return nil
}

func epAncestors(t *testing.T, res *Result, name string) map[string]string {
	t.Helper()
	for _, ep := range res.Status.EnvoyProxies {
		if ep.Name != name {
			continue
		}
		out := map[string]string{}
		for _, a := range ep.Status.Ancestors {
			c := a.Conditions[0]
			out[ancestorKey(a.AncestorRef)] = string(c.Status) + "/" + c.Reason
		}
		return out
	}
	t.Fatalf("no EnvoyProxy %s", name)
	return nil
}

// TestEnvoyProxyClassAndGateway: the Gateway's EnvoyProxy replaces the
// class's unless it sets mergeType; statuses name the referrers.
func TestEnvoyProxyClassAndGateway(t *testing.T) {
	classEP := envoyProxy("class-ep", "  ipFamily: IPv6\n  preserveRouteOrder: true")
	t.Run("class only", func(t *testing.T) {
		res := run(t, epBase+classEP+epGateway("gw", "")+epRoute)
		p := proxyNamed(t, res, "default/gw")
		if p.Settings == nil || p.Settings.IPFamily != ir.IPv6 || p.HTTP[0].Address != "::" {
			t.Fatalf("class EnvoyProxy not applied: %+v, address %s", p.Settings, p.HTTP[0].Address)
		}
		if got := epAncestors(t, res, "class-ep"); got["GatewayClass eg"] != "True/Accepted" || len(got) != 1 {
			t.Errorf("ancestors %v", got)
		}
		if len(res.Problems) != 0 {
			t.Errorf("problems %v", res.Problems)
		}
	})
	t.Run("gateway replaces", func(t *testing.T) {
		res := run(t, epBase+classEP+envoyProxy("gw-ep", "  ipFamily: DualStack")+epGateway("gw", "gw-ep")+epRoute)
		p := proxyNamed(t, res, "default/gw")
		if p.Settings.IPFamily != ir.DualStack || strings.Join(p.Settings.EnvoyProxy, ",") != "default/gw-ep" {
			t.Fatalf("settings %+v", p.Settings)
		}
		if got := epAncestors(t, res, "gw-ep"); got["Gateway default/gw"] != "True/Accepted" {
			t.Errorf("ancestors %v", got)
		}
	})
	t.Run("gateway merges", func(t *testing.T) {
		res := run(t, epBase+classEP+envoyProxy("gw-ep", "  mergeType: StrategicMerge\n  routingType: Service")+epGateway("gw", "gw-ep")+epRoute)
		p := proxyNamed(t, res, "default/gw")
		if p.Settings.IPFamily != ir.IPv6 || strings.Join(p.Settings.EnvoyProxy, ",") != "default/class-ep,default/gw-ep" {
			t.Fatalf("merge lost the class's settings: %+v", p.Settings)
		}
		// routingType Service from the Gateway's: the cluster IP, not the endpoint.
		eps := p.HTTP[0].VirtualHosts[0].Routes[0].Destination.Backends[0].Endpoints
		if len(eps) != 1 || eps[0].Host != "10.0.0.7" {
			t.Errorf("routingType Service: endpoints %v", eps)
		}
	})
}

// TestEnvoyProxyBadReferences: every unusable reference is reported where
// Envoy Gateway reports it, and nothing is compiled for what it covers.
func TestEnvoyProxyBadReferences(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		object     string // Kind of the object not accepted
		msg        string
		epAncestor string // EnvoyProxy ancestor status, "" for none
	}{
		{"class EnvoyProxy missing", epBase + epGateway("gw", "") + epRoute, "GatewayClass",
			"Invalid parametersRef: spec.parametersRef: EnvoyProxy default/class-ep not found", ""},
		{"class EnvoyProxy invalid", epBase + envoyProxy("class-ep", "  ipFamily: IPv5") + epGateway("gw", "") + epRoute, "GatewayClass",
			`spec.ipFamily: unsupported value "IPv5"`, "GatewayClass eg=False/InvalidParameters"},
		{"gateway EnvoyProxy missing", epBase + envoyProxy("class-ep", "  ipFamily: IPv4") + epGateway("gw", "nope") + epRoute, "Gateway",
			"spec.infrastructure.parametersRef: EnvoyProxy default/nope not found", ""},
		{"gateway EnvoyProxy invalid", epBase + envoyProxy("class-ep", "  ipFamily: IPv4") + envoyProxy("gw-ep", "  filterOrder:\n  - {name: envoy.filters.http.cors, after: envoy.filters.http.router}") + epGateway("gw", "gw-ep") + epRoute, "Gateway",
			"no filter can run after the router", "Gateway default/gw=False/InvalidParameters"},
		{"collector not found", epBase + envoyProxy("class-ep", "  telemetry:\n    tracing:\n      provider: {type: OpenTelemetry, backendRefs: [{name: otel, port: 4317}]}") + epGateway("gw", "") + epRoute, "Gateway",
			"spec.telemetry.tracing.provider.backendRefs[0]: Service default/otel not found", ""},
		{"invalid mergeBackends selector", epBase + envoyProxy("class-ep", "  mergeBackends:\n    selector:\n      matchExpressions: [{key: tier, operator: Near, values: [a]}]") + epGateway("gw", "") + epRoute, "GatewayClass",
			"spec.mergeBackends.selector: \"Near\" is not a valid label selector operator", "GatewayClass eg=False/InvalidParameters"},
		{"invalid CEL", epBase + envoyProxy("class-ep", "  telemetry:\n    accessLog:\n      settings:\n      - matches: ['response.code >']\n        sinks: [{type: File, file: {path: /dev/stdout}}]") + epGateway("gw", "") + epRoute, "GatewayClass",
			"invalid CEL expression", "GatewayClass eg=False/InvalidParameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.in)
			if len(res.IR.Proxies) != 0 {
				t.Fatalf("%d proxies compiled, want none", len(res.IR.Proxies))
			}
			var found bool
			for _, p := range res.Problems {
				if p.Key.Kind == tc.object && p.Reason == "InvalidParameters" && strings.Contains(p.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s InvalidParameters problem with %q in %v", tc.object, tc.msg, res.Problems)
			}
			if tc.object == "Gateway" {
				wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Accepted", "False", "InvalidParameters")
				// Routes cannot attach to a Gateway that is not accepted.
				wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "NoMatchingParent")
			}
			if tc.epAncestor != "" {
				k, v, _ := strings.Cut(tc.epAncestor, "=")
				name := "class-ep"
				if strings.HasPrefix(k, "Gateway ") {
					name = "gw-ep"
				}
				if got := epAncestors(t, res, name); got[k] != v {
					t.Errorf("EnvoyProxy %s ancestors %v, want %s", name, got, tc.epAncestor)
				}
			}
		})
	}
}

// TestEnvoyProxyWarnings: Kubernetes deployment settings and command-line
// flags are accepted and named once, however many Gateways use them.
func TestEnvoyProxyWarnings(t *testing.T) {
	spec := `  provider:
    type: Kubernetes
    kubernetes:
      envoyDeployment: {replicas: 3}
      envoyHpa: {maxReplicas: 5}
  concurrency: 4
  shutdown: {drainTimeout: 30s, minDrainDuration: 5s}
  logging: {level: {default: info, upstream: debug}}`
	in := epBase + envoyProxy("class-ep", spec) + epGateway("gw", "") + epGateway("gw2", "") + epRoute
	res := run(t, in)
	if len(res.Problems) != 0 {
		t.Fatalf("problems %v", res.Problems)
	}
	var msgs []string
	for _, w := range res.Warnings {
		msgs = append(msgs, w.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"EnvoyProxy default/class-ep: spec.provider.kubernetes (envoyDeployment, envoyHpa) configures the Kubernetes objects",
		"start Envoy with: --log-level info --component-log-level upstream:debug --concurrency 4 --drain-time-s 30 --drain-strategy immediate",
		"minDrainDuration and healthCheckFailureDelay",
	} {
		if strings.Count(all, want) != 1 {
			t.Errorf("want exactly one warning with %q; have:\n%s", want, all)
		}
	}
	if got := proxyNamed(t, res, "default/gw").Settings.CommandLine; strings.Join(got, " ") != "--log-level info --component-log-level upstream:debug --concurrency 4 --drain-time-s 30 --drain-strategy immediate" {
		t.Errorf("command line %q", got)
	}
}

// TestPreserveRouteOrder: with preserveRouteOrder the rules keep their
// written order; without, Gateway API precedence puts the longer prefix
// first.
func TestPreserveRouteOrder(t *testing.T) {
	route := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: svc, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: svc, port: 3000}]
  - matches: [{path: {type: Exact, value: /api/v1}}]
    backendRefs: [{name: svc, port: 3000}]
---
`
	order := func(res *Result) string {
		var names []string
		for _, r := range proxyNamed(t, res, "default/gw").HTTP[0].VirtualHosts[0].Routes {
			names = append(names, r.Match.Path)
		}
		return strings.Join(names, " ")
	}
	if got := order(run(t, epBase+envoyProxy("class-ep", "  preserveRouteOrder: false")+epGateway("gw", "")+route)); got != "/api/v1 /api /" {
		t.Errorf("precedence order %q", got)
	}
	if got := order(run(t, epBase+envoyProxy("class-ep", "  preserveRouteOrder: true")+epGateway("gw", "")+route)); got != "/ /api /api/v1" {
		t.Errorf("preserved order %q", got)
	}
}

// TestMergeGateways: one proxy named after the class; a listener another
// Gateway of the class already has is Conflicted.
func TestMergeGateways(t *testing.T) {
	gw3 := strings.Replace(epGateway("gw3", ""), "port: 80,", "port: 81,", 1)
	res := run(t, epBase+envoyProxy("class-ep", "  mergeGateways: true")+epGateway("gw", "")+epGateway("gw2", "")+gw3+epRoute)
	if len(res.IR.Proxies) != 1 {
		t.Fatalf("%d proxies, want 1", len(res.IR.Proxies))
	}
	p := proxyNamed(t, res, "eg")
	var names []string
	for _, l := range p.HTTP {
		names = append(names, l.Name)
	}
	if strings.Join(names, " ") != "default/gw/http default/gw3/http" {
		t.Errorf("listeners %v", names)
	}
	ls := listenerStatus(t, gatewayOut(t, res, "default", "gw2"), "http")
	wantCond(t, ls.Conditions, "Conflicted", "True", "HostnameConflict")
	if err := res.IR.Validate(); err != nil {
		t.Errorf("merged IR: %v", err)
	}
	// A Gateway of a merging class may not name its own EnvoyProxy.
	res = run(t, epBase+envoyProxy("class-ep", "  mergeGateways: true")+envoyProxy("gw-ep", "  ipFamily: IPv6")+epGateway("gw", "gw-ep")+epRoute)
	c := wantCond(t, gatewayOut(t, res, "default", "gw").Status.Conditions, "Accepted", "False", "InvalidParameters")
	if !strings.Contains(c.Message, "mergeGateways") {
		t.Errorf("message %q", c.Message)
	}
}

// TestEnvoyGatewayDefaults: the one switch that emits Envoy Gateway's
// default access log and stats listener, with or without an EnvoyProxy.
func TestEnvoyGatewayDefaults(t *testing.T) {
	plain := strings.Replace(epBase, "  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: class-ep, namespace: default}\n", "", 1)
	if p := proxyNamed(t, run(t, plain+epGateway("gw", "")+epRoute), "default/gw"); p.Settings != nil {
		t.Errorf("settings without EnvoyProxy or defaults: %+v", p.Settings)
	}
	p := proxyNamed(t, run(t, plain+epGateway("gw", "")+epRoute, Options{EnvoyGatewayDefaults: true}), "default/gw")
	if p.Settings == nil || p.Settings.AccessLog == nil || p.Settings.AccessLog.Entries[0].File.Path != "/dev/stdout" || p.Settings.Metrics.Prometheus == nil {
		t.Errorf("defaults not applied: %+v", p.Settings)
	}
	// An EnvoyProxy that disables the access log keeps it off.
	p = proxyNamed(t, run(t, epBase+envoyProxy("class-ep", "  telemetry: {accessLog: {disable: true}}")+epGateway("gw", "")+epRoute, Options{EnvoyGatewayDefaults: true}), "default/gw")
	if p.Settings.AccessLog != nil {
		t.Errorf("disabled access log emitted")
	}
	// accessLog without settings is the default log, switch or not.
	p = proxyNamed(t, run(t, epBase+envoyProxy("class-ep", "  telemetry: {accessLog: {}}")+epGateway("gw", "")+epRoute), "default/gw")
	if p.Settings.AccessLog == nil || len(p.Settings.AccessLog.Entries[0].JSON) != len(defaultJSONFields) {
		t.Errorf("empty accessLog: %+v", p.Settings.AccessLog)
	}
}

// TestEnvoyProxyTelemetryFormats: the format rules of access log sinks.
func TestEnvoyProxyTelemetryFormats(t *testing.T) {
	spec := `  telemetry:
    accessLog:
      settings:
      - format: {text: "%RESPONSE_CODE%"}
        sinks: [{type: File, file: {path: /tmp/a.log}}]
      - format: {type: JSON, json: {code: "%RESPONSE_CODE%"}}
        type: Route
        sinks: [{type: File, file: {path: /tmp/b.log}}, {type: OpenTelemetry, openTelemetry: {host: 127.0.0.1}}]
      - sinks: [{type: File, file: {path: /tmp/c.log}}]`
	p := proxyNamed(t, run(t, epBase+envoyProxy("class-ep", spec)+epGateway("gw", "")+epRoute), "default/gw")
	es := p.Settings.AccessLog.Entries
	if len(es) != 4 {
		t.Fatalf("%d entries", len(es))
	}
	if es[0].Text != "%RESPONSE_CODE%" || es[0].JSON != nil {
		t.Errorf("text only: %+v", es[0])
	}
	if es[1].Type != ir.AccessLogRoute || len(es[1].JSON) != 1 || es[1].Text != "" {
		t.Errorf("json: %+v", es[1])
	}
	if o := es[2].OpenTelemetry; o == nil || o.Service.Destination.Name != "accesslog_otel_1_1" || o.Service.Destination.Backends[0].Endpoints[0].Port != 4317 {
		t.Errorf("otel: %+v", es[2])
	}
	if len(es[3].JSON) != len(defaultJSONFields) {
		t.Errorf("no format: want the default JSON fields, have %+v", es[3])
	}
}

// TestEnvoyProxyBackendTLS: the EnvoyProxy's client certificate and TLS
// parameters go on TLS backends, unless the Gateway has its own.
func TestEnvoyProxyBackendTLS(t *testing.T) {
	crt, key := selfSigned(t)
	secret := secretYAML("default", "client", "kubernetes.io/tls", crt, key) + `
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: btls, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: svc}]
  validation: {hostname: svc.example.com, wellKnownCACertificates: System}
---
`
	spec := `  backendTLS:
    clientCertificateRef: {name: client}
    minVersion: "1.3"
    alpnProtocols: [h2]`
	p := proxyNamed(t, run(t, epBase+secret+envoyProxy("class-ep", spec)+epGateway("gw", "")+epRoute), "default/gw")
	tls := p.HTTP[0].VirtualHosts[0].Routes[0].Destination.Backends[0].TLS
	if tls == nil || tls.ClientCertificate == nil || tls.ClientCertificate.Name != "default/client" || tls.MinVersion != "1.3" || strings.Join(tls.ALPNProtocols, ",") != "h2" {
		t.Fatalf("backend TLS %+v", tls)
	}
	// A missing Secret refuses the EnvoyProxy.
	res := run(t, epBase+envoyProxy("class-ep", strings.Replace(spec, "name: client", "name: missing", 1))+epGateway("gw", "")+epRoute)
	wantCond(t, res.Status.GatewayClasses[0].Status.Conditions, "Accepted", "False", "InvalidParameters")
}

// TestEnvoyProxyBackendTLSUnderBackend: a Backend's own spec.tls settings
// win field by field over the EnvoyProxy's, which fill in the rest (Envoy
// Gateway's mergeClientTLSConfigs); unknown names are refused.
func TestEnvoyProxyBackendTLSUnderBackend(t *testing.T) {
	crt, key := selfSigned(t)
	in := epBase + secretYAML("default", "client", "kubernetes.io/tls", crt, key) + `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 10.0.0.1, port: 443}}]
  tls: {insecureSkipVerify: true, minVersion: "1.2", ciphers: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be, port: 443}]
---
`
	spec := `  backendTLS:
    clientCertificateRef: {name: client}
    minVersion: "1.3"
    ciphers: [ECDHE-ECDSA-AES256-GCM-SHA384]
    ecdhCurves: [X25519]`
	p := proxyNamed(t, run(t, in+envoyProxy("class-ep", spec)+epGateway("gw", "")), "default/gw")
	tls := p.HTTP[0].VirtualHosts[0].Routes[0].Destination.Backends[0].TLS
	if tls == nil || tls.ClientCertificate == nil || tls.ClientCertificate.Name != "default/client" {
		t.Fatalf("backend TLS %+v: want the EnvoyProxy's client certificate", tls)
	}
	if tls.MinVersion != "1.2" || tls.MaxVersion != "1.3" || strings.Join(tls.Ciphers, ",") != "ECDHE-RSA-AES128-GCM-SHA256" ||
		strings.Join(tls.ECDHCurves, ",") != "X25519" || !tls.InsecureSkipVerify {
		t.Fatalf("backend TLS %+v: want the Backend's minVersion and ciphers, the EnvoyProxy's maxVersion and curves", tls)
	}
	res := run(t, in+envoyProxy("class-ep", strings.Replace(spec, "[X25519]", "[X9]", 1))+epGateway("gw", ""))
	wantCond(t, res.Status.GatewayClasses[0].Status.Conditions, "Accepted", "False", "InvalidParameters")
}

// TestEnvoyProxyMergedForExtensions: an EnvoyExtensionPolicy reads the
// EnvoyProxy in force, the Gateway's laid over the class's: the class's
// luaValidation (Disabled) survives a Gateway EnvoyProxy with mergeType,
// so a Lua script Strict validation refuses is accepted.
func TestEnvoyProxyMergedForExtensions(t *testing.T) {
	eep := `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: lua, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
  lua: [{type: Inline, inline: "function envoy_on_request(h) h:header() end"}]
---
`
	in := epBase + envoyProxy("class-ep", "  luaValidation: Disabled") +
		envoyProxy("gw-ep", "  mergeType: StrategicMerge\n  ipFamily: IPv6") + epGateway("gw", "gw-ep") + epRoute + eep
	res := runEEP(t, in)
	for _, p := range res.Problems {
		if p.Key.Kind == "EnvoyExtensionPolicy" {
			t.Fatalf("the class's luaValidation was lost in the merge: %v", p)
		}
	}
	// Without the merge the Gateway's EnvoyProxy replaces the class's:
	// Strict validation applies and refuses the script.
	res = runEEP(t, strings.Replace(in, "  mergeType: StrategicMerge\n", "", 1))
	found := false
	for _, p := range res.Problems {
		found = found || p.Key.Kind == "EnvoyExtensionPolicy"
	}
	if !found {
		t.Errorf("Strict validation did not apply with the Gateway's EnvoyProxy replacing the class's: %v", res.Problems)
	}
}

// TestMergeGatewaysPatchPolicy: an EnvoyPatchPolicy on the class of merged
// Gateways patches the one proxy they share, once.
func TestMergeGatewaysPatchPolicy(t *testing.T) {
	gw2 := strings.Replace(epGateway("gw2", ""), "port: 80,", "port: 81,", 1)
	epp := `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: patch, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: GatewayClass, name: eg}
  type: JSONPatch
  jsonPatches:
  - type: type.googleapis.com/envoy.config.listener.v3.Listener
    name: default/gw/http
    operation: {op: replace, path: /per_connection_buffer_limit_bytes, value: 1024}
---
`
	res := runEEP(t, epBase+envoyProxy("class-ep", "  mergeGateways: true")+epGateway("gw", "")+gw2+epRoute+epp)
	if len(res.IR.Proxies) != 1 {
		t.Fatalf("%d proxies", len(res.IR.Proxies))
	}
	if p := res.IR.Proxies[0]; p.Name != "eg" || len(p.Patches) != 1 {
		t.Fatalf("proxy %s has %d patches, want the policy once on the merged proxy eg", p.Name, len(p.Patches))
	}
}
