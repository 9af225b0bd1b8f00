package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/freeport"
)

const backendReadyTimeout = 15 * time.Second

// Namespace is the namespace every test object lives in; echo-basic reports
// it back as "namespace".
const Namespace = "default"

// FreePort returns a port for a child process (Envoy, echo-basic) to bind:
// see package freeport for why it is not simply one the kernel picked.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	return p
}

// FreeUDPPort returns a port free for UDP (and TCP) on all addresses.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return FreePort(t)
}

// ServeConns accepts connections on l until the test ends (l is closed at
// cleanup) and runs handle on each in its own goroutine, with the
// connection's deadline set timeout ahead and the connection closed after.
func ServeConns(t testing.TB, l net.Listener, timeout time.Duration, handle func(net.Conn)) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(timeout))
				handle(c)
			}()
		}
	}()
}

// EchoBackend is one official Gateway API echo server (echo-basic).
type EchoBackend struct {
	Pod  string
	Port int
}

// StartEchoBasic runs echo-basic as pod `pod` in Namespace. It answers every
// request with a JSON description of what it received (see EchoResponse).
// echo-basic listens on all interfaces (":port"), which it does not let a
// caller change; the tests only ever talk to it through 127.0.0.1.
func StartEchoBasic(t testing.TB, pod string) *EchoBackend {
	t.Helper()
	if echoBasicErr != nil {
		t.Fatalf("echo-basic is not available: %v", echoBasicErr)
	}
	if echoBasicBin == "" {
		t.Fatal("echo-basic was not built: run these tests through `go test` so TestMain builds it")
	}
	port := FreePort(t)
	logPath := filepath.Join(t.TempDir(), "echo-basic-"+pod+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("creating echo-basic log: %v", err)
	}
	cmd := exec.Command(echoBasicBin)
	cmd.Env = append(os.Environ(),
		"HTTP_PORT="+strconv.Itoa(port),
		// echo-basic also serves h2c, on 3001 unless told otherwise; two
		// instances on the default would collide.
		"H2C_PORT="+strconv.Itoa(FreePort(t)),
		"POD_NAME="+pod,
		"NAMESPACE="+Namespace,
		"SERVICE_NAME="+pod,
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting echo-basic: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- echo-basic %s log ---\n%s", pod, tailFile(logPath, 40))
		}
	})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	url := fmt.Sprintf("http://127.0.0.1:%d/health", port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(backendReadyTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("echo-basic %s exited at start-up:\n%s", pod, tailFile(logPath, 40))
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &EchoBackend{Pod: pod, Port: port}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo-basic %s not healthy on %s after %s: %v", pod, url, backendReadyTimeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// EchoResponse is the JSON body echo-basic answers with.
type EchoResponse struct {
	Path      string              `json:"path"`
	Host      string              `json:"host"`
	Method    string              `json:"method"`
	Proto     string              `json:"proto"`
	Headers   map[string][]string `json:"headers"`
	Namespace string              `json:"namespace"`
	Pod       string              `json:"pod"`
}

// Header returns the values the backend saw for a header, in Go's canonical
// form of its name.
func (e EchoResponse) Header(name string) []string {
	return e.Headers[http.CanonicalHeaderKey(name)]
}

// HTTPBackend is an in-test backend: a net/http server on 127.0.0.1:0.
type HTTPBackend struct {
	Port int

	mu   sync.Mutex
	hits []Hit
}

// Hit is one request an HTTPBackend received.
type Hit struct {
	Method string
	Path   string // request URI as received, query included
	Host   string
	Header http.Header
}

// StartHTTPBackend serves h on a fresh loopback port until the test ends,
// recording every request it receives before h sees it.
func StartHTTPBackend(t testing.TB, h http.Handler) *HTTPBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for an in-test backend: %v", err)
	}
	b := &HTTPBackend{Port: l.Addr().(*net.TCPAddr).Port}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b.mu.Lock()
			b.hits = append(b.hits, Hit{Method: r.Method, Path: r.RequestURI, Host: r.Host, Header: r.Header.Clone()})
			b.mu.Unlock()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	})
	return b
}

// Hits returns a copy of the requests received so far.
func (b *HTTPBackend) Hits() []Hit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Hit(nil), b.hits...)
}

// WaitHits waits until the backend has received at least n requests for
// which match returns true (nil matches all), and returns them.
func (b *HTTPBackend) WaitHits(t testing.TB, n int, timeout time.Duration, match func(Hit) bool) []Hit {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []Hit
		for _, h := range b.Hits() {
			if match == nil || match(h) {
				got = append(got, h)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend :%d got %d matching requests within %s, want %d (all hits: %+v)", b.Port, len(got), timeout, n, b.Hits())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OKHandler answers 200 with body "ok".
func OKHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
}

// SlowHandler waits for the duration in the "sleep" query parameter (Go
// duration syntax; none means no wait) before answering 200, or until the
// caller gives up, so a timed-out request does not hold the test open.
func SlowHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("sleep"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.WriteString(w, "slow ok")
	})
}

// FlakyHandler fails the first `failures` requests of each value of the
// X-Request-Key header with status `code`, then answers 200. Requests
// without the header always fail with 400, so a misrouted request shows.
func FlakyHandler(failures, code int) http.Handler {
	var mu sync.Mutex
	seen := map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Request-Key")
		if key == "" {
			http.Error(w, "X-Request-Key header missing", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen[key]++
		n := seen[key]
		mu.Unlock()
		if n <= failures {
			w.WriteHeader(code)
			fmt.Fprintf(w, "attempt %d fails", n)
			return
		}
		fmt.Fprintf(w, "attempt %d succeeds", n)
	})
}

// FreePrivilegedPort returns a Gateway listener port below 1024 whose
// shifted port (port+10000, where egctl binds it) is free and reserved for
// this test binary.
func FreePrivilegedPort(t testing.TB) int {
	t.Helper()
	for p := 1023; p >= 1; p-- {
		if freeport.Take(p + 10000) {
			return p
		}
	}
	t.Fatal("no port in 10001..11023 is free")
	return 0
}
