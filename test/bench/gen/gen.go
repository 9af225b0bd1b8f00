// Package gen writes the benchmark workload of issue "translate is slow at
// scale": one Gateway and N HTTPRoutes spread over 20 namespaces, each route
// with a weighted, header-matched rule and an exact-match rule. It is the same
// shape as the workload Envoy Gateway's figures were measured with, so the
// numbers compare.
//
// The output is a pure function of the route count (no maps, no clocks, no
// randomness): two runs give identical bytes, so any difference in egctl's
// output between runs is egctl's.
package gen

import (
	"bufio"
	"fmt"
	"io"
)

// Namespaces is how many namespaces the routes are spread over; route i
// lives in ns-(i % Namespaces).
const Namespaces = 20

// ServicesPerNamespace lists the Services every namespace holds, each with
// one EndpointSlice of EndpointsPerService ready addresses.
var ServicesPerNamespace = []string{"svc-a", "svc-b"}

// EndpointsPerService is the number of ready addresses per EndpointSlice.
const EndpointsPerService = 3

// ServicePort is the port every Service exposes and every backendRef uses.
const ServicePort = 8080

// Write writes the workload for routes HTTPRoutes as multi-document YAML.
func Write(w io.Writer, routes int) error {
	if routes < 0 {
		return fmt.Errorf("gen: route count %d is negative", routes)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	writeGateway(bw)
	for ns := 0; ns < Namespaces; ns++ {
		writeNamespace(bw, ns)
	}
	for i := 0; i < routes; i++ {
		writeRoute(bw, i)
	}
	// bufio keeps the first write error and returns it from Flush.
	return bw.Flush()
}

func writeGateway(w *bufio.Writer) {
	io.WriteString(w, `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: eg
  namespace: default
spec:
  gatewayClassName: eg
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    allowedRoutes:
      namespaces:
        from: All
`)
}

// writeNamespace writes Namespace ns-<ns> with its Services and their
// EndpointSlices. Addresses are loopback (127.<1+svc>.<ns>.<k>) so that a
// bootstrap made from the workload can never send traffic off the machine.
func writeNamespace(w *bufio.Writer, ns int) {
	fmt.Fprintf(w, `---
apiVersion: v1
kind: Namespace
metadata:
  name: ns-%d
`, ns)
	for s, svc := range ServicesPerNamespace {
		fmt.Fprintf(w, `---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: ns-%[2]d
spec:
  type: ClusterIP
  clusterIP: 10.96.%[2]d.%[3]d
  ports:
  - name: http
    protocol: TCP
    port: %[4]d
    targetPort: %[4]d
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-1
  namespace: ns-%[2]d
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
- name: http
  protocol: TCP
  port: %[4]d
endpoints:
`, svc, ns, 10+s, ServicePort)
		for k := 1; k <= EndpointsPerService; k++ {
			fmt.Fprintf(w, `- addresses:
  - 127.%d.%d.%d
  conditions:
    ready: true
`, 1+s, ns, k)
		}
	}
}

func writeRoute(w *bufio.Writer, i int) {
	fmt.Fprintf(w, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%[1]d
  namespace: ns-%[2]d
spec:
  parentRefs:
  - name: eg
    namespace: default
  hostnames:
  - route-%[1]d.example.com
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /api
      headers:
      - type: Exact
        name: x-env
        value: prod
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - name: x-route
          value: route-%[1]d
    backendRefs:
    - name: svc-a
      port: %[3]d
      weight: 90
    - name: svc-b
      port: %[3]d
      weight: 10
  - matches:
    - path:
        type: Exact
        value: /health
    backendRefs:
    - name: svc-a
      port: %[3]d
`, i, i%Namespaces, ServicePort)
}
