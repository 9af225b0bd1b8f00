package admintest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes Envoy exit with the test binary even when that is
// killed before t.Cleanup runs (a timed-out `go test`).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
