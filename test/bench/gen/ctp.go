package gen

import "io"

// WriteClientTrafficPolicy writes a ClientTrafficPolicy attached to the
// workload's Gateway that sets something in every place Envoy keeps
// listener-side client settings: the listener socket, the filter chain, the
// HTTP connection manager and its HTTP filters. With clusters it also asks
// for preserveHeaderCase and enableTrailers, which need HTTP/1 protocol
// options on the backend cluster of every route (20,000 at 10,000 routes).
// Appended to Write's output it measures what a Gateway-wide policy costs
// at scale.
func WriteClientTrafficPolicy(w io.Writer, clusters bool) error {
	_, err := io.WriteString(w, `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata:
  name: client-traffic
  namespace: default
spec:
  targetRefs:
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: eg
  tcpKeepalive: {probes: 3, idleTime: 60s, interval: 10s}
  clientIPDetection:
    xForwardedFor: {numTrustedHops: 1}
  path: {escapedSlashesAction: RejectRequest}
  headers:
    withUnderscoresAction: DropHeader
    requestID: PreserveOrGenerate
    earlyRequestHeaders:
      set: [{name: x-gateway, value: eg}]
    lateResponseHeaders:
      set: [{name: x-served-by, value: eg}]
  timeout:
    http: {requestReceivedTimeout: 30s, idleTimeout: 5m}
  connection:
    connectionLimit: {value: 10000}
    bufferLimit: 64Ki
  http2: {maxConcurrentStreams: 200}
  healthCheck: {path: /healthz}
`)
	if err == nil && clusters {
		_, err = io.WriteString(w, `  http1: {preserveHeaderCase: true, enableTrailers: true}
`)
	}
	return err
}
