//go:build !linux

package admintest

import "os/exec"

// dieWithParent: only Linux offers a parent-death signal; elsewhere
// t.Cleanup is the only guard.
func dieWithParent(*exec.Cmd) {}
