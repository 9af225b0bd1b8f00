// Package l4 holds behaviour tests for the non-HTTP route kinds (GRPCRoute,
// TCPRoute, TLSRoute, UDPRoute): a manifest is compiled by the egctl binary
// to a static bootstrap, a real Envoy loads it, and in-test backends on
// loopback answer through it. The harness is package e2e's.
package l4

import (
	"fmt"
	"os"
	"testing"

	"github.com/egctl/egctl/test/e2e"
)

func TestMain(m *testing.M) {
	os.Exit(e2e.Main(m, e2e.MainOptions{}))
}

// startEnvoy compiles manifest with egctl and serves it with Envoy until
// the test ends; tcpPorts are the TCP listener ports to wait for.
func startEnvoy(t *testing.T, manifest string, tcpPorts ...int) {
	t.Helper()
	e2e.StartProxy(t, e2e.DeployOptions{}, manifest, tcpPorts...)
}

// gatewayYAML is a GatewayClass and Gateway "default/eg" with listeners
// (indented under spec.listeners).
func gatewayYAML(listeners string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
` + listeners + "\n"
}

// backendYAML is an Envoy Gateway Backend pointing at a loopback port.
func backendYAML(name string, port int) string {
	return fmt.Sprintf(`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: %s, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: %d}}]
`, name, port)
}

// secretYAML is a kubernetes.io/tls Secret holding c, as a new document.
func secretYAML(name string, c *e2e.Cert) string {
	return "---\n" + e2e.TLSSecretYAML(name, c)
}
