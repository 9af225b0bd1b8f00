package egcompat

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// egModule is the module whose testdata we read.
const egModule = "github.com/envoyproxy/gateway"

// egClassName is the GatewayClass every EG test case's Gateways name; EG's
// test harness hands it to the translator instead of listing it.
const egClassName = "envoy-gateway-class"

// egDir finds Envoy Gateway's source in the module cache, or skips.
func egDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("EGCOMPAT_EG_DIR"); d != "" {
		return d
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", egModule)
	// Read-only: never let go list touch go.mod or go.sum.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		skipUnlessCI(t, "go list -m %s timed out", egModule)
	}
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		skipUnlessCI(t, "Envoy Gateway module not found (%v): nothing to compare against", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "internal", "gatewayapi", "testdata")); err != nil {
		skipUnlessCI(t, "Envoy Gateway testdata absent in %s: %v", dir, err)
	}
	return dir
}

// supportedKeys are the top-level keys of EG's in.yaml that egctl can take
// as they are. A case with any other key (policies, EnvoyProxy,
// ServiceImports, extension filters...) is skipped. Each policy kind adds
// its key in its own file (kind_*_test.go) once egctl translates it.
var supportedKeys = map[string]bool{
	"gatewayClass": true, "gateways": true, "httpRoutes": true, "grpcRoutes": true,
	"tlsRoutes": true, "tcpRoutes": true, "udpRoutes": true, "referenceGrants": true,
	"services": true, "endpointSlices": true, "secrets": true, "backends": true,
	"namespaces": true, "listenerSets": true, "configMaps": true,
}

// supportedKeysFor turns a key on for some cases only: a kind that
// translates part of its fields lists the cases that use only those, until
// the kind turns the key on for every case (kind_*_test.go).
var supportedKeysFor = map[string]func(caseName string) bool{}

// caseOptions are the translate options every case runs with; a kind sets
// what its cases need (the OIDC discovery documents Envoy Gateway's tests
// fetch from the network).
var caseOptions translate.Options

// decodeError marks input that does not decode into the typed objects.
type decodeError struct{ error }

// canonicalKey maps a key to its supportedKeys spelling when they differ
// only in case.
func canonicalKey(k string) string {
	for s := range supportedKeys {
		if strings.EqualFold(s, k) {
			return s
		}
	}
	return k
}

// egFlagCases are run by EG's harness with non-default translator flags
// (feature gates off, gateway-namespace mode, running on host, SDS), so
// their expected output does not describe a default Envoy Gateway.
var egFlagCases = map[string]bool{
	"envoypatchpolicy-invalid-feature-disabled":                          true,
	"backend-invalid-feature-disabled":                                   true,
	"gateway-namespace-mode-infra-httproute":                             true,
	"backend-with-localhost-host-infra":                                  true,
	"httproute-attaching-to-listener-with-backend-backendref-host-infra": true,
	"envoyextensionpolicy-lua-feature-disabled":                          true,
	"sds": true, "sds-invalid": true, "sds-listener": true, "sds-listener-invalid": true,
}

// egCase is one EG test case turned into egctl input.
type egCase struct {
	Name string
	In   *resource.Set
	Want *egOut
	// WantRaw is NAME.out.yaml as read, for comparisons that need more of
	// it than egOut decodes (kindComparers).
	WantRaw []byte
}

// loadCase reads name.in.yaml / name.out.yaml. skip is non-empty (and the
// case nil) when the case uses something egctl does not take.
func loadCase(dir, name string, base []*corev1.Secret) (c *egCase, skip string, err error) {
	if egFlagCases[name] {
		return nil, "run by EG with non-default flags", nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, name+".in.yaml"))
	if err != nil {
		return nil, "", err
	}
	rawTop := map[string]json.RawMessage{}
	if err := yaml.Unmarshal(raw, &rawTop); err != nil {
		return nil, "", fmt.Errorf("%s.in.yaml: %w", name, err)
	}
	// EG decodes its struct with encoding/json, whose field matching
	// ignores case: "endpointslices:" fills EndpointSlices. Do the same.
	top := map[string]json.RawMessage{}
	for k, v := range rawTop {
		top[canonicalKey(k)] = v
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if f := supportedKeysFor[k]; !supportedKeys[k] && (f == nil || !f(name)) {
			return nil, "uses " + k, nil
		}
	}
	set := &resource.Set{}
	dec := func(key string, into any) error {
		if m, ok := top[key]; ok {
			if err := json.Unmarshal(m, into); err != nil {
				// EG reads a few inputs that do not fit the typed API
				// (a number for a string field); no API server or egctl
				// would take them.
				return &decodeError{fmt.Errorf("%s.in.yaml %s: %w", name, key, err)}
			}
		}
		return nil
	}
	var gc *gwv1.GatewayClass
	for _, d := range []struct {
		key  string
		into any
	}{
		{"gatewayClass", &gc},
		{"gateways", &set.Gateways},
		{"httpRoutes", &set.HTTPRoutes},
		{"grpcRoutes", &set.GRPCRoutes},
		{"tlsRoutes", &set.TLSRoutes},
		{"tcpRoutes", &set.TCPRoutes},
		{"udpRoutes", &set.UDPRoutes},
		{"referenceGrants", &set.ReferenceGrants},
		{"services", &set.Services},
		{"endpointSlices", &set.EndpointSlices},
		{"secrets", &set.Secrets},
		{"backends", &set.Backends},
		{"namespaces", &set.Namespaces},
		{"clientTrafficPolicies", &set.ClientTrafficPolicies},
		{"backendTrafficPolicies", &set.BackendTrafficPolicies},
		{"securityPolicies", &set.SecurityPolicies},
		{"envoyExtensionPolicies", &set.EnvoyExtensionPolicies},
		{"envoyPatchPolicies", &set.EnvoyPatchPolicies},
		{"configMaps", &set.ConfigMaps},
		{"listenerSets", &set.ListenerSets},
		{"httpFilters", &set.HTTPRouteFilters},
		{"backendTLSPolicies", &set.BackendTLSPolicies},
	} {
		if err := dec(d.key, d.into); err != nil {
			return nil, "", err
		}
	}
	if foreignExtensionRef(set) { // kind_backend_test.go
		return nil, "uses an ExtensionRef filter of another kind than HTTPRouteFilter", nil
	}
	if gc == nil {
		gc = &gwv1.GatewayClass{Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.envoyproxy.io/gatewayclass-controller"}}
	}
	gc.Name = egClassName
	set.GatewayClasses = []*gwv1.GatewayClass{gc}
	if err := loadEnvoyProxies(top, set, gc); err != nil { // kind_envoyproxy_test.go
		return nil, "", &decodeError{fmt.Errorf("%s.in.yaml: %w", name, err)}
	}
	addFixtures(set, base)
	defaultNamespaces(set)

	wantRaw, err := os.ReadFile(filepath.Join(dir, name+".out.yaml"))
	if err != nil {
		return nil, "", err
	}
	want := &egOut{}
	if err := yaml.Unmarshal(wantRaw, want); err != nil {
		return nil, "", fmt.Errorf("%s.out.yaml: %w", name, err)
	}
	return &egCase{Name: name, In: set, Want: want, WantRaw: wantRaw}, "", nil
}

// loadBaseSecrets reads the secrets EG's harness adds to every case.
func loadBaseSecrets(dir string) ([]*corev1.Secret, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "base", "base.yaml"))
	if err != nil {
		return nil, err
	}
	var b struct {
		Secrets []*corev1.Secret `json:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("base.yaml: %w", err)
	}
	return b.Secrets, nil
}

// addFixtures adds what EG's harness adds to every case: Services
// service-1..4 and mirror-service in "default" with one ready endpoint each,
// the namespaces "default" and "envoy-gateway", and the base secrets. An
// object the case defines itself wins.
func addFixtures(set *resource.Set, base []*corev1.Secret) {
	haveSvc := map[string]bool{}
	for _, s := range set.Services {
		haveSvc[s.Namespace+"/"+s.Name] = true
	}
	haveSlice := map[string]bool{}
	for _, s := range set.EndpointSlices {
		haveSlice[s.Namespace+"/"+s.Name] = true
	}
	addSvc := func(name, slice, clusterIP, endpoint string, ports []corev1.ServicePort) {
		if !haveSvc["default/"+name] {
			set.Services = append(set.Services, &corev1.Service{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
				ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
				Spec:       corev1.ServiceSpec{ClusterIP: clusterIP, Ports: ports},
			})
		}
		if haveSlice["default/"+slice] {
			return
		}
		es := &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: slice,
				Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{endpoint},
				Conditions: discoveryv1.EndpointConditions{Ready: new(true)}}},
		}
		for _, p := range ports {
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: new(p.Name), Port: new(p.Port), Protocol: new(p.Protocol)})
		}
		set.EndpointSlices = append(set.EndpointSlices, es)
	}
	port := func(name string, n int32, proto corev1.Protocol) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: n, TargetPort: intstr.FromInt32(n), Protocol: proto}
	}
	for i := 1; i <= 4; i++ {
		addSvc(fmt.Sprintf("service-%d", i), fmt.Sprintf("endpointslice-%d", i), "1.1.1.1", "7.7.7.7",
			[]corev1.ServicePort{port("http", 8080, corev1.ProtocolTCP), port("https", 8443, corev1.ProtocolTCP),
				port("tcp", 8163, corev1.ProtocolTCP), port("udp", 8162, corev1.ProtocolUDP)})
	}
	addSvc("mirror-service", "mirror-service-endpointslice", "2.2.2.2", "7.6.5.4",
		[]corev1.ServicePort{port("http", 8080, corev1.ProtocolTCP)})

	haveNS := map[string]bool{}
	for _, n := range set.Namespaces {
		haveNS[n.Name] = true
	}
	for _, n := range []string{"envoy-gateway", "default"} {
		if !haveNS[n] {
			set.Namespaces = append(set.Namespaces, &corev1.Namespace{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: n}})
		}
	}
	haveSecret := map[string]bool{}
	for _, s := range set.Secrets {
		haveSecret[s.Namespace+"/"+s.Name] = true
	}
	for _, s := range base {
		if !haveSecret[s.Namespace+"/"+s.Name] {
			set.Secrets = append(set.Secrets, s.DeepCopy())
		}
	}
}

// defaultNamespaces gives namespaced objects without a namespace "default",
// as egctl's manifest loader does.
func defaultNamespaces(set *resource.Set) {
	fix := func(m *metav1.ObjectMeta) {
		if m.Namespace == "" {
			m.Namespace = "default"
		}
	}
	for _, o := range set.Gateways {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.HTTPRoutes {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.GRPCRoutes {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.TLSRoutes {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.TCPRoutes {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.UDPRoutes {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.ReferenceGrants {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.Services {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.EndpointSlices {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.Secrets {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.Backends {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.ClientTrafficPolicies {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.BackendTrafficPolicies {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.SecurityPolicies {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.EnvoyExtensionPolicies {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.EnvoyPatchPolicies {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.ConfigMaps {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.ListenerSets {
		fix(&o.ObjectMeta)
	}
	for _, o := range set.HTTPRouteFilters {
		fix(&o.ObjectMeta)
	}
}

var _ = egv1a1.KindBackend

// skipUnlessCI skips locally when Envoy Gateway's corpus cannot be found,
// but fails under CI=true: .ci/run downloads every module, so a missing
// corpus there means the comparison silently stopped running.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
