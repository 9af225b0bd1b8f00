package gen

import (
	"fmt"
	"io"
)

// btpSpec is a BackendTrafficPolicy of the kind users write, touching route
// and cluster settings alike.
const btpSpec = `  retry:
    numRetries: 3
    retryOn:
      triggers:
      - connect-failure
      - retriable-status-codes
      httpStatusCodes:
      - 503
  timeout:
    tcp:
      connectTimeout: 2s
    http:
      requestTimeout: 10s
  loadBalancer:
    type: RoundRobin
  circuitBreaker:
    maxConnections: 100
    maxPendingRequests: 50
  healthCheck:
    passive:
      consecutive5XxErrors: 3
  compressor:
  - type: Gzip
    gzip: {}
`

// WriteBackendTrafficPolicies writes BackendTrafficPolicies for Write's
// workload of the given size: one per route when perRoute (nothing shared
// between routes: the worst case for translate-once caching), else one on
// the Gateway (the best case).
func WriteBackendTrafficPolicies(w io.Writer, routes int, perRoute bool) error {
	if !perRoute {
		_, err := fmt.Fprintf(w, `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: gateway, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
%s`, btpSpec)
		return err
	}
	for i := range routes {
		if _, err := fmt.Fprintf(w, `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata:
  name: route-%[1]d
  namespace: ns-%[2]d
spec:
  targetRefs:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    name: route-%[1]d
%[3]s`, i, i%Namespaces, btpSpec); err != nil {
			return err
		}
	}
	return nil
}
