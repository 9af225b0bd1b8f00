// Package cli holds what every egctl command shares: where it reads and
// writes, and how it reports an exit code other than 0 and 1.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// IOStreams are a command's standard streams. Tests pass buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutIsTTY says whether Out is a terminal (colour, tables); ErrIsTTY
	// whether ErrOut is (progress).
	OutIsTTY bool
	ErrIsTTY bool

	// Set from the root command's flags before a command runs.
	//
	// ColorMode is --color: auto, always or never.
	ColorMode string
	// Verbose (-v) asks for more: notes, timings, details.
	Verbose bool
	// Quiet (-q) keeps stderr to errors and problems: no warnings, notes
	// or progress.
	Quiet bool
	// Getenv reads the environment (NO_COLOR, TERM); nil is os.Getenv.
	Getenv func(string) string

	// progress is the running progress line, erased while Warnf and
	// Notef print.
	progress *Progress
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, OutIsTTY: isTerminal(os.Stdout), ErrIsTTY: isTerminal(os.Stderr)}
}

// Color modes of --color.
const (
	ColorAuto   = "auto"
	ColorAlways = "always"
	ColorNever  = "never"
)

// ColorModes are the values --color takes.
var ColorModes = []string{ColorAuto, ColorAlways, ColorNever}

func (s *IOStreams) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

func (s *IOStreams) color(tty bool) bool {
	switch s.ColorMode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	// https://no-color.org: any non-empty NO_COLOR turns colour off.
	return tty && s.getenv("NO_COLOR") == "" && s.getenv("TERM") != "dumb"
}

// Color says whether to colour what goes to Out.
func (s *IOStreams) Color() bool { return s.color(s.OutIsTTY) }

// ErrColor says whether to colour what goes to ErrOut.
func (s *IOStreams) ErrColor() bool { return s.color(s.ErrIsTTY) }

// Warnf prints "warning: ..." on ErrOut, unless Quiet.
func (s *IOStreams) Warnf(format string, args ...any) {
	if s.Quiet {
		return
	}
	s.progress.above(func() {
		fmt.Fprintf(s.ErrOut, "%s"+format+"\n", append([]any{s.prefix("warning", "\x1b[33m")}, args...)...)
	})
}

// Notef prints "note: ..." on ErrOut, unless Quiet.
func (s *IOStreams) Notef(format string, args ...any) {
	if s.Quiet {
		return
	}
	s.progress.above(func() {
		fmt.Fprintf(s.ErrOut, "%s"+format+"\n", append([]any{s.prefix("note", "\x1b[36m")}, args...)...)
	})
}

// ErrorPrefix is "error: ", coloured when ErrOut takes colour: the one
// prefix of every error egctl prints.
func (s *IOStreams) ErrorPrefix() string { return s.prefix("error", "\x1b[31m") }

func (s *IOStreams) prefix(word, ansi string) string {
	if s.ErrColor() {
		return ansi + word + ":\x1b[0m "
	}
	return word + ": "
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Exit codes shared by all commands.
const (
	// ExitProblems: the command did its job but found something wrong
	// (objects not accepted, a diff, an unhealthy proxy): a CI gate.
	ExitProblems = 1
	// ExitUsage: bad flags, unreadable or invalid input.
	ExitUsage = 2
)

// ExitError carries an exit code out of a command. Err, when set, is
// printed; a nil Err means the command already said what it had to.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError wraps err so that egctl exits with ExitUsage.
func UsageError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// UsageErrorf is UsageError(fmt.Errorf(...)).
func UsageErrorf(format string, args ...any) error {
	return UsageError(fmt.Errorf(format, args...))
}

// Code returns the exit code for err: 0 for nil, the ExitError's code, or
// 1 for any other error.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// EmptyInputMessage is what translate and status say when the manifests
// hold no object egctl reads: a kustomize build or a glob that produced
// nothing must not pass a CI gate.
const EmptyInputMessage = "no objects in the input (of the kinds egctl reads): nothing to compile; pass --allow-empty if that is expected"
