package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egctl/egctl/resource"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const classYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
`

func TestWalkSkipsNonKubernetesYAML(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"class.yaml":         classYAML,
		"chart/values.yaml":  "replicaCount: 2\nimage:\n  tag: v1\n",
		"ci/list.yaml":       "- a\n- b\n",
		"ci/mixed.yaml":      strings.Replace(classYAML, "name: eg", "name: other", 1) + "---\nfoo: bar\n",
		"nested/config.json": `{"setting": true}`,
	})
	s, warns, err := Load([]string{dir}, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(s.GatewayClasses) != 2 {
		t.Fatalf("GatewayClasses not loaded: %d", len(s.GatewayClasses))
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		filepath.Join(dir, "chart", "values.yaml") + ":1: skipping a mapping without apiVersion and kind: not a Kubernetes object",
		filepath.Join(dir, "ci", "list.yaml") + ":1: skipping a list: not a Kubernetes object",
		filepath.Join(dir, "nested", "config.json") + ":1: skipping a mapping without apiVersion and kind",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	// The second document of mixed.yaml is skipped like the others.
	if !strings.Contains(joined, filepath.Join(dir, "ci", "mixed.yaml")+":8: skipping") {
		t.Errorf("second document of mixed.yaml not skipped:\n%s", joined)
	}
}

func TestNamedFileStillRefusesNonKubernetesYAML(t *testing.T) {
	dir := writeTree(t, map[string]string{"values.yaml": "replicaCount: 2\n"})
	_, _, err := Load([]string{filepath.Join(dir, "values.yaml")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "missing apiVersion and kind") {
		t.Fatalf("a file named on the command line must fail, got %v", err)
	}
}

func TestExclude(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"class.yaml":              classYAML,
		"templates/broken.yaml":   "{{ .Values.x }}: [\n",
		"charts/sub/broken.yaml":  "::: not yaml [\n",
		"overlays/dev/broken.yml": "[\n",
		"other/broken.tmpl.yaml":  "[\n",
	})
	_, _, err := Load([]string{dir}, Options{})
	if err == nil {
		t.Fatal("the broken files must fail without --exclude")
	}
	s, warns, err := Load([]string{dir}, Options{Exclude: []string{"templates/*", "charts", "overlays/dev", "*.tmpl.yaml"}})
	if err != nil {
		t.Fatalf("Load with excludes: %v", err)
	}
	if len(s.GatewayClasses) != 1 || len(warns) != 0 {
		t.Fatalf("got %d classes, warnings %v", len(s.GatewayClasses), warns)
	}
	// A file named directly is read whatever the excludes say.
	if _, _, err := Load([]string{filepath.Join(dir, "templates", "broken.yaml")}, Options{Exclude: []string{"templates/*"}}); err == nil {
		t.Fatal("a file named on the command line must be read")
	}
	if err := ValidateGlobs([]string{"[a-"}); err == nil {
		t.Fatal("a malformed glob must be refused")
	}
}

func TestKustomize(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources:\n- class.yaml\n- gw.yaml\n",
		"base/class.yaml":         classYAML,
		"base/gw.yaml": `# a comment first
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: other
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: eg
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8081}]
`,
		"prod/kustomization.yaml": "namespace: prod\nnamePrefix: p-\nresources:\n- ../base\n- route.yaml\n",
		"prod/route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs: [{name: eg}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
`,
	})
	prod := filepath.Join(dir, "prod")
	s, _, err := Load(nil, Options{Kustomize: []string{prod}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	gw := resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: "prod", Name: "p-eg"}
	if got, want := s.Origin(gw), (resource.Origin{File: filepath.Join(prod, "..", "base", "gw.yaml"), Line: 10}); got != want {
		t.Errorf("Gateway origin = %v, want %v", got, want)
	}
	rt := resource.Key{Group: resource.GroupGatewayAPI, Kind: "HTTPRoute", Namespace: "prod", Name: "p-web"}
	if got, want := s.Origin(rt), (resource.Origin{File: filepath.Join(prod, "route.yaml"), Line: 1}); got != want {
		t.Errorf("HTTPRoute origin = %v, want %v", got, want)
	}
	for _, g := range s.Gateways {
		if _, ok := g.Annotations["config.kubernetes.io/origin"]; ok {
			t.Errorf("Gateway %s keeps kustomize's origin annotation", g.Name)
		}
	}

	// An invalid object is reported in the file that declares it.
	bad := writeTree(t, map[string]string{
		"kustomization.yaml": "resources:\n- gw.yaml\n",
		"gw.yaml":            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: eg\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 0}]\n",
	})
	_, _, err = Load(nil, Options{Kustomize: []string{bad}})
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(bad, "gw.yaml")+":1: Gateway default/eg: spec.listeners[0].port") {
		t.Fatalf("error = %v", err)
	}

	// Not a kustomization: kustomize's own error, on the directory.
	_, _, err = Load(nil, Options{Kustomize: []string{filepath.Join(dir, "base", "..")}})
	if err == nil || !strings.Contains(err.Error(), "kustomize build") {
		t.Fatalf("error = %v", err)
	}
}
