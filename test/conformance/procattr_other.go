//go:build !linux

package conformance

import "os/exec"

// setProcAttr: outside Linux there is no parent-death signal; Close and the
// test's cleanups stop every child.
func setProcAttr(cmd *exec.Cmd) {}
