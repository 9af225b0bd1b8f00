package l4

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// healthServer serves grpc.health.v1 on loopback reporting st for "".
func healthServer(t *testing.T, st healthpb.HealthCheckResponse_ServingStatus) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", st)
	healthpb.RegisterHealthServer(s, h)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return l.Addr().(*net.TCPAddr).Port
}

// TestGRPCRoute routes real gRPC calls by method and header: the Health
// service goes to backend A (SERVING) unless x-backend: b selects backend B
// (NOT_SERVING); a service no rule matches is answered Unimplemented.
func TestGRPCRoute(t *testing.T) {
	a := healthServer(t, healthpb.HealthCheckResponse_SERVING)
	b := healthServer(t, healthpb.HealthCheckResponse_NOT_SERVING)
	port := e2e.FreePort(t)
	startEnvoy(t, gatewayYAML(fmt.Sprintf("    - {name: grpc, protocol: HTTP, port: %d}", port))+
		backendYAML("health-a", a)+backendYAML("health-b", b)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
  - matches:
    - method: {service: grpc.health.v1.Health, method: Check}
      headers: [{name: x-backend, value: b}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: health-b}]
  - matches:
    - method: {service: grpc.health.v1.Health}
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: health-a}]
`, port)
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	check := func(md ...string) (healthpb.HealthCheckResponse_ServingStatus, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if len(md) > 0 {
			ctx = metadata.AppendToOutgoingContext(ctx, md...)
		}
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		return resp.GetStatus(), err
	}
	e2e.Eventually(t, 10*time.Second, func() error {
		st, err := check()
		if err != nil {
			return err
		}
		if st != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("default route: status %v, want SERVING (backend A)", st)
		}
		return nil
	})
	if st, err := check("x-backend", "b"); err != nil || st != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("x-backend: b: status %v, err %v; want NOT_SERVING from backend B", st, err)
	}
	if st, err := check("x-backend", "c"); err != nil || st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("x-backend: c: status %v, err %v; want SERVING from backend A", st, err)
	}
	// A method of another service matches no rule: Envoy answers 404,
	// which gRPC reports as Unimplemented.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = conn.Invoke(ctx, "/other.Service/Do", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unrouted method: %v, want Unimplemented", err)
	}
}

// TestGRPCRouteHTTPS: a gRPC client negotiates h2 by ALPN with an HTTPS
// listener; Envoy terminates TLS and forwards over h2c.
func TestGRPCRouteHTTPS(t *testing.T) {
	a := healthServer(t, healthpb.HealthCheckResponse_SERVING)
	cert := e2e.SelfSignedCert(t, "grpc.example.com")
	port := e2e.FreePort(t)
	startEnvoy(t, gatewayYAML(fmt.Sprintf(`    - {name: grpcs, protocol: HTTPS, port: %d, hostname: grpc.example.com, tls: {certificateRefs: [{name: grpc-cert}]}}`, port))+
		secretYAML("grpc-cert", cert)+backendYAML("health-a", a)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {type: RegularExpression, service: "grpc\\.health\\.v1\\..*", method: "Ch.ck"}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: health-a}]
`, port)
	creds := credentials.NewTLS(&tls.Config{ServerName: "grpc.example.com", RootCAs: cert.Pool})
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(creds), grpc.WithAuthority("grpc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	e2e.Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("status %v", resp.GetStatus())
		}
		return nil
	})
}
