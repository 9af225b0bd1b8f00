package conformance

import (
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill a child when the test binary dies, so an
// interrupted run leaves no Envoy or echo server behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
