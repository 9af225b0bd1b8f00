// Package l4 holds behaviour tests for the non-HTTP route kinds (GRPCRoute,
// TCPRoute, TLSRoute, UDPRoute): a manifest is compiled by the egctl binary
// to a static bootstrap, a real Envoy loads it, and in-test backends on
// loopback answer through it.
package l4

import (
	"context"
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

var (
	buildOnce sync.Once
	egctlBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// egctl builds cmd/egctl once per test binary.
func egctl(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "egctl-l4-")
		if buildErr != nil {
			return
		}
		egctlBin = filepath.Join(buildDir, "egctl")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", egctlBin, "./cmd/egctl")
		cmd.Dir = envoytest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/egctl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return egctlBin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// startEnvoy compiles manifest with egctl, starts Envoy on the bootstrap
// and waits until its admin interface says it is ready. Envoy is killed at
// cleanup. It returns the bootstrap text for failure messages.
func startEnvoy(t *testing.T, manifest string) string {
	t.Helper()
	envoy := envoytest.Find(t)
	bin := egctl(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(in, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := freePort(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tr := exec.CommandContext(ctx, bin, "x", "translate", "-f", in, "--to", "bootstrap",
		"--admin-address", fmt.Sprintf("127.0.0.1:%d", admin))
	var stderr strings.Builder
	tr.Stderr = &stderr
	boot, err := tr.Output()
	if err != nil && len(boot) == 0 {
		t.Fatalf("egctl x translate: %v\n%s", err, stderr.String())
	}
	bootPath := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(bootPath, boot, 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "envoy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(envoy, "-c", bootPath, "--disable-hot-restart", "--concurrency", "1", "-l", "warning")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("envoy pid %d did not exit", cmd.Process.Pid)
		}
		logf.Close()
	})
	fail := func(format string, a ...any) {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("%s\negctl stderr:\n%s\nenvoy log:\n%s\nbootstrap:\n%s", fmt.Sprintf(format, a...), stderr.String(), log, boot)
	}
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			fail("envoy exited early: %v", cmd.ProcessState)
		default:
		}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", admin))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "LIVE" {
				return string(boot)
			}
		}
		if time.Now().After(deadline) {
			fail("envoy not ready after 30s (last error %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventually retries f until it succeeds or the time is up.
func eventually(t *testing.T, d time.Duration, f func() error) {
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

// gatewayYAML is a GatewayClass and Gateway "default/eg" with listeners
// (indented under spec.listeners).
func gatewayYAML(listeners string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
` + listeners + "\n"
}

// backendYAML is an Envoy Gateway Backend pointing at a loopback port.
func backendYAML(name string, port int) string {
	return fmt.Sprintf(`---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: %s, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: %d}}]
`, name, port)
}
