package cli

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// ProgressDelay is how long a command runs before it shows progress:
// short runs stay silent. Tests shorten it.
var ProgressDelay = time.Second

// progressEvery is how often the line is redrawn.
var progressEvery = 200 * time.Millisecond

// Progress is one status line on stderr, redrawn in place, for runs that
// take long: "egctl: translating (12.3s)". It shows only on a terminal
// (never in a log or a pipe), not with --quiet, and only once the run has
// taken ProgressDelay; Done clears it before anything else is printed.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	stage   string
	start   time.Time
	shown   bool
	stop    chan struct{}
	done    sync.WaitGroup
	written *atomic.Int64
}

// StartProgress starts the progress line of a command; the returned
// Progress is inert when stderr is not a terminal or with --quiet.
func (s *IOStreams) StartProgress(stage string) *Progress {
	p := &Progress{stage: stage, start: time.Now()}
	if !s.ErrIsTTY || s.Quiet {
		return p
	}
	p.w = s.ErrOut
	s.progress = p
	p.stop = make(chan struct{})
	p.done.Add(1)
	go p.loop()
	return p
}

func (p *Progress) loop() {
	defer p.done.Done()
	delay := time.NewTimer(ProgressDelay)
	defer delay.Stop()
	select {
	case <-p.stop:
		return
	case <-delay.C:
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		p.draw()
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *Progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start)
	line := fmt.Sprintf("%s egctl: %s", spinner[int(el/progressEvery)%len(spinner)], p.stage)
	if p.written != nil {
		line += fmt.Sprintf(", %s written", humanBytes(p.written.Load()))
	}
	line += fmt.Sprintf(" (%.1fs)", el.Seconds())
	// \r and "erase to end of line": the line is redrawn in place.
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.shown = true
}

// above prints with fn while the line is erased; the next tick redraws it.
func (p *Progress) above(fn func()) {
	if p == nil || p.w == nil {
		fn()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
	fn()
}

// Stage names what the command does now.
func (p *Progress) Stage(stage string) {
	p.mu.Lock()
	p.stage = stage
	p.written = nil
	p.mu.Unlock()
}

// Writer wraps w so that the line shows how much has been written.
func (p *Progress) Writer(stage string, w io.Writer) io.Writer {
	if p.w == nil {
		return w
	}
	n := &atomic.Int64{}
	p.mu.Lock()
	p.stage, p.written = stage, n
	p.mu.Unlock()
	return &countingWriter{w: w, n: n}
}

// Done stops the line and erases it.
func (p *Progress) Done() {
	if p.w == nil {
		return
	}
	select {
	case <-p.stop:
		return // already done
	default:
	}
	close(p.stop)
	p.done.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
