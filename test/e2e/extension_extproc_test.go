package e2e

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// extProcessor is a real external processor (envoy.service.ext_proc.v3,
// gRPC): it adds a header to requests and responses, upper-cases request
// and response bodies (same length, so Content-Length stays right), writes
// dynamic metadata, and records the attributes and metadata Envoy sent it.
type extProcessor struct {
	extprocv3.UnimplementedExternalProcessorServer
	Port int

	mu   sync.Mutex
	seen []procSeen
}

// procSeen is what the processor received with one request's headers.
type procSeen struct {
	Attributes map[string]any // envoy.filters.http.ext_proc attributes
	Metadata   map[string]any // metadata_context.filter_metadata
}

func startExtProcessor(t testing.TB) *extProcessor {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &extProcessor{Port: l.Addr().(*net.TCPAddr).Port}
	srv := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(srv, p)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return p
}

func (p *extProcessor) Seen() []procSeen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]procSeen(nil), p.seen...)
}

func setHeader(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}}
}

func (p *extProcessor) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		resp := &extprocv3.ProcessingResponse{}
		switch r := req.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			s := procSeen{Attributes: map[string]any{}, Metadata: map[string]any{}}
			if a := req.GetAttributes()["envoy.filters.http.ext_proc"]; a != nil {
				s.Attributes = a.AsMap()
			}
			for ns, st := range req.GetMetadataContext().GetFilterMetadata() {
				s.Metadata[ns] = st.AsMap()
			}
			p.mu.Lock()
			p.seen = append(p.seen, s)
			p.mu.Unlock()
			md, _ := structpb.NewStruct(map[string]any{"example.com/processor": map[string]any{"verdict": "processed"}})
			resp.DynamicMetadata = md
			resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{
				Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{
					SetHeaders: []*corev3.HeaderValueOption{setHeader("x-ext-proc", "request")},
				}},
			}}
		case *extprocv3.ProcessingRequest_RequestBody:
			resp.Response = &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{
				Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
					Mutation: &extprocv3.BodyMutation_Body{Body: []byte(strings.ToUpper(string(r.RequestBody.GetBody())))},
				}},
			}}
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			resp.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{
				Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{
					SetHeaders: []*corev3.HeaderValueOption{setHeader("x-ext-proc-response", "added")},
				}},
			}}
		case *extprocv3.ProcessingRequest_ResponseBody:
			resp.Response = &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{
				Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
					Mutation: &extprocv3.BodyMutation_Body{Body: []byte(strings.ToUpper(string(r.ResponseBody.GetBody())))},
				}},
			}}
		default:
			// Trailers and anything newer: let them through unchanged.
			continue
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// bodyEcho answers with what it received that the processor may change:
// the body and the header the processor sets.
func bodyEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "body="+string(b)+";x-ext-proc="+r.Header.Get("X-Ext-Proc"))
	})
}

// TestExtProc: a processor changes request and response headers and
// bodies, receives the attributes and the metadata namespace the policy
// forwards, and writes metadata a Lua script (running before it on
// requests, after it on responses) reads back.
func TestExtProc(t *testing.T) {
	envoyTest(t)
	proc := startExtProcessor(t)
	app := StartHTTPBackend(t, bodyEcho())
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
{{ service "proc" .Proc }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: proc, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [proc.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: proc, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: proc}]
  lua:
  - type: Inline
    inline: |
      function envoy_on_request(h)
        h:streamInfo():dynamicMetadata():set("example.com/tenant", "tenant", "acme")
      end
      function envoy_on_response(h)
        local md = h:streamInfo():dynamicMetadata():get("example.com/processor")
        if md then h:headers():add("x-processor-verdict", md["verdict"]) end
      end
  extProc:
  - backendRefs: [{name: proc, port: 8080}]
    processingMode:
      request:
        body: Buffered
        attributes: [request.path, request.method, source.address, xds.route_name]
      response:
        body: Buffered
    metadata:
      accessibleNamespaces: [example.com/tenant]
      writableNamespaces: [example.com/processor]
    messageTimeout: 5s
`, map[string]any{"App": app.Port, "Proc": proc.Port})

	req := p.NewRequest(t, http.MethodPost, "proc.example.com", "/process?x=1")
	req.Body = io.NopCloser(strings.NewReader("hello processor"))
	req.ContentLength = int64(len("hello processor"))
	r := Do(t, httpClient, req).ExpectStatus(t, http.StatusOK)

	// The backend saw the upper-cased body and the request header; its
	// answer came back upper-cased.
	if got, want := string(r.Body), "BODY=HELLO PROCESSOR;X-EXT-PROC=REQUEST"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if got := r.Header.Get("X-Ext-Proc-Response"); got != "added" {
		t.Errorf("x-ext-proc-response = %q", got)
	}
	if got := r.Header.Get("X-Processor-Verdict"); got != "processed" {
		t.Errorf("metadata the processor wrote, read by Lua: %q, want processed", got)
	}

	seen := proc.Seen()
	if len(seen) != 1 {
		t.Fatalf("processor saw %d requests, want 1", len(seen))
	}
	a := seen[0].Attributes
	if a["request.path"] != "/process?x=1" || a["request.method"] != "POST" ||
		a["xds.route_name"] != "httproute/default/proc/rule/0/match/0/proc_example_com" ||
		!strings.HasPrefix(a["source.address"].(string), "127.0.0.1:") {
		t.Errorf("attributes = %v", a)
	}
	tenant, _ := seen[0].Metadata["example.com/tenant"].(map[string]any)
	if tenant["tenant"] != "acme" {
		t.Errorf("metadata = %v, want example.com/tenant forwarded", seen[0].Metadata)
	}
}

// TestExtProcFailOpen: with the processor down, failOpen serves the
// request without it; without failOpen it fails, with statusOnError.
func TestExtProcFailOpen(t *testing.T) {
	envoyTest(t)
	dead := FreePort(t) // nothing listens there
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
{{ service "proc" .Proc }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: open, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [open.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: closed, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [closed.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: open, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: open}]
  extProc:
  - backendRefs: [{name: proc, port: 8080}]
    processingMode: {request: {}}
    failOpen: true
    messageTimeout: 1s
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: closed, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: closed}]
  extProc:
  - backendRefs: [{name: proc, port: 8080}]
    processingMode: {request: {}}
    statusOnError: 503
    messageTimeout: 1s
`, map[string]any{"App": StartEchoBasic(t, "app").Port, "Proc": dead})

	p.ExpectPod(t, "app", "open.example.com", "/")
	p.ExpectStatus(t, http.StatusServiceUnavailable, "closed.example.com", "/")

	// The processor comes up: the fail-closed route works through it.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(dead))
	if err != nil {
		t.Skipf("the dead port was taken meanwhile: %v", err)
	}
	srv := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(srv, &extProcessor{})
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	Eventually(t, 20*time.Second, func() error {
		r := p.Get(t, "closed.example.com", "/")
		if r.Status != http.StatusOK {
			return errors.New("status " + strconv.Itoa(r.Status))
		}
		if got := r.Echo(t).Header("X-Ext-Proc"); len(got) == 0 || got[0] != "request" {
			return errors.New("the processor's header is missing")
		}
		return nil
	})
}
