package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// External authorization services for the ext-auth tests, both deciding
// the same way: a request carrying "x-decision: deny" is refused, any
// other is allowed and tagged with the user the service vouches for.
// Each records the checks it received (headers, body, context) so that a
// test can assert on what Envoy sent.

// authCheck is one check request as a service received it.
type authCheck struct {
	Path    string            // HTTP: the check request's path
	Headers map[string]string // lower-case names
	Body    string
	Context map[string]string // gRPC: context extensions
}

type authLog struct {
	mu     sync.Mutex
	checks []authCheck
}

func (l *authLog) add(c authCheck) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checks = append(l.checks, c)
}

// Checks returns the checks received so far.
func (l *authLog) Checks() []authCheck {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]authCheck(nil), l.checks...)
}

// last returns the most recent check whose header name has value.
func (l *authLog) last(t testing.TB, header, value string) authCheck {
	t.Helper()
	cs := l.Checks()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Headers[header] == value {
			return cs[i]
		}
	}
	t.Fatalf("no check with %s: %s among %d checks", header, value, len(cs))
	return authCheck{}
}

// httpAuthServer is an HTTP ext-authz service (Envoy's HTTP protocol: the
// check is a copy of the request; 200 allows, anything else is the
// answer the client gets).
type httpAuthServer struct {
	authLog
	Port int
}

func startHTTPAuthServer(t testing.TB) *httpAuthServer {
	t.Helper()
	s := &httpAuthServer{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := authCheck{Path: r.URL.RequestURI(), Headers: map[string]string{}, Body: string(body)}
		for k, v := range r.Header {
			c.Headers[strings.ToLower(k)] = v[0]
		}
		c.Headers[":authority"] = r.Host
		s.add(c)
		if r.Header.Get("X-Decision") == "deny" {
			w.Header().Set("X-Reason", "denied by the HTTP service")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "no entry")
			return
		}
		w.Header().Set("X-Auth-User", "alice")
		w.Header().Set("X-Not-Forwarded", "secret")
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// grpcAuthServer is a gRPC ext-authz service (envoy.service.auth.v3).
type grpcAuthServer struct {
	authv3.UnimplementedAuthorizationServer
	authLog
	Port int
}

func startGRPCAuthServer(t testing.TB) *grpcAuthServer {
	t.Helper()
	s := &grpcAuthServer{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, s)
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)
	return s
}

func (s *grpcAuthServer) Check(_ context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	h := req.GetAttributes().GetRequest().GetHttp()
	c := authCheck{Path: h.GetPath(), Headers: lowerKeys(h.GetHeaders()), Body: h.GetBody(), Context: req.GetAttributes().GetContextExtensions()}
	if len(h.GetRawBody()) > 0 {
		c.Body = string(h.GetRawBody())
	}
	s.add(c)
	if c.Headers["x-decision"] == "deny" {
		return &authv3.CheckResponse{
			Status: &status.Status{Code: int32(codes.PermissionDenied)},
			HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
				Body:   "no entry (gRPC)",
			}},
		}, nil
	}
	return &authv3.CheckResponse{
		Status: &status.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-auth-user", Value: "bob"}}},
		}},
	}, nil
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
