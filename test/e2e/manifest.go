package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// ServicePort is the port every test Service exposes; backendRefs use it.
// The Service forwards to the backend's real loopback port through its
// EndpointSlice, as a cluster would forward to a pod.
const ServicePort = 8080

// GatewayClassName is the class every test Gateway uses.
const GatewayClassName = "eg"

// Building blocks for test manifests, used inside templates as functions:
//
//	{{ gatewayClass }}            the GatewayClass "eg"
//	{{ gateway "gw" .Port }}      Gateway default/gw, one HTTP listener "http" on .Port, routes from all namespaces
//	{{ service "echo" .Echo }}    Service default/echo (port 8080) + EndpointSlice to 127.0.0.1:.Echo
//	{{ serviceIn "ns" "echo" .Echo }}  the same in namespace ns
//	{{ backend "echo" .Echo }}    Envoy Gateway Backend default/echo with ip endpoint 127.0.0.1:.Echo
//	{{ tlsSecret "cert" .Cert }}  kubernetes.io/tls Secret default/cert holding a *Cert
//	{{ b64 .Cert }}               standard base64 of a string or []byte
//	{{ indent 4 .Text }}          every line of .Text indented by 4 spaces
var manifestFuncs = template.FuncMap{
	"gatewayClass": gatewayClassYAML,
	"gateway":      gatewayYAML,
	"service":      func(name string, port int) string { return serviceYAML(Namespace, name, port) },
	"serviceIn":    serviceYAML,
	"backend":      backendYAML,
	"tlsSecret":    TLSSecretYAML,
	"b64":          b64,
	"indent":       indent,
}

// RenderManifests executes a manifest template with data. A reference to a
// missing key is an error, so a typo in a test cannot render "<no value>".
func RenderManifests(t testing.TB, tmpl string, data any) string {
	t.Helper()
	tp, err := template.New("manifests").Funcs(manifestFuncs).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("parsing manifest template: %v", err)
	}
	var buf bytes.Buffer
	if err := tp.Execute(&buf, data); err != nil {
		t.Fatalf("rendering manifest template: %v", err)
	}
	return buf.String()
}

// WriteManifests renders the template into manifests.yaml in a fresh
// directory and returns the directory, ready for `egctl ... -f dir`.
func WriteManifests(t testing.TB, tmpl string, data any) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(RenderManifests(t, tmpl, data)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func gatewayClassYAML() string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: %s
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
`, GatewayClassName)
}

func gatewayYAML(name string, port int) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: %s
  namespace: %s
spec:
  gatewayClassName: %s
  listeners:
  - name: http
    protocol: HTTP
    port: %d
    allowedRoutes:
      namespaces:
        from: All
`, name, Namespace, GatewayClassName, port)
}

func serviceYAML(namespace, name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
  - name: http
    protocol: TCP
    port: %[3]d
    targetPort: %[4]d
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-1
  namespace: %[2]s
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
endpoints:
- addresses:
  - 127.0.0.1
  conditions:
    ready: true
ports:
- name: http
  protocol: TCP
  port: %[4]d
`, name, namespace, ServicePort, port)
}

func backendYAML(name string, port int) string {
	return fmt.Sprintf(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: %s
  namespace: %s
spec:
  endpoints:
  - ip:
      address: 127.0.0.1
      port: %d
`, name, Namespace, port)
}

func b64(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return base64.StdEncoding.EncodeToString([]byte(x)), nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	}
	return "", fmt.Errorf("b64: want string or []byte, got %T", v)
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
