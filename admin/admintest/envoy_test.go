package admintest

import (
	"errors"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestStartServesTraffic(t *testing.T) {
	up := startUpstream(t)
	e := Start(t, up)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + e.ListenerAddr + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d through Envoy, want the upstream's 418", resp.StatusCode)
	}
}

func TestCleanupKillsEnvoy(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		pid = Start(t, "127.0.0.1:9").Pid
	})
	if pid == 0 {
		t.Skip("no Envoy started")
	}
	p, _ := os.FindProcess(pid)
	if err := p.Signal(syscall.Signal(0)); !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("envoy pid %d still running after cleanup (signal 0: %v)", pid, err)
	}
}
