// Package freeport hands out loopback ports for the processes tests start
// (Envoy, echo-basic, redis, rate-limit services).
//
// A port handed to a child process cannot be passed as an open socket, so
// the usual "listen on :0, close, hand the number over" leaves a window in
// which someone else takes the port. Under `go test ./...` two sources
// fill that window: the kernel, which hands the same ephemeral range out as
// source ports of outgoing connections and to every other `:0` listener,
// and the test binaries of other packages running at the same time, each
// picking ports the same way. CI failed on exactly that (echo-basic: "bind:
// address already in use").
//
// So ports come from below the kernel's ephemeral range, which the kernel
// never hands out on its own, and each one is reserved across processes by
// an advisory lock on a file named after it, held until the test binary
// exits (the kernel drops the lock then, so a crashed run leaves nothing
// behind). A port is also checked to be bindable for TCP and UDP on every
// address before it is handed out, which skips anything a fixed-port
// service on the machine already holds.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

var (
	mu       sync.Mutex
	given    = map[int]bool{}
	next     int
	lo, hi   int // the range ports come from, inclusive
	lockDir  string
	rangeErr error
	setup    sync.Once
)

// Port returns a port that is free for TCP and UDP on all addresses, that
// no other caller in this process has been given and that no other process
// using this package holds.
func Port() (int, error) {
	setup.Do(initRange)
	if rangeErr != nil {
		return 0, rangeErr
	}
	mu.Lock()
	defer mu.Unlock()
	n := hi - lo + 1
	for range n {
		p := next
		next++
		if next > hi {
			next = lo
		}
		if !given[p] && take(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("freeport: no free port in %d-%d", lo, hi)
}

// Take reserves the given port as Port would have handed it out: false
// when it is not bindable, was given before, or another process holds it.
// It is for callers that need a port of a particular shape (egctl shifts a
// privileged Gateway port p to p+10000, below this package's range).
func Take(p int) bool {
	setup.Do(initRange)
	if rangeErr != nil {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	return !given[p] && take(p)
}

// take reserves p and then checks it is bindable, in that order: probing
// a port by binding it would, for an instant, hold a port another process
// has reserved and is handing to a child process right then, which makes
// the child's bind fail. mu is held.
func take(p int) bool {
	release, ok := reserve(p)
	if !ok {
		return false
	}
	if !bindable(p) {
		release()
		return false
	}
	given[p] = true
	return true
}

func initRange() {
	lo, hi = portRange(readEphemeral())
	// Start somewhere random so that two processes do not probe the same
	// ports in the same order; the lock settles it when they do.
	next = lo + rand.IntN(hi-lo+1)
	lockDir = filepath.Join(os.TempDir(), "egctl-freeport")
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		rangeErr = fmt.Errorf("freeport: %w", err)
	}
}

// portRange picks the ports below the ephemeral range [elo, ehi], or above
// it when too few are below.
func portRange(elo, ehi int) (int, int) {
	// Ports 10001-11023 are left to Take: egctl binds a privileged Gateway
	// port p at p+10000.
	const floor, want = 12000, 2000
	if elo-1-floor >= want {
		return floor, elo - 1
	}
	if 65535-ehi >= want {
		return ehi + 1, 65535
	}
	// An ephemeral range covering nearly everything: share it with the
	// kernel; the bind check and the locks still keep tests apart.
	return floor, 65535
}

// readEphemeral reads Linux's ephemeral port range, or its default when
// there is none to read.
func readEphemeral() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			a, err1 := strconv.Atoi(f[0])
			z, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && a > 0 && a <= z {
				return a, z
			}
		}
	}
	return 32768, 60999
}

// bindable is a variable so that a test can see which ports are probed.
var bindable = bindableNow

// bindableNow says whether p can be bound right now for TCP and UDP on the
// wildcard address (which conflicts with any bind on a single address) and
// on 127.0.0.1 (where an IPv6-only wildcard would not conflict).
func bindableNow(p int) bool {
	port := strconv.Itoa(p)
	for _, host := range []string{"", "127.0.0.1"} {
		addr := net.JoinHostPort(host, port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		l.Close()
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}
