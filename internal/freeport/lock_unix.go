//go:build unix

package freeport

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// held keeps the lock files open: closing one would drop its lock.
var held = map[int]*os.File{}

// reserve takes p's lock for the life of this process, unless release is
// called; false when another process holds it.
func reserve(p int) (release func(), ok bool) {
	f, err := os.OpenFile(filepath.Join(lockDir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	held[p] = f
	return func() {
		delete(held, p)
		f.Close()
	}, true
}
