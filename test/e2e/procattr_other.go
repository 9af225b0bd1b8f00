//go:build !linux

package e2e

import "os/exec"

// setProcAttr: only Linux can tie a child's life to its parent's; elsewhere
// the t.Cleanup kills are the only guard.
func setProcAttr(cmd *exec.Cmd) {}
