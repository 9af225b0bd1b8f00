package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
)

// The real rate-limit service (github.com/envoyproxy/ratelimit, built by
// `make ratelimit` into .ratelimit/bin) backed by a real Redis (Debian's
// redis-server, `make redis`), both started per test on loopback with free
// ports. Missing either skips loudly; under CI=true it fails, as a missing
// Envoy does.

const rateLimitInstallHint = "run `make ratelimit redis` (go install of github.com/envoyproxy/ratelimit into .ratelimit/bin; apt-get install redis-server) or set RATELIMIT_BIN and REDIS_SERVER"

// findRateLimitStack returns the rate-limit service and redis-server
// binaries: $RATELIMIT_BIN or .ratelimit/bin/service_cmd, and $REDIS_SERVER
// or redis-server on PATH.
func findRateLimitStack() (rls, redis string, err error) {
	rls = os.Getenv("RATELIMIT_BIN")
	if rls == "" {
		rls = filepath.Join(envoytest.RepoRoot(), ".ratelimit", "bin", "service_cmd")
	}
	if err := isExecutable(rls); err != nil {
		return "", "", fmt.Errorf("rate-limit service: %w", err)
	}
	redis = os.Getenv("REDIS_SERVER")
	if redis == "" {
		if redis, err = exec.LookPath("redis-server"); err != nil {
			return "", "", fmt.Errorf("redis-server: %w", err)
		}
	}
	if err := isExecutable(redis); err != nil {
		return "", "", fmt.Errorf("redis-server: %w", err)
	}
	return rls, redis, nil
}

// requireRateLimitStack ends the test when the binaries are missing: a
// failure under CI=true, a loud skip otherwise.
func requireRateLimitStack(t testing.TB) (rls, redis string) {
	t.Helper()
	rls, redis, err := findRateLimitStack()
	if err == nil {
		return rls, redis
	}
	if inCI() {
		t.Fatalf("RATE-LIMIT SERVICE OR REDIS MISSING IN CI: %v; %s", err, rateLimitInstallHint)
	}
	t.Skipf("SKIPPING: global rate limit tests need the real rate-limit service and Redis: %v; %s", err, rateLimitInstallHint)
	return "", ""
}

// rateLimitService is a running rate-limit service.
type rateLimitService struct {
	// GRPCAddr is where Envoy calls it; DebugAddr serves /rlconfig, the
	// configuration it loaded.
	GRPCAddr  string
	DebugAddr string
	cmd       *exec.Cmd
	logPath   string
	exited    chan struct{}
}

// startProcess runs bin with env and args, logging to a file in the test's
// temp dir; the process is killed when the test ends, and its log attached
// when the test failed.
func startProcess(t testing.TB, name, bin string, env, args []string) (*exec.Cmd, string, chan struct{}) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s log (%s) ---\n%s", name, logPath, tailFile(logPath, 100))
		}
	})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not exit after kill", name)
		}
	})
	return cmd, logPath, exited
}

// startRedis runs redis-server on a free loopback port, in memory only.
func startRedis(t testing.TB, bin string) string {
	t.Helper()
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	startProcess(t, "redis", bin, []string{"PATH=" + os.Getenv("PATH")}, []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--protected-mode", "yes",
	})
	if err := WaitTCP(addr, 10*time.Second); err != nil {
		t.Fatalf("redis-server did not listen on %s: %v", addr, err)
	}
	return addr
}

// startRateLimitService runs the service on grpcPort with the
// configuration egctl wrote into outputDir (its ratelimit/config, as Envoy
// Gateway mounts it) and Redis at redisAddr, and waits until it has loaded
// every domain in domains.
func startRateLimitService(t testing.TB, bin, redisAddr, outputDir string, grpcPort int, domains []string) *rateLimitService {
	t.Helper()
	httpPort, debugPort := FreePort(t), FreePort(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(httpPort),
		"GRPC_HOST=127.0.0.1", "GRPC_PORT=" + strconv.Itoa(grpcPort),
		"DEBUG_HOST=127.0.0.1", "DEBUG_PORT=" + strconv.Itoa(debugPort),
		"USE_STATSD=false", "LOG_LEVEL=debug",
		"BACKEND_TYPE=redis", "REDIS_SOCKET_TYPE=tcp", "REDIS_URL=" + redisAddr,
		"RUNTIME_ROOT=" + outputDir, "RUNTIME_SUBDIRECTORY=ratelimit", "RUNTIME_WATCH_ROOT=false",
		"RUNTIME_IGNOREDOTFILES=true", "CONFIG_TYPE=FILE",
	}
	cmd, logPath, exited := startProcess(t, "ratelimit", bin, env, nil)
	s := &rateLimitService{
		GRPCAddr:  "127.0.0.1:" + strconv.Itoa(grpcPort),
		DebugAddr: "127.0.0.1:" + strconv.Itoa(debugPort),
		cmd:       cmd, logPath: logPath, exited: exited,
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("the rate-limit service exited while loading egctl's configuration:\n%s", tailFile(logPath, 40))
		default:
		}
		cfg, err := s.loadedConfig()
		if err == nil && WaitTCP(s.GRPCAddr, 100*time.Millisecond) == nil && hasDomains(cfg, domains) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rate-limit service did not load domains %v within 20s (last /rlconfig: %q, %v)", domains, cfg, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loadedConfig is the service's dump of what it loaded (/rlconfig): one
// line per limit, "domain.key_value.key_value: unit=… requests_per_unit=…".
func (s *rateLimitService) loadedConfig() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.DebugAddr+"/rlconfig", nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("/rlconfig: %s", resp.Status)
	}
	return string(b), err
}

func hasDomains(cfg string, domains []string) bool {
	lines := strings.Split(cfg, "\n")
	for _, d := range domains {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, d+".") }) {
			return false
		}
	}
	return true
}
