package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgress(t *testing.T) {
	defer func(d time.Duration) { ProgressDelay = d }(ProgressDelay)
	ProgressDelay = 20 * time.Millisecond

	// A terminal, a long run: the stage and what was written show, and
	// the line is erased at the end and around a warning.
	var errOut syncBuf
	ios := &IOStreams{ErrOut: &errOut, ErrIsTTY: true, ColorMode: ColorNever}
	p := ios.StartProgress("translating")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(errOut.String(), "egctl: translating") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var out bytes.Buffer
	w := p.Writer("writing output", &out)
	w.Write(make([]byte, 3<<20))
	for !strings.Contains(errOut.String(), "writing output, 3.0 MiB written") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ios.Warnf("careful")
	p.Done()
	got := errOut.String()
	for _, want := range []string{"egctl: translating (", "egctl: writing output, 3.0 MiB written (", "\r\x1b[Kwarning: careful\n", "\r\x1b[K"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%q", want, got)
		}
	}
	if tail := got[strings.LastIndex(got, "\n")+1:]; strings.Contains(strings.ReplaceAll(tail, "\r\x1b[K", ""), "egctl:") && !strings.HasSuffix(tail, "\r\x1b[K") {
		t.Errorf("the line is not erased at the end: %q", tail)
	}
	if out.Len() != 3<<20 {
		t.Errorf("output %d bytes", out.Len())
	}

	// Not a terminal, or --quiet, or a short run: nothing.
	for _, ios := range []*IOStreams{
		{ErrOut: &syncBuf{}, ErrIsTTY: false},
		{ErrOut: &syncBuf{}, ErrIsTTY: true, Quiet: true},
	} {
		p := ios.StartProgress("translating")
		time.Sleep(100 * time.Millisecond)
		p.Done()
		if s := ios.ErrOut.(*syncBuf).String(); s != "" {
			t.Errorf("TTY %v quiet %v: stderr %q", ios.ErrIsTTY, ios.Quiet, s)
		}
	}
	ProgressDelay = time.Hour
	quick := &IOStreams{ErrOut: &syncBuf{}, ErrIsTTY: true}
	quick.StartProgress("translating").Done()
	if s := quick.ErrOut.(*syncBuf).String(); s != "" {
		t.Errorf("a run shorter than the delay printed %q", s)
	}
}

func TestColor(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	for _, tc := range []struct {
		mode string
		tty  bool
		env  map[string]string
		want bool
	}{
		{ColorAuto, true, nil, true},
		{ColorAuto, false, nil, false},
		{ColorAuto, true, map[string]string{"NO_COLOR": "1"}, false},
		{ColorAuto, true, map[string]string{"TERM": "dumb"}, false},
		{ColorAlways, false, map[string]string{"NO_COLOR": "1"}, true},
		{ColorNever, true, nil, false},
	} {
		env = tc.env
		ios := &IOStreams{ColorMode: tc.mode, OutIsTTY: tc.tty, ErrIsTTY: tc.tty, Getenv: get}
		if ios.Color() != tc.want || ios.ErrColor() != tc.want {
			t.Errorf("--color %s, tty %v, env %v: colour %v, want %v", tc.mode, tc.tty, tc.env, ios.Color(), tc.want)
		}
	}
}
