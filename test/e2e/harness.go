package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const requestTimeout = 15 * time.Second

// DeployOptions change how Deploy runs egctl.
type DeployOptions struct {
	// Gateway, when set, is passed as --gateway ns/name.
	Gateway string
	// ExitCodes egctl may end with; default {0}. A test about a rejected
	// object allows 1 (output produced, some object not accepted).
	ExitCodes []int
}

// Proxy is a running Envoy configured by egctl from a test's manifests.
type Proxy struct {
	*Envoy
	// Port is where Envoy listens for the Gateway listener on .Port: the
	// same port, or .Port+10000 for a privileged one.
	Port int
	// Translate is egctl's result.
	Translate Result
	// Bootstrap is the path of the bootstrap egctl printed.
	Bootstrap string
}

// Deploy is DeployWith default options.
func Deploy(t testing.TB, tmpl string, data map[string]any) *Proxy {
	t.Helper()
	return DeployWith(t, DeployOptions{}, tmpl, data)
}

// DeployWith renders the manifests (data["Port"] is set to a free port
// unless the test chose one) and starts them with StartProxy, waiting for
// the listener on Port.
func DeployWith(t testing.TB, opts DeployOptions, tmpl string, data map[string]any) *Proxy {
	t.Helper()
	requireEnvoy(t)
	if data == nil {
		data = map[string]any{}
	}
	if _, ok := data["Port"]; !ok {
		data["Port"] = FreePort(t)
	}
	port, ok := data["Port"].(int)
	if !ok {
		t.Fatalf("data[\"Port\"] is %T, want int", data["Port"])
	}
	return StartProxy(t, opts, RenderManifests(t, tmpl, data), port)
}

// StartProxy compiles literal manifests with egctl into a static
// bootstrap, has Envoy validate it, starts Envoy on it with its listeners
// moved to loopback, and waits until Envoy is ready and each Gateway
// listener port in tcpPorts accepts connections (UDP ones cannot be
// probed). Proxy.Port is the first of tcpPorts, as Envoy binds it.
func StartProxy(t testing.TB, opts DeployOptions, manifests string, tcpPorts ...int) *Proxy {
	t.Helper()
	requireEnvoy(t)
	requireEgctl(t)
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- manifests (%s) ---\n%s", dir, readForLog(filepath.Join(dir, "manifests.yaml")))
		}
	})
	adminAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	res, bootstrap := Translate(t, dir, adminAddr, opts.Gateway)
	want := opts.ExitCodes
	if len(want) == 0 {
		want = []int{0}
	}
	if !slices.Contains(want, res.Code) {
		t.Fatalf("egctl exit code %d, want one of %v\n%s", res.Code, want, res)
	}
	if strings.TrimSpace(res.Stdout) == "" {
		t.Fatalf("egctl printed no bootstrap\n%s", res)
	}
	if res.Code != 0 {
		t.Logf("egctl exited %d as allowed; stderr:\n%s", res.Code, res.Stderr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- bootstrap printed by egctl (%s) ---\n%s", bootstrap, readForLog(bootstrap))
		}
	})
	// egctl's own output must be valid as printed; the copy Envoy runs only
	// has its listeners moved to loopback.
	ValidateBootstrap(t, bootstrap)
	runnable := filepath.Join(filepath.Dir(bootstrap), "envoy-loopback.json")
	if err := LoopbackBootstrap(bootstrap, runnable); err != nil {
		t.Fatalf("moving listeners to loopback: %v", err)
	}
	e := StartEnvoy(t, runnable, adminAddr)
	p := &Proxy{Envoy: e, Translate: res, Bootstrap: bootstrap}
	for i, port := range tcpPorts {
		// egctl binds Gateway ports below 1024 at port+10000 so that
		// Envoy needs no privilege.
		if port < 1024 {
			port += 10000
		}
		if i == 0 {
			p.Port = port
		}
		if err := WaitTCP("127.0.0.1:"+strconv.Itoa(port), 10*time.Second); err != nil {
			t.Fatalf("Envoy is ready but its Gateway listener is not: %v", err)
		}
	}
	e.RequireLoopbackListeners(t)
	return p
}

// httpClient talks to Envoy: never through an HTTP proxy from the
// environment, never following redirects (tests assert them).
var httpClient = &http.Client{
	Timeout: requestTimeout,
	Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     10 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	TLS    *tls.ConnectionState
	// Took is the time from sending the request to reading the whole body.
	Took time.Duration
	req  string
}

// NewRequest builds a request to the proxy's listener with the given Host
// header; pathAndQuery starts with "/".
func (p *Proxy) NewRequest(t testing.TB, method, host, pathAndQuery string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", p.Port, pathAndQuery), nil)
	if err != nil {
		t.Fatalf("building request %s %s: %v", method, pathAndQuery, err)
	}
	req.Host = host
	return req
}

// Get sends GET host+path with optional header name/value pairs.
func (p *Proxy) Get(t testing.TB, host, pathAndQuery string, headerKV ...string) *Response {
	t.Helper()
	req := p.NewRequest(t, http.MethodGet, host, pathAndQuery)
	setHeaders(t, req, headerKV)
	return Do(t, httpClient, req)
}

func setHeaders(t testing.TB, req *http.Request, kv []string) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("header name/value pairs: odd count %d", len(kv))
	}
	for i := 0; i < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
}

// Do sends req with client and reads the whole response.
func Do(t testing.TB, client *http.Client, req *http.Request) *Response {
	t.Helper()
	desc := fmt.Sprintf("%s http(s)://%s%s", req.Method, req.Host, req.URL.RequestURI())
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", desc, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s: reading body: %v", desc, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, TLS: resp.TLS, Took: time.Since(start), req: desc}
}

func (r *Response) String() string {
	return fmt.Sprintf("%s -> %d %v\n%s", r.req, r.Status, r.Header, r.Body)
}

// ExpectStatus fails the test unless the response has the status.
func (r *Response) ExpectStatus(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want status %d, got %s", status, r)
	}
	return r
}

// Echo asserts the response is echo-basic's 200 answer and decodes it.
func (r *Response) Echo(t testing.TB) EchoResponse {
	t.Helper()
	r.ExpectStatus(t, http.StatusOK)
	var e EchoResponse
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("response is not echo-basic JSON: %v\n%s", err, r)
	}
	return e
}

// ExpectPod asserts GET host+path (with optional header pairs) reaches the
// echo-basic pod and returns what that pod saw.
func (p *Proxy) ExpectPod(t testing.TB, pod, host, pathAndQuery string, headerKV ...string) EchoResponse {
	t.Helper()
	e := p.Get(t, host, pathAndQuery, headerKV...).Echo(t)
	if e.Pod != pod {
		t.Fatalf("GET %s%s %v: served by pod %q, want %q", host, pathAndQuery, headerKV, e.Pod, pod)
	}
	return e
}

// ExpectStatus asserts GET host+path answers status.
func (p *Proxy) ExpectStatus(t testing.TB, status int, host, pathAndQuery string, headerKV ...string) *Response {
	t.Helper()
	return p.Get(t, host, pathAndQuery, headerKV...).ExpectStatus(t, status)
}
