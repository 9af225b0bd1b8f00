package gen

import (
	"bytes"
	"errors"
	"io"
)

// EnvoyProxy is the EnvoyProxy WriteWithEnvoyProxy attaches to the
// workload's GatewayClass: the settings that touch every route, cluster or
// listener (Service routing, cluster stat names, per-endpoint stats,
// virtual host stats, IPv4/IPv6 listeners) and the per-proxy ones (access
// logs, tracing, request ID, the stats listener).
const EnvoyProxy = `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata:
  name: bench
  namespace: default
spec:
  ipFamily: DualStack
  routingType: Service
  telemetry:
    requestID: {tracing: Sample}
    accessLog:
      settings:
      - format: {type: Text, text: "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %DURATION%"}
        sinks: [{type: File, file: {path: /dev/stdout}}]
      - format: {type: JSON, json: {method: "%REQ(:METHOD)%", status: "%RESPONSE_CODE%"}}
        matches: ["response.code >= 500"]
        sinks: [{type: File, file: {path: /dev/stderr}}]
    tracing:
      samplingFraction: {numerator: 1, denominator: 100}
      provider: {type: OpenTelemetry, host: 127.0.0.1, port: 4317}
    metrics:
      prometheus: {}
      enableVirtualHostStats: true
      enablePerEndpointStats: true
      clusterStatName: "%ROUTE_KIND%.%ROUTE_NAMESPACE%.%ROUTE_NAME%.%ROUTE_RULE_NUMBER%"
`

const plainClass = "  controllerName: gateway.envoyproxy.io/gatewayclass-controller\n"

// WriteWithEnvoyProxy writes the workload of Write with the EnvoyProxy
// above attached to its GatewayClass: the same routes, to measure what an
// EnvoyProxy costs.
func WriteWithEnvoyProxy(w io.Writer, routes int) error {
	var buf bytes.Buffer
	if err := Write(&buf, routes); err != nil {
		return err
	}
	out := buf.Bytes()
	i := bytes.Index(out, []byte(plainClass))
	if i < 0 {
		return errors.New("gen: the GatewayClass changed; WriteWithEnvoyProxy cannot attach the EnvoyProxy")
	}
	attach := plainClass + "  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: bench, namespace: default}\n"
	if _, err := w.Write(out[:i]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, attach); err != nil {
		return err
	}
	if _, err := w.Write(out[i+len(plainClass):]); err != nil {
		return err
	}
	_, err := io.WriteString(w, EnvoyProxy)
	return err
}
