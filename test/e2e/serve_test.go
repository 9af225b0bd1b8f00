package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/egctl/egctl/serve/servetest"
)

// Behaviour tests of `egctl x serve`: real Envoys started from the
// bootstrap `egctl x translate --to bootstrap --xds-server` prints, fed by a
// real serve process, while a steady stream of requests goes through them.

// serveProc is one running `egctl x serve`.
type serveProc struct {
	xds, status string
	logPath     string
	cmd         *exec.Cmd
	exited      chan struct{}
	waitErr     error
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	requireEgctl(t)
	s := &serveProc{
		xds:     "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		status:  "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		logPath: filepath.Join(t.TempDir(), "serve.log"),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The readiness listener (Envoy Gateway's default) on a port of its own:
	// parallel proxies cannot all bind 19003.
	args = append([]string{"x", "serve", "--xds-address", s.xds, "--status-address", s.status, "--debounce", "50ms",
		"--ready-port", strconv.Itoa(FreePort(t))}, args...)
	s.cmd = exec.Command(egctlBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	setProcAttr(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- egctl x serve log ---\n%s", tailFile(s.logPath, 100))
		}
	})
	t.Cleanup(func() {
		// SIGTERM is a graceful stop: exit status 0, promptly.
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("egctl x serve did not exit cleanly on SIGTERM: %v", s.waitErr)
			}
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("egctl x serve did not stop within 10s of SIGTERM")
		}
	})
	Eventually(t, 30*time.Second, func() error {
		select {
		case <-s.exited:
			t.Fatalf("egctl x serve exited at start-up: %v\n%s", s.waitErr, tailFile(s.logPath, 50))
		default:
		}
		resp, err := http.Get("http://" + s.status + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz: %s", resp.Status)
		}
		return nil
	})
	return s
}

// serveStatus is the part of /status the tests read.
type serveStatus struct {
	Proxies []struct {
		Node    string `json:"node"`
		Gateway string `json:"gateway"`
		Delta   bool   `json:"delta"`
		Version string `json:"version"`
		InSync  bool   `json:"inSync"`
	} `json:"proxies"`
	Gateways map[string]string `json:"gateways"`
	HeldBack []string          `json:"heldBack"`
	Applied  struct {
		Problems []string `json:"problems"`
	} `json:"applied"`
}

func (s *serveProc) Status(t *testing.T) serveStatus {
	t.Helper()
	resp, err := http.Get("http://" + s.status + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer resp.Body.Close()
	var st serveStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("/status: %v", err)
	}
	return st
}

// startServedEnvoy starts an Envoy from the bootstrap egctl prints for
// --xds-server, with extra translate flags, under node id node.
func startServedEnvoy(t *testing.T, dir string, s *serveProc, node string, extra ...string) *Envoy {
	t.Helper()
	admin := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	args := append([]string{"x", "translate", "-f", dir, "--to", "bootstrap", "--xds-server", s.xds, "--admin-address", admin}, extra...)
	// The bootstrap carries the stats listener; the readiness listener
	// comes from serve, which has a port of its own (startServe).
	if !slices.Contains(args, "--stats-port") {
		args = append(args, "--stats-port", strconv.Itoa(FreePort(t)))
	}
	res := RunEgctl(t, args...)
	if res.Code != 0 {
		t.Fatalf("%s", res)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	// The node id names the proxy in serve's status; the cluster (the
	// Gateway) is what picks its configuration.
	boot := strings.Replace(res.Stdout, "id: default/gw", "id: "+node, 1)
	if err := os.WriteFile(path, []byte(boot), 0o644); err != nil {
		t.Fatal(err)
	}
	ValidateBootstrap(t, path)
	// The stats listener (Envoy Gateway's default) is the bootstrap's one
	// static listener: on loopback too.
	runnable := filepath.Join(filepath.Dir(path), "envoy-loopback.json")
	if err := LoopbackBootstrap(path, runnable); err != nil {
		t.Fatal(err)
	}
	return StartEnvoy(t, runnable, admin)
}

const serveManifests = `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners:
  - {name: http, protocol: HTTP, port: {{ .Port }}}
---
{{ service "blue" .Blue }}---
{{ service "green" .Green }}`

func serveRoute(backend string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: ` + backend + `, port: 8080}]
`
}

// loop sends requests through the Gateway port without pause, one
// connection each so both Envoys (which share the port through
// SO_REUSEPORT) serve them, and records every answer.
type loop struct {
	mu      sync.Mutex
	byPod   map[string]int
	fails   []string
	total   int
	lastPod string
	stop    chan struct{}
	done    chan struct{}
}

func startLoop(t *testing.T, port int) *loop {
	l := &loop{byPod: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			req.Host = "app.example.com"
			resp, err := client.Do(req)
			l.mu.Lock()
			l.total++
			switch {
			case err != nil:
				l.fails = append(l.fails, err.Error())
			case resp.StatusCode != http.StatusOK:
				l.fails = append(l.fails, resp.Status)
			default:
				var e EchoResponse
				b, _ := io.ReadAll(resp.Body)
				if json.Unmarshal(b, &e) == nil {
					l.byPod[e.Pod]++
					l.lastPod = e.Pod
				}
			}
			if resp != nil {
				resp.Body.Close()
			}
			l.mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	t.Cleanup(l.end)
	return l
}

func (l *loop) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

func (l *loop) snapshot() (byPod map[string]int, fails []string, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byPod = map[string]int{}
	for k, v := range l.byPod {
		byPod[k] = v
	}
	return byPod, append([]string(nil), l.fails...), l.total
}

// onlyPod waits until n consecutive answers after now come from pod.
func (l *loop) onlyPod(t *testing.T, pod string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	base, _, _ := l.snapshot()
	for time.Since(start) < within {
		now, _, _ := l.snapshot()
		var others int
		for p, n := range now {
			if p != pod {
				others += n - base[p]
			}
		}
		if now[pod]-base[pod] >= 20 && others == 0 {
			return time.Since(start)
		}
		if others > 0 {
			base = now
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("requests did not all reach %s within %s", pod, within)
	return 0
}

func TestServeFleetFollowsEdits(t *testing.T) {
	envoyTest(t) // parallel
	port := FreePort(t)
	green := StartEchoBasic(t, "green").Port
	dir := WriteManifests(t, serveManifests, map[string]any{
		"Port": port, "Blue": StartEchoBasic(t, "blue").Port, "Green": green,
	})
	routeFile := filepath.Join(dir, "route.yaml")
	writeAtomically(t, routeFile, serveRoute("blue"))
	s := startServe(t, "-f", dir)

	// Two Envoys for the one Gateway: one on state-of-the-world, one on
	// delta xDS.
	e1 := startServedEnvoy(t, dir, s, "envoy-sotw")
	e2 := startServedEnvoy(t, dir, s, "envoy-delta", "--xds-delta")
	for _, e := range []*Envoy{e1, e2} {
		if err := WaitTCP(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second); err != nil {
			t.Fatalf("listener of %s: %v", e.AdminAddr, err)
		}
	}
	Eventually(t, 30*time.Second, func() error {
		st := s.Status(t)
		if len(st.Proxies) != 2 || !st.Proxies[0].InSync || !st.Proxies[1].InSync {
			return fmt.Errorf("proxies not in sync: %+v", st.Proxies)
		}
		return nil
	})

	l := startLoop(t, port)
	l.onlyPod(t, "blue", 10*time.Second)

	// An edit reaches both Envoys, without a restart and without a failed
	// request.
	v1 := s.Status(t).Gateways["default/gw"]
	writeAtomically(t, routeFile, serveRoute("green"))
	took := l.onlyPod(t, "green", 5*time.Second)
	t.Logf("all requests reached the new backend %s after the edit", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("the edit took %s to reach the fleet, want under a second", took)
	}
	Eventually(t, 10*time.Second, func() error {
		st := s.Status(t)
		v2 := st.Gateways["default/gw"]
		if v2 == v1 {
			return fmt.Errorf("serve still holds version %s", v1)
		}
		for _, p := range st.Proxies {
			if !p.InSync || p.Version != v2 {
				return fmt.Errorf("proxy %s not in sync with %s: %+v", p.Node, v2, p)
			}
		}
		return nil
	})
	// Both Envoys hold the new endpoints (the edit changed the backend of
	// one cluster: an EDS update).
	for _, e := range []*Envoy{e1, e2} {
		if got := e.Admin(t, "/clusters"); !strings.Contains(got, fmt.Sprintf("127.0.0.1:%d::", green)) {
			t.Errorf("Envoy %s does not have the new endpoint:\n%s", e.AdminAddr, got)
		}
	}

	// A broken edit changes nothing and is reported.
	writeAtomically(t, routeFile, "kind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\nmetadata: {name: app\n")
	Eventually(t, 10*time.Second, func() error {
		if hb := s.Status(t).HeldBack; !strings.Contains(strings.Join(hb, "\n"), "route.yaml") {
			return fmt.Errorf("heldBack = %q", hb)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // a window in which a wrong push would show
	l.onlyPod(t, "green", 2*time.Second)

	// Fixing it applies it.
	writeAtomically(t, routeFile, serveRoute("blue"))
	l.onlyPod(t, "blue", 5*time.Second)
	if hb := s.Status(t).HeldBack; len(hb) != 0 {
		t.Errorf("still held back after the fix: %q", hb)
	}

	l.end()
	byPod, fails, total := l.snapshot()
	if len(fails) > 0 {
		t.Errorf("%d of %d requests failed during the edits, first: %s", len(fails), total, fails[0])
	}
	t.Logf("%d requests, by backend %v", total, byPod)
	// Both Envoys answered: each counted downstream requests.
	for _, e := range []*Envoy{e1, e2} {
		if !strings.Contains(e.Admin(t, "/stats?filter=http.http-.*downstream_rq_total"), "downstream_rq_total") {
			t.Errorf("Envoy %s reports no downstream requests", e.AdminAddr)
		}
	}
}

// Mutual TLS on the xDS channel with egctl x certgen's files: an Envoy with
// the client certificate is served; the server refuses a client without one.
func TestServeMutualTLS(t *testing.T) {
	envoyTest(t) // parallel
	certs := filepath.Join(t.TempDir(), "certs")
	if res := RunEgctl(t, "x", "certgen", "--out-dir", certs); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	port := FreePort(t)
	dir := WriteManifests(t, serveManifests, map[string]any{
		"Port": port, "Blue": StartEchoBasic(t, "blue").Port, "Green": StartEchoBasic(t, "green").Port,
	})
	writeAtomically(t, filepath.Join(dir, "route.yaml"), serveRoute("blue"))
	s := startServe(t, "-f", dir, "--certs-dir", certs)
	startServedEnvoy(t, dir, s, "envoy-tls", "--xds-certs-dir", certs)
	if err := WaitTCP(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	l := startLoop(t, port)
	l.onlyPod(t, "blue", 10*time.Second)
	l.end()

	// A client that trusts the server but has no client certificate, and
	// one that speaks plaintext, are refused.
	caPEM, err := os.ReadFile(filepath.Join(certs, "envoy", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	noCert := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "envoy-gateway"}))
	for name, opt := range map[string]grpc.DialOption{
		"no client certificate": noCert,
		"plaintext":             grpc.WithTransportCredentials(insecure.NewCredentials()),
	} {
		c, err := servetest.Dial(s.xds, name, "default/gw", false, opt)
		if err != nil {
			continue // refused at once: fine
		}
		if err := c.Wait(5*time.Second, func(c *servetest.Client) bool { return len(c.Versions()) > 0 }); err == nil {
			t.Errorf("%s: the server sent configuration", name)
		}
		c.Close()
	}
	if st := s.Status(t); len(st.Proxies) != 1 || st.Proxies[0].Node != "envoy-tls" {
		t.Fatalf("proxies = %+v, want only envoy-tls", st.Proxies)
	}
}

// writeAtomically replaces path's content as editors and `git checkout`
// do: written beside, renamed over.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
