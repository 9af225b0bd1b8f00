package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// A translator test input of Envoy Gateway (internal/gatewayapi/testdata/
// NAME.in.yaml) is one YAML object of lists keyed by kind ("gateways:",
// "httpRoutes:", …), read by EG's test with encoding/json (keys match
// case-insensitively). convertCase turns it into the multi-document
// manifest a user would apply, adding what EG's test harness adds to every
// case, so that both egctls read the same objects.

// kindOfKey maps an input key (lower-cased) to the kind and API version of
// its objects, for objects that do not name them.
var kindOfKey = map[string][2]string{
	"gatewayclass":              {"GatewayClass", "gateway.networking.k8s.io/v1"},
	"gateways":                  {"Gateway", "gateway.networking.k8s.io/v1"},
	"httproutes":                {"HTTPRoute", "gateway.networking.k8s.io/v1"},
	"grpcroutes":                {"GRPCRoute", "gateway.networking.k8s.io/v1"},
	"tlsroutes":                 {"TLSRoute", "gateway.networking.k8s.io/v1"},
	"tcproutes":                 {"TCPRoute", "gateway.networking.k8s.io/v1alpha2"},
	"udproutes":                 {"UDPRoute", "gateway.networking.k8s.io/v1alpha2"},
	"referencegrants":           {"ReferenceGrant", "gateway.networking.k8s.io/v1beta1"},
	"listenersets":              {"ListenerSet", "gateway.networking.k8s.io/v1"},
	"backendtlspolicies":        {"BackendTLSPolicy", "gateway.networking.k8s.io/v1"},
	"services":                  {"Service", "v1"},
	"endpointslices":            {"EndpointSlice", "discovery.k8s.io/v1"},
	"secrets":                   {"Secret", "v1"},
	"configmaps":                {"ConfigMap", "v1"},
	"namespaces":                {"Namespace", "v1"},
	"serviceimports":            {"ServiceImport", "multicluster.x-k8s.io/v1alpha1"},
	"clustertrustbundles":       {"ClusterTrustBundle", "certificates.k8s.io/v1beta1"},
	"backends":                  {"Backend", "gateway.envoyproxy.io/v1alpha1"},
	"clienttrafficpolicies":     {"ClientTrafficPolicy", "gateway.envoyproxy.io/v1alpha1"},
	"backendtrafficpolicies":    {"BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1"},
	"securitypolicies":          {"SecurityPolicy", "gateway.envoyproxy.io/v1alpha1"},
	"envoyextensionpolicies":    {"EnvoyExtensionPolicy", "gateway.envoyproxy.io/v1alpha1"},
	"envoypatchpolicies":        {"EnvoyPatchPolicy", "gateway.envoyproxy.io/v1alpha1"},
	"httpfilters":               {"HTTPRouteFilter", "gateway.envoyproxy.io/v1alpha1"},
	"envoyproxyforgatewayclass": {"EnvoyProxy", "gateway.envoyproxy.io/v1alpha1"},
	"envoyproxiesforgateways":   {"EnvoyProxy", "gateway.envoyproxy.io/v1alpha1"},
	"extensionreffilters":       {"", ""},
}

// servedVersion is the Gateway API version of each kind as Gateway API
// v1.5 serves it and Envoy Gateway's egctl reads it. EG's test inputs
// often name older versions (its harness reads them regardless, and the
// fields are the same); Envoy Gateway's egctl refuses those it no longer
// knows, and panics on a v1alpha2 TLSRoute.
var servedVersion = map[string]string{
	"GatewayClass":     "gateway.networking.k8s.io/v1",
	"Gateway":          "gateway.networking.k8s.io/v1",
	"HTTPRoute":        "gateway.networking.k8s.io/v1",
	"GRPCRoute":        "gateway.networking.k8s.io/v1",
	"TLSRoute":         "gateway.networking.k8s.io/v1",
	"ReferenceGrant":   "gateway.networking.k8s.io/v1beta1",
	"BackendTLSPolicy": "gateway.networking.k8s.io/v1",
}

// clusterScoped kinds get no namespace.
var clusterScoped = map[string]bool{"GatewayClass": true, "Namespace": true, "ClusterTrustBundle": true}

// egClass is the GatewayClass every case's Gateways name; EG's harness
// hands it to the translator instead of listing it.
const egClass = "envoy-gateway-class"

// caseInput is one converted case.
type caseInput struct {
	Name     string
	Keys     []string // the input's keys, lower-cased, sorted
	Manifest []byte
}

// convertCase reads dir/name.in.yaml and returns it as manifests.
func convertCase(dir, name string, base []map[string]any) (*caseInput, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name+".in.yaml"))
	if err != nil {
		return nil, err
	}
	top := map[string]any{}
	if err := yaml.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("%s.in.yaml: %w", name, err)
	}
	in := &caseInput{Name: name}
	byKey := map[string][]map[string]any{}
	for k, v := range top {
		lk := strings.ToLower(k)
		in.Keys = append(in.Keys, lk)
		if _, ok := kindOfKey[lk]; !ok {
			// envoyProxyDefaultSpec and the like configure EG's test
			// translator, not a cluster: nothing to apply.
			continue
		}
		switch v := v.(type) {
		case []any:
			for _, o := range v {
				if m, ok := o.(map[string]any); ok {
					byKey[lk] = append(byKey[lk], m)
				}
			}
		case map[string]any:
			byKey[lk] = append(byKey[lk], v)
		}
	}
	sort.Strings(in.Keys)

	var objs []map[string]any
	add := func(key string, o map[string]any) {
		kv := kindOfKey[key]
		if _, ok := o["kind"]; !ok && kv[0] != "" {
			o["kind"] = kv[0]
		}
		if _, ok := o["apiVersion"]; !ok && kv[1] != "" {
			o["apiVersion"] = kv[1]
		}
		md, _ := o["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			o["metadata"] = md
		}
		kind, _ := o["kind"].(string)
		if v, ok := servedVersion[kind]; ok {
			if av, _ := o["apiVersion"].(string); strings.HasPrefix(av, "gateway.networking.k8s.io/") {
				o["apiVersion"] = v
			}
		}
		if ns, _ := md["namespace"].(string); ns == "" && !clusterScoped[kind] {
			// EG's harness reads objects as written; "default" is what
			// both loaders would otherwise disagree on (EG's egctl puts
			// them in envoy-gateway-system, egctl in -n).
			md["namespace"] = "default"
		}
		objs = append(objs, o)
	}

	// The GatewayClass: the case's own, renamed as EG's harness does, or a
	// fresh one; an EnvoyProxy for the class is attached by parametersRef.
	gc := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "GatewayClass",
		"spec":       map[string]any{"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
	}
	if l := byKey["gatewayclass"]; len(l) > 0 {
		gc = l[0]
	}
	md, _ := gc["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		gc["metadata"] = md
	}
	md["name"] = egClass
	delete(md, "namespace")
	if eps := byKey["envoyproxyforgatewayclass"]; len(eps) > 0 {
		epmd, _ := eps[0]["metadata"].(map[string]any)
		if epmd != nil {
			ns, _ := epmd["namespace"].(string)
			if ns == "" {
				ns = "default"
			}
			spec, _ := gc["spec"].(map[string]any)
			if spec == nil {
				spec = map[string]any{}
				gc["spec"] = spec
			}
			spec["parametersRef"] = map[string]any{
				"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy",
				"name": epmd["name"], "namespace": ns,
			}
		}
	}
	add("gatewayclass", gc)

	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		if k != "gatewayclass" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	have := map[string]bool{}
	for _, k := range keys {
		for _, o := range byKey[k] {
			add(k, o)
			have[objKey(o)] = true
		}
	}
	fx := fixtures(base)
	if bytes.Contains(raw, []byte("otel-collector")) {
		// EG's harness adds this Service to every case; only the cases
		// that name it need it, and adding it to those alone keeps the
		// other manifests (and Envoy Gateway's cached outputs) as they were.
		fx = append(fx, otelCollector())
	}
	for _, o := range fx {
		if !have[objKey(o)] {
			objs = append(objs, o)
		}
	}

	var buf bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	in.Manifest = buf.Bytes()
	return in, nil
}

func objKey(o map[string]any) string {
	md, _ := o["metadata"].(map[string]any)
	return fmt.Sprintf("%v/%v/%v", o["kind"], md["namespace"], md["name"])
}

// fixtures are what EG's harness adds to every case: Services service-1…4
// (cluster IP 1.1.1.1) and mirror-service (2.2.2.2) in "default", the
// namespaces "default" and "envoy-gateway", and the secrets of
// testdata/base/base.yaml. EG's harness also gives the Services
// EndpointSlices; they are left out here because EG's egctl routes to
// cluster IPs whatever the slices say (EndpointRoutingDisabled), so with
// them every endpoint would differ for a reason no user input causes.
func fixtures(base []map[string]any) []map[string]any {
	port := func(name string, n int, proto string) map[string]any {
		return map[string]any{"name": name, "port": n, "targetPort": n, "protocol": proto}
	}
	svc := func(name, ip string, ports ...map[string]any) map[string]any {
		ps := make([]any, len(ports))
		for i, p := range ports {
			ps[i] = p
		}
		return map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": name, "namespace": "default"},
			"spec":     map[string]any{"clusterIP": ip, "ports": ps}}
	}
	var out []map[string]any
	for i := 1; i <= 4; i++ {
		out = append(out, svc(fmt.Sprintf("service-%d", i), "1.1.1.1",
			port("http", 8080, "TCP"), port("https", 8443, "TCP"), port("tcp", 8163, "TCP"), port("udp", 8162, "UDP")))
	}
	out = append(out, svc("mirror-service", "2.2.2.2", port("http", 8080, "TCP")))
	for _, n := range []string{"default", "envoy-gateway"} {
		out = append(out, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}})
	}
	for _, s := range base {
		out = append(out, deepCopy(s))
	}
	return out
}

// otelCollector is the telemetry Service of EG's harness,
// monitoring/otel-collector (cluster IP 3.3.3.3, OTLP gRPC 4317, Zipkin
// 9411).
func otelCollector() map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "otel-collector", "namespace": "monitoring"},
		"spec": map[string]any{"clusterIP": "3.3.3.3", "ports": []any{
			map[string]any{"name": "grpc", "port": 4317, "targetPort": 4317, "protocol": "TCP", "appProtocol": "grpc"},
			map[string]any{"name": "zipkin", "port": 9411, "targetPort": 9411, "protocol": "TCP"},
		}}}
}

// loadBase reads the secrets of testdata/base/base.yaml.
func loadBase(dir string) ([]map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "base", "base.yaml"))
	if err != nil {
		return nil, err
	}
	var b struct {
		Secrets []map[string]any `json:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("base.yaml: %w", err)
	}
	for _, s := range b.Secrets {
		if _, ok := s["kind"]; !ok {
			s["kind"] = "Secret"
		}
		if _, ok := s["apiVersion"]; !ok {
			s["apiVersion"] = "v1"
		}
	}
	return b.Secrets, nil
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return deepCopy(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}

// kindOfCase names the kind of input a case exercises, for the report:
// the most specific kind it uses, policies before routes before Gateways.
func kindOfCase(keys []string) string {
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	for _, k := range []struct{ key, name string }{
		{"envoypatchpolicies", "EnvoyPatchPolicy"},
		{"envoyextensionpolicies", "EnvoyExtensionPolicy"},
		{"securitypolicies", "SecurityPolicy"},
		{"backendtrafficpolicies", "BackendTrafficPolicy"},
		{"clienttrafficpolicies", "ClientTrafficPolicy"},
		{"envoyproxyforgatewayclass", "EnvoyProxy"},
		{"envoyproxiesforgateways", "EnvoyProxy"},
		{"backendtlspolicies", "BackendTLSPolicy"},
		{"httpfilters", "HTTPRouteFilter"},
		{"listenersets", "ListenerSet"},
		{"backends", "Backend"},
		{"grpcroutes", "GRPCRoute"},
		{"tlsroutes", "TLSRoute"},
		{"tcproutes", "TCPRoute"},
		{"udproutes", "UDPRoute"},
		{"httproutes", "HTTPRoute"},
	} {
		if have[k.key] {
			return k.name
		}
	}
	return "Gateway"
}
