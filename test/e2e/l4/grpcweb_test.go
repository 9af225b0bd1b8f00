package l4

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// grpcWebCheck sends grpc.health.v1.Health/Check as a gRPC-Web call
// (HTTP/1.1, binary framing) to port and returns the HTTP status, the
// content type and the body.
func grpcWebCheck(t *testing.T, port int) (int, string, []byte, error) {
	t.Helper()
	frame := []byte{0, 0, 0, 0, 0} // uncompressed, empty HealthCheckRequest
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		fmt.Sprintf("http://127.0.0.1:%d/grpc.health.v1.Health/Check", port), bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, err
}

// grpcWebFrames splits a gRPC-Web body into its message and trailer frames.
func grpcWebFrames(body []byte) (msg, trailers []byte, err error) {
	for len(body) > 0 {
		if len(body) < 5 {
			return nil, nil, fmt.Errorf("truncated frame header %x", body)
		}
		n := int(binary.BigEndian.Uint32(body[1:5]))
		if len(body) < 5+n {
			return nil, nil, fmt.Errorf("frame of %d bytes, %d left", n, len(body)-5)
		}
		if body[0]&0x80 != 0 {
			trailers = body[5 : 5+n]
		} else {
			msg = body[5 : 5+n]
		}
		body = body[5+n:]
	}
	return msg, trailers, nil
}

// TestGRPCRouteGRPCWebByDefault: a listener serving a GRPCRoute takes
// gRPC-Web calls from an HTTP/1.1 client without any policy (Envoy
// Gateway's default, which the ClientTrafficPolicy API documents as
// "enabled by default for GRPCRoute"), and counts them per method (the
// gRPC stats filter, the EnvoyProxy API's default for GRPCRoute). A
// ClientTrafficPolicy that gives spec.grpc without enableWeb turns
// gRPC-Web off there: the call reaches the gRPC server as is, which
// refuses the content type.
func TestGRPCRouteGRPCWebByDefault(t *testing.T) {
	t.Parallel()
	a := healthServer(t, healthpb.HealthCheckResponse_SERVING)
	web, plain := e2e.FreePort(t), e2e.FreePort(t)
	px := e2e.StartProxy(t, e2e.DeployOptions{}, gatewayYAML(fmt.Sprintf(`    - {name: web, protocol: HTTP, port: %d}
    - {name: plain, protocol: HTTP, port: %d}`, web, plain))+backendYAML("health-a", a)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: health-a}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: no-web, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: plain}]
  grpc: {}
`, web, plain)

	e2e.Eventually(t, 10*time.Second, func() error {
		code, ct, body, err := grpcWebCheck(t, web)
		if err != nil {
			return err
		}
		if code != http.StatusOK || !strings.HasPrefix(ct, "application/grpc-web") {
			return fmt.Errorf("status %d, content type %q, want 200 application/grpc-web…", code, ct)
		}
		msg, trailers, err := grpcWebFrames(body)
		if err != nil {
			return err
		}
		// HealthCheckResponse{status: SERVING}: field 1, varint 1.
		if !bytes.Equal(msg, []byte{0x08, 0x01}) || !strings.Contains(string(trailers), "grpc-status:0") {
			return fmt.Errorf("message %x, trailers %q; want 0801 and grpc-status:0", msg, trailers)
		}
		return nil
	})
	stats := px.Admin(t, "/stats?filter=grpc.health.v1.Health.Check.success")
	if !strings.Contains(stats, "grpc.health.v1.Health.Check.success: ") || strings.Contains(stats, "Check.success: 0") {
		t.Errorf("gRPC stats filter: no per-method success count after a call:\n%s", stats)
	}

	code, ct, _, err := grpcWebCheck(t, plain)
	if err != nil {
		t.Fatal(err)
	}
	if code == http.StatusOK && strings.HasPrefix(ct, "application/grpc-web") {
		t.Errorf("listener with spec.grpc and no enableWeb answered a gRPC-Web call (status %d, %q): the filter should be off", code, ct)
	}
}
