package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a child process whose output is kept, timestamped, in memory.
type process struct {
	cmd  *exec.Cmd
	out  *lineLog
	done chan struct{}
}

func startProcess(bin string, args, env []string, dir string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	setProcAttr(cmd)
	out := &lineLog{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pw.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go out.consume(pr)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after two seconds, and waits.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// lineLog keeps the last maxLines lines of output with the time each
// arrived, so "logs since T" can be answered as the kubelet would.
type lineLog struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	at   time.Time
	text string
}

const maxLines = 20000

func (l *lineLog) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, logLine{at: time.Now(), text: sc.Text()})
		if len(l.lines) > maxLines {
			l.lines = append([]logLine(nil), l.lines[len(l.lines)-maxLines/2:]...)
		}
		l.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (l *lineLog) since(t time.Time) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b bytes.Buffer
	for _, ln := range l.lines {
		// sinceTime has second precision on the wire.
		if !ln.at.Before(t.Truncate(time.Second)) {
			b.WriteString(ln.text)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
