// Package kubetest is a Kubernetes API server for tests of the commands
// that talk to a cluster: it serves pods (get, list with a label
// selector, in a namespace or all) and their portforward subresource over
// SPDY, the protocol kubectl port-forward falls back to, relaying each
// forwarded connection to a local address the test chose for that pod's
// port. WebSocket port-forward is refused as an API server without it
// refuses it, which makes clients fall back as they do in the field.
package kubetest

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	streamhttp "k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// Pod is one pod the server knows.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	// Phase defaults to Running.
	Phase corev1.PodPhase
	// Ports maps a container port to the local address a forwarded
	// connection to it reaches.
	Ports map[int]string
}

// APIServer is a running fake API server.
type APIServer struct {
	URL  string
	pods []Pod
	// caPEM is the server certificate: client-go sends credentials over
	// TLS only, so the server speaks TLS as real ones do.
	caPEM []byte
	// Forwards counts the port-forward connections relayed.
	Forwards atomic.Int64
	// WebSocketAttempts counts WebSocket port-forward requests refused.
	WebSocketAttempts atomic.Int64
}

// Start serves pods until the test ends.
func Start(t testing.TB, pods ...Pod) *APIServer {
	t.Helper()
	s := &APIServer{pods: pods}
	srv := httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return s
}

// Kubeconfig writes a kubeconfig for the server (context "test", and
// "other" pointing nowhere) and returns its path.
func (s *APIServer) Kubeconfig(t testing.TB) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %s}
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", certificate-authority-data: %[2]s}
users:
- name: test
  user: {token: test-token}
contexts:
- name: test
  context: {cluster: test, user: test}
- name: other
  context: {cluster: nowhere, user: test}
current-context: test
`, s.URL, base64.StdEncoding.EncodeToString(s.caPEM))
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *APIServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer test-token" {
		status(w, http.StatusUnauthorized, "Unauthorized", "no or wrong bearer token")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// api/v1/pods | api/v1/namespaces/NS/pods[/NAME[/portforward]]
	if len(parts) < 3 || parts[0] != "api" || parts[1] != "v1" {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	parts = parts[2:]
	ns := ""
	if parts[0] == "namespaces" && len(parts) >= 3 {
		ns, parts = parts[1], parts[2:]
	}
	if parts[0] != "pods" {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		s.list(w, r, ns)
	case len(parts) == 2 && r.Method == http.MethodGet && ns != "":
		p := s.find(ns, parts[1])
		if p == nil {
			status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", parts[1]))
			return
		}
		writeJSON(w, s.pod(p))
	case len(parts) == 3 && parts[2] == "portforward" && ns != "":
		p := s.find(ns, parts[1])
		if p == nil {
			status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", parts[1]))
			return
		}
		s.portForward(w, r, p)
	default:
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" "+r.URL.Path)
	}
}

func (s *APIServer) find(ns, name string) *Pod {
	for i := range s.pods {
		if s.pods[i].Namespace == ns && s.pods[i].Name == name {
			return &s.pods[i]
		}
	}
	return nil
}

func (s *APIServer) pod(p *Pod) corev1.Pod {
	phase := p.Phase
	if phase == "" {
		phase = corev1.PodRunning
	}
	return corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func (s *APIServer) list(w http.ResponseWriter, r *http.Request, ns string) {
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		status(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	out := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: []corev1.Pod{}}
	for i := range s.pods {
		p := &s.pods[i]
		if (ns == "" || p.Namespace == ns) && sel.Matches(labels.Set(p.Labels)) {
			out.Items = append(out.Items, s.pod(p))
		}
	}
	writeJSON(w, out)
}

// portForward speaks the API server's side of SPDY port-forward: each
// forwarded connection is an error stream and a data stream sharing a
// requestID; the data stream is relayed to the pod port's address, and
// the error stream is closed when that connection ends.
func (s *APIServer) portForward(w http.ResponseWriter, r *http.Request, p *Pod) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.WebSocketAttempts.Add(1)
		status(w, http.StatusBadRequest, "BadRequest", "this test API server only speaks SPDY port-forward")
		return
	}
	if _, err := streamhttp.Handshake(r, w, []string{"portforward.k8s.io"}); err != nil {
		return // Handshake has answered
	}
	type pair struct {
		errStream streamhttp.Stream
		data      streamhttp.Stream
	}
	var mu sync.Mutex
	pairs := map[string]*pair{}
	streams := make(chan streamhttp.Stream, 4)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(st streamhttp.Stream, _ <-chan struct{}) error {
		streams <- st
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	for {
		var st streamhttp.Stream
		select {
		case st = <-streams:
		case <-conn.CloseChan():
			return
		}
		h := st.Headers()
		id := h.Get("requestID")
		mu.Lock()
		pr := pairs[id]
		if pr == nil {
			pr = &pair{}
			pairs[id] = pr
		}
		switch h.Get("streamType") {
		case "error":
			pr.errStream = st
		case "data":
			pr.data = st
		default:
			st.Reset()
		}
		ready := pr.errStream != nil && pr.data != nil
		if ready {
			delete(pairs, id)
		}
		mu.Unlock()
		if !ready {
			continue
		}
		port, _ := strconv.Atoi(h.Get("port"))
		go s.relay(pr.errStream, pr.data, p.Ports[port], port)
	}
}

func (s *APIServer) relay(errStream, data streamhttp.Stream, addr string, port int) {
	defer errStream.Close()
	defer data.Close()
	if addr == "" {
		fmt.Fprintf(errStream, "pod has no port %d", port)
		return
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintf(errStream, "error forwarding port %d: %v", port, err)
		return
	}
	defer c.Close()
	s.Forwards.Add(1)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(c, data)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(data, c)
	<-done
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure, Code: int32(code), Reason: metav1.StatusReason(reason), Message: msg,
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
