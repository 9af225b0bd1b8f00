package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/resource"
)

func mustLoad(t *testing.T, paths []string, opts Options) (*resource.Set, []Warning) {
	t.Helper()
	s, w, err := Load(paths, opts)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return s, w
}

func TestDirectoryRecursion(t *testing.T) {
	dir := td("tree")
	s, w := mustLoad(t, []string{dir}, Options{})
	if len(w) != 0 {
		t.Errorf("unexpected warnings: %v", w)
	}
	want := map[resource.Key]resource.Origin{
		{Group: "gateway.networking.k8s.io", Kind: "GatewayClass", Name: "eg"}:                      {File: filepath.Join(dir, "a-gateway.yaml"), Line: 1},
		{Group: "gateway.networking.k8s.io", Kind: "Gateway", Namespace: "default", Name: "gw"}:     {File: filepath.Join(dir, "a-gateway.yaml"), Line: 9},
		{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "apps", Name: "web"}:     {File: filepath.Join(dir, "routes", "b-route.yml"), Line: 5},
		{Group: "gateway.networking.k8s.io", Kind: "GRPCRoute", Namespace: "default", Name: "grpc"}: {File: filepath.Join(dir, "routes", "nested", "c-grpc.json"), Line: 2},
		{Kind: "Service", Namespace: "apps", Name: "web"}:                                           {File: filepath.Join(dir, "routes", "nested", "c-grpc.json"), Line: 8},
	}
	if !reflect.DeepEqual(s.Origins, want) {
		t.Errorf("origins:\n got %v\nwant %v", s.Origins, want)
	}
	if len(s.GatewayClasses) != 1 || s.GatewayClasses[0].Namespace != "" {
		t.Errorf("GatewayClass must be loaded without a namespace: %+v", s.GatewayClasses)
	}
	if len(s.Services) != 1 || s.Services[0].Spec.Ports[0].Port != 8080 {
		t.Errorf("Service from JSON not decoded: %+v", s.Services)
	}
	if got := s.HTTPRoutes[0].Spec.Rules[0].BackendRefs[0].Name; got != "web" {
		t.Errorf("HTTPRoute backend = %q", got)
	}
}

func TestStdin(t *testing.T) {
	yamlIn := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\ndata: {a: b}\n"
	s, _ := mustLoad(t, []string{"-"}, Options{Stdin: strings.NewReader(yamlIn)})
	k := resource.Key{Kind: "ConfigMap", Namespace: "default", Name: "from-stdin"}
	if got := s.Origin(k); got != (resource.Origin{File: "<stdin>", Line: 1}) {
		t.Errorf("origin = %v", got)
	}
	if len(s.ConfigMaps) != 1 || s.ConfigMaps[0].Data["a"] != "b" {
		t.Errorf("ConfigMap not decoded: %+v", s.ConfigMaps)
	}

	// JSON on stdin is recognised without a file extension, and stdin
	// combines with files.
	jsonIn := `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1"}}` + "\n" +
		`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns2"}}`
	s, _ = mustLoad(t, []string{td("tree", "a-gateway.yaml"), "-"}, Options{Stdin: strings.NewReader(jsonIn)})
	if len(s.Namespaces) != 2 || s.Namespaces[1].Name != "ns2" || len(s.Gateways) != 1 {
		t.Errorf("got namespaces %d, gateways %d", len(s.Namespaces), len(s.Gateways))
	}
	if got := s.Origin(resource.Key{Kind: "Namespace", Name: "ns2"}); got != (resource.Origin{File: "<stdin>", Line: 2}) {
		t.Errorf("origin = %v", got)
	}

	if _, _, err := Load([]string{"-"}, Options{}); err == nil || err.Error() != "<stdin>: no standard input to read" {
		t.Errorf("nil Stdin: err = %v", err)
	}
}

func TestLists(t *testing.T) {
	s, w, err := Load([]string{td("misc", "list.yaml")}, Options{})
	wantErr := td("misc", "list.yaml") + ":36: HTTPRoute default/r3: spec.hostnames: expected list, got string"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("err = %v, want %s", err, wantErr)
	}
	if len(w) != 1 || w[0].String() != td("misc", "list.yaml")+":8: skipping apps/v1 Deployment apps/web: kind not used by egctl" {
		t.Errorf("warnings = %v", w)
	}
	if len(s.Namespaces) != 1 || len(s.ConfigMaps) != 1 {
		t.Errorf("items of kind List not loaded: %d namespaces, %d configmaps", len(s.Namespaces), len(s.ConfigMaps))
	}
	// r1 inherits apiVersion/kind from HTTPRouteList, r2 is converted.
	var names []string
	for _, r := range s.HTTPRoutes {
		names = append(names, r.Name+"="+string(r.Spec.Hostnames[0])+"@"+r.APIVersion)
	}
	want := []string{"r1=a.example.com@gateway.networking.k8s.io/v1", "r2=b.example.com@gateway.networking.k8s.io/v1"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("routes = %v, want %v", names, want)
	}
	if got := s.Origin(resource.Key{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "default", Name: "r2"}); got.Line != 27 {
		t.Errorf("list item origin = %v, want line 27", got)
	}
}

// TestVersionConversion loads each old-version file and the same text with
// the apiVersion changed to v1; both must give identical Sets, so every
// field survives the conversion.
func TestVersionConversion(t *testing.T) {
	files, err := filepath.Glob(td("convert", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			old, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v1 := old
			for _, v := range []string{"v1beta1", "v1alpha2", "v1alpha3"} {
				v1 = bytes.ReplaceAll(v1, []byte("gateway.networking.k8s.io/"+v+"\n"), []byte("gateway.networking.k8s.io/v1\n"))
			}
			if bytes.Equal(v1, old) {
				t.Fatal("input has no old apiVersion")
			}
			gotOld, _, err := LoadBytes("in.yaml", old, Options{})
			if err != nil {
				t.Fatalf("old version: %v", err)
			}
			gotV1, _, err := LoadBytes("in.yaml", v1, Options{})
			if err != nil {
				t.Fatalf("v1: %v", err)
			}
			if !reflect.DeepEqual(gotOld, gotV1) {
				t.Errorf("conversion differs from direct v1 decode:\n old: %+v\n  v1: %+v", gotOld, gotV1)
			}
			if len(gotOld.Origins) == 0 {
				t.Error("nothing loaded")
			}
		})
	}

	// Spot-check that the rich HTTPRoute really carried its fields.
	s, _ := mustLoad(t, []string{td("convert", "httproute.v1beta1.yaml")}, Options{})
	r := s.HTTPRoutes[0]
	if r.APIVersion != "gateway.networking.k8s.io/v1" || r.Kind != "HTTPRoute" {
		t.Errorf("TypeMeta = %v", r.TypeMeta)
	}
	rule := r.Spec.Rules[0]
	if len(rule.Filters) != 4 || rule.Retry == nil || *rule.Retry.Attempts != 3 || rule.SessionPersistence == nil ||
		*rule.BackendRefs[0].Weight != 90 || rule.BackendRefs[0].Filters[0].ResponseHeaderModifier == nil ||
		string(*rule.Timeouts.Request) != "10s" || r.Labels["team"] != "web" {
		t.Errorf("fields lost in conversion: %+v", rule)
	}
}

func TestDefaultNamespace(t *testing.T) {
	in := "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: a}\nspec: {}\n---\n" +
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: b, namespace: explicit}\nspec: {}\n---\n" +
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: example.com/x}\n---\n" +
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: d}\n"
	for _, tc := range []struct{ opt, want string }{{"", "default"}, {"team", "team"}} {
		s, _, err := LoadBytes("ns.yaml", []byte(in), Options{Namespace: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.HTTPRoutes[0].Namespace; got != tc.want {
			t.Errorf("Namespace %q: route a in %q, want %q", tc.opt, got, tc.want)
		}
		if got := s.HTTPRoutes[1].Namespace; got != "explicit" {
			t.Errorf("route b moved to %q", got)
		}
		if s.GatewayClasses[0].Namespace != "" || s.Namespaces[0].Namespace != "" {
			t.Error("cluster-scoped objects got a namespace")
		}
		if _, ok := s.Origins[resource.Key{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: tc.want, Name: "a"}]; !ok {
			t.Errorf("origin key lacks the default namespace: %v", s.Origins)
		}
	}
}

func TestSkippedKindsWarn(t *testing.T) {
	f := td("misc", "skipped.yaml")
	s, w := mustLoad(t, []string{f}, Options{})
	var got []string
	for _, x := range w {
		got = append(got, x.String())
	}
	want := []string{
		f + ":1: skipping apps/v1 Deployment envoy-gateway-system/envoy: kind not used by egctl",
		f + ":7: skipping v1 ServiceAccount sa: kind not used by egctl",
		f + ":12: skipping example.com/v1 Widget w: kind not used by egctl",
		f + ":17: skipping gateway.envoyproxy.io/v1alpha1 EnvoyGateway: kind not used by egctl",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
	if len(s.Origins) != 0 {
		t.Errorf("skipped kinds were loaded: %v", s.Origins)
	}
}

func TestAnchorsMergeKeysAndYAMLNumbers(t *testing.T) {
	s, _ := mustLoad(t, []string{td("misc", "anchors.yaml")}, Options{})
	svc := s.Services[0]
	if svc.Labels["app"] != "web" || svc.Labels["80"] != "port-as-key" {
		t.Errorf("labels = %v", svc.Labels)
	}
	if svc.Annotations["app"] != "web" || svc.Annotations["extra"] != "yes" {
		t.Errorf("merge key not applied: %v", svc.Annotations)
	}
	if svc.Spec.Selector["app"] != "web" {
		t.Errorf("alias not expanded: %v", svc.Spec.Selector)
	}
	if svc.Spec.Ports[0].Port != 80 {
		t.Errorf("hex port = %d, want 80", svc.Spec.Ports[0].Port)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	start := time.Now()
	_, _, err := LoadBytes("bomb.yaml", []byte(b.String()), Options{})
	if err == nil || !strings.Contains(err.Error(), "too large after expanding YAML aliases") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}

	// An alias cycle must not recurse forever.
	_, _, err = LoadBytes("cycle.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &d {k: *d}\n"), Options{})
	if err == nil {
		t.Error("alias cycle accepted")
	}
}

// TestOrderIsInputOrder checks that parallel decoding keeps input order.
func TestOrderIsInputOrder(t *testing.T) {
	data := genRoutes(3000)
	s, _, err := LoadBytes("many.yaml", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.HTTPRoutes) != 3000 {
		t.Fatalf("got %d routes", len(s.HTTPRoutes))
	}
	for i, r := range s.HTTPRoutes {
		if want := fmt.Sprintf("route-%d", i); r.Name != want {
			t.Fatalf("route %d is %s", i, r.Name)
		}
	}
	k := resource.Key{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "default", Name: "route-2999"}
	if got, want := s.Origin(k).Line, 2999*routeLines+2; got != want {
		t.Errorf("last route line = %d, want %d", got, want)
	}
}

func TestDirectiveFallback(t *testing.T) {
	in := "%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
	s, _, err := LoadBytes("d.yaml", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ConfigMaps) != 2 || s.Origin(resource.Key{Kind: "ConfigMap", Namespace: "default", Name: "b"}).Line != 7 {
		t.Errorf("got %d configmaps, origins %v", len(s.ConfigMaps), s.Origins)
	}
}

func TestSyntaxErrorKeepsOtherDocuments(t *testing.T) {
	s, _, err := Load([]string{td("errors", "syntax.yaml")}, Options{})
	if err == nil {
		t.Fatal("want a syntax error")
	}
	var names []string
	for _, c := range s.ConfigMaps {
		names = append(names, c.Name)
	}
	if want := []string{"good-before", "good-after"}; !reflect.DeepEqual(names, want) {
		t.Errorf("loaded %v, want %v", names, want)
	}
}

func TestJSONWithByteOrderMark(t *testing.T) {
	in := "\xef\xbb\xbf{\"apiVersion\": \"v1\", \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"bom\"}}\n"
	s, _, err := LoadBytes("bom.json", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Namespaces) != 1 || s.Namespaces[0].Name != "bom" {
		t.Errorf("namespaces = %v", s.Namespaces)
	}
}

// TestBigListKeepsOrder covers the parallel decoding of List items.
func TestBigListKeepsOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	const n = 1000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm-%d\n", i)
		if i == 700 {
			b.WriteString("  bogus: true\n")
		}
	}
	s, _, err := LoadBytes("list.yaml", []byte(b.String()), Options{})
	want := fmt.Sprintf("list.yaml:%d: ConfigMap default/cm-700: bogus: unknown field", 4+700*4+4)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if len(s.ConfigMaps) != n-1 {
		t.Fatalf("got %d ConfigMaps", len(s.ConfigMaps))
	}
	for i, j := 0, 0; i < n; i++ {
		if i == 700 {
			continue
		}
		if want := fmt.Sprintf("cm-%d", i); s.ConfigMaps[j].Name != want {
			t.Fatalf("item %d is %s, want %s", j, s.ConfigMaps[j].Name, want)
		}
		j++
	}
	if got := s.Origin(resource.Key{Kind: "ConfigMap", Namespace: "default", Name: "cm-999"}).Line; got != 4+999*4+1 {
		t.Errorf("origin line of the last item = %d", got)
	}
}
