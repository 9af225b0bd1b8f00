package freeport

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestPortRange(t *testing.T) {
	for _, c := range []struct{ elo, ehi, lo, hi int }{
		{32768, 60999, 12000, 32767}, // Linux's default
		{1024, 60000, 60001, 65535},  // nothing left below
		{1024, 65000, 12000, 65535},  // nothing left either side
	} {
		lo, hi := portRange(c.elo, c.ehi)
		if lo != c.lo || hi != c.hi {
			t.Errorf("portRange(%d, %d) = %d-%d, want %d-%d", c.elo, c.ehi, lo, hi, c.lo, c.hi)
		}
	}
}

// TestPortsAreBindableAndDistinct takes many ports and binds each, the way
// a child process would.
func TestPortsAreBindableAndDistinct(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p, err := Port()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		elo, ehi := readEphemeral()
		if elo-1-12000 >= 2000 && p >= elo && p <= ehi {
			t.Fatalf("port %d is in the kernel's ephemeral range %d-%d", p, elo, ehi)
		}
		l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		l.Close()
	}
}

func TestTake(t *testing.T) {
	p, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	if Take(p) {
		t.Fatalf("Take(%d) after Port handed it out", p)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if busy := l.Addr().(*net.TCPAddr).Port; Take(busy) {
		t.Fatalf("Take(%d) while it is bound", busy)
	}
	for q := 10001; q < 11024; q++ {
		if Take(q) {
			if Take(q) {
				t.Fatalf("Take(%d) twice", q)
			}
			return
		}
	}
	t.Fatal("Take found no free port in 10001-11023")
}

// TestReservedPortIsNotProbed: a port another process has reserved is
// never bound, not even for the instant of a probe — that instant is when
// the other process's child may be binding it.
func TestReservedPortIsNotProbed(t *testing.T) {
	setup.Do(initRange)
	p := hi // at the far end from where TestTake and Port look first
	release, ok := reserve(p)
	if !ok {
		t.Skipf("port %d is held by another process", p)
	}
	defer release()
	probed := false
	bindable = func(q int) bool {
		probed = probed || q == p
		return bindableNow(q)
	}
	defer func() { bindable = bindableNow }()
	if Take(p) {
		t.Fatalf("Take(%d) while another holder has it reserved", p)
	}
	if probed {
		t.Fatalf("port %d was bound to probe it while reserved elsewhere", p)
	}
}

// TestProcessesGetDisjointPorts runs this test binary twice more at once,
// each taking ports while the other does from the same starting point, and
// checks no port went to both.
func TestProcessesGetDisjointPorts(t *testing.T) {
	if os.Getenv("FREEPORT_CHILD") != "" {
		// Both children probe from the same port, so without the locks
		// they would get the same ones.
		setup.Do(initRange)
		next = lo
		for range 300 {
			p, err := Port()
			if err != nil {
				t.Fatal(err)
			}
			os.Stdout.WriteString(strconv.Itoa(p) + "\n")
		}
		// Hold the ports until the parent has heard from both children.
		os.Stdout.WriteString("done\n")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	var cmds []*exec.Cmd
	var outs []*bufio.Scanner
	var stdins []io.Closer
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestProcessesGetDisjointPorts$")
		cmd.Env = append(os.Environ(), "FREEPORT_CHILD=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		stdins = append(stdins, in)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, bufio.NewScanner(out))
	}
	owner := map[int]int{}
	counts := make([]int, len(outs))
	for i, sc := range outs {
		for sc.Scan() && sc.Text() != "done" {
			p, err := strconv.Atoi(sc.Text())
			if err != nil {
				continue // the test framework's own "PASS" line
			}
			counts[i]++
			if j, ok := owner[p]; ok && j != i {
				t.Errorf("port %d went to both processes", p)
			}
			owner[p] = i
		}
	}
	for _, in := range stdins {
		in.Close()
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		if counts[i] != 300 {
			t.Fatalf("child %d printed %d ports, want 300", i, counts[i])
		}
	}
}
