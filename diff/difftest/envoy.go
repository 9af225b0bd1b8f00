// Package difftest runs a real Envoy for the tests of diff and status:
// start it from a bootstrap, wait until its admin API answers LIVE, stop
// it when the test ends. Loopback only.
package difftest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/internal/freeport"
)

// ReadyTimeout bounds Envoy's start; generous because the machine is
// shared and a cold start on busy cores is slow.
const ReadyTimeout = 45 * time.Second

// Envoy is a running Envoy.
type Envoy struct {
	AdminAddr string
	cmd       *exec.Cmd
	log       *envoytest.SyncBuffer
	done      chan struct{}
}

// FreePort returns a port for Envoy to bind (see package freeport for why
// the kernel's pick is not good enough).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Start runs Envoy with the bootstrap (YAML or JSON) and waits until its
// admin API at adminAddr says LIVE. The test skips when no Envoy is
// installed (fails under CI=true, see envoytest.Find).
func Start(t testing.TB, bootstrap []byte, adminAddr string) *Envoy {
	t.Helper()
	bin := envoytest.Find(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(path, bootstrap, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &Envoy{AdminAddr: adminAddr, log: &envoytest.SyncBuffer{}, done: make(chan struct{})}
	// No hot restart: several test Envoys run side by side and would
	// otherwise fight over the same shared memory.
	e.cmd = exec.Command(bin, "-c", path, "--disable-hot-restart", "--concurrency", "1", "-l", "warning")
	e.cmd.Stdout = e.log
	e.cmd.Stderr = e.log
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("start envoy: %v", err)
	}
	go func() {
		_ = e.cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(e.Stop)
	if err := e.waitLive(ReadyTimeout); err != nil {
		t.Fatalf("envoy: %v\nlog:\n%s", err, e.log.Tail(40))
	}
	return e
}

func (e *Envoy) waitLive(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-e.done:
			return fmt.Errorf("exited before it was ready (%v)", e.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("admin at %s not LIVE within %s", e.AdminAddr, timeout)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get("http://" + e.AdminAddr + "/ready")
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(buf.String()) == "LIVE" {
			return nil
		}
	}
}

// Stop kills Envoy and waits for it; safe to call twice.
func (e *Envoy) Stop() {
	select {
	case <-e.done:
		return
	default:
	}
	_ = e.cmd.Process.Kill()
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
	}
}

// Log is what Envoy printed so far.
func (e *Envoy) Log() string { return e.log.String() }
