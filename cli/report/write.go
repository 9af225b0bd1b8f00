package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Formats a report is written in.
const (
	FormatText   = "text"
	FormatJSON   = "json"
	FormatSARIF  = "sarif"
	FormatGitHub = "github"
	FormatJUnit  = "junit"
)

// Formats lists them, for flags and completion.
var Formats = []string{FormatText, FormatJSON, FormatSARIF, FormatGitHub, FormatJUnit}

// Target is where one report goes: a format, and a file or "" for the
// command's stream.
type Target struct {
	Format string
	Path   string
}

// ParseTargets reads FORMAT[=FILE] values; at most one may go to the
// stream.
func ParseTargets(flag string, values []string) ([]Target, error) {
	var out []Target
	toStream := 0
	for _, v := range values {
		format, path, _ := strings.Cut(v, "=")
		if !slices.Contains(Formats, format) {
			return nil, fmt.Errorf("%s %q: want one of %s, optionally =FILE", flag, v, strings.Join(Formats, ", "))
		}
		if path == "" {
			toStream++
		}
		out = append(out, Target{Format: format, Path: path})
	}
	if toStream > 1 {
		return nil, fmt.Errorf("%s: only one report can go to the output; write the others to files (FORMAT=FILE)", flag)
	}
	return out, nil
}

// Checked is one input object, for the reports that list what was
// checked and passed (JUnit).
type Checked struct {
	Object
	File string
	Line int
}

// Report is what one run found.
type Report struct {
	// Tool is "egctl x validate" or "egctl x translate".
	Tool    string
	Version string
	// Findings, sorted, suppressions applied.
	Findings   []Finding
	Suppressed int
	// Objects are every input object (may be nil).
	Objects []Checked
	// Strict counts warnings as failures.
	Strict bool
	// Verbose lists info findings in text.
	Verbose bool
	// Color colours the severities in text.
	Color bool
}

// Failed says whether the findings fail the run: an error, or with Strict
// a warning.
func (r *Report) Failed() bool {
	c := Count(r.Findings)
	return c.Errors > 0 || r.Strict && c.Warnings > 0
}

// fails says whether f counts as a failure.
func (r *Report) fails(f Finding) bool {
	return f.Severity == Error || r.Strict && f.Severity == Warning
}

// Write writes the report to each target: files are created, stream is
// used for the one without a file.
func (r *Report) Write(targets []Target, stream io.Writer) error {
	for _, t := range targets {
		w := stream
		var f *os.File
		if t.Path != "" {
			var err error
			if f, err = os.Create(t.Path); err != nil {
				return err
			}
			w = f
		}
		err := r.WriteFormat(w, t.Format)
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteFormat writes the report in one format.
func (r *Report) WriteFormat(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		return r.writeJSON(w)
	case FormatSARIF:
		return r.writeSARIF(w)
	case FormatGitHub:
		return r.writeGitHub(w)
	case FormatJUnit:
		return r.writeJUnit(w)
	}
	return r.writeText(w)
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiReset  = "\x1b[0m"
)

// writeText prints one line per finding, as an editor can jump to it:
// "file:line: Error [EGC3001] Kind ns/name: message"; nothing when there
// is nothing to say.
func (r *Report) writeText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Severity == Info && !r.Verbose {
			continue
		}
		if l := f.Location(); l != "" {
			b.WriteString(l + ": ")
		}
		sev := strings.ToUpper(string(f.Severity[:1])) + string(f.Severity[1:])
		if r.Color {
			c := ansiCyan
			switch f.Severity {
			case Error:
				c = ansiRed
			case Warning:
				c = ansiYellow
			}
			sev = c + sev + ansiReset
		}
		fmt.Fprintf(&b, "%s [%s] ", sev, f.Code)
		if f.Object != nil {
			b.WriteString(f.Object.String() + ": ")
		}
		b.WriteString(oneLine(f.Message) + "\n")
	}
	c := Count(r.Findings)
	if c.Errors+c.Warnings > 0 || r.Verbose {
		fmt.Fprintf(&b, "%s, %s", plural(c.Errors, "error", "errors"), plural(c.Warnings, "warning", "warnings"))
		if c.Infos > 0 {
			fmt.Fprintf(&b, ", %s", plural(c.Infos, "note", "notes"))
		}
		if r.Objects != nil {
			fmt.Fprintf(&b, " in %s checked", plural(len(r.Objects), "object", "objects"))
		}
		if r.Suppressed > 0 {
			fmt.Fprintf(&b, " (%d suppressed)", r.Suppressed)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

type jsonReport struct {
	Findings []Finding `json:"findings"`
	Summary  Counts    `json:"summary"`
	Failed   bool      `json:"failed"`
}

func (r *Report) writeJSON(w io.Writer) error {
	fs := r.Findings
	if fs == nil {
		fs = []Finding{}
	}
	c := Count(fs)
	c.Suppressed = r.Suppressed
	b, err := json.MarshalIndent(jsonReport{Findings: fs, Summary: c, Failed: r.Failed()}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// relPath is file relative to the working directory when it is below it,
// with forward slashes: CI systems resolve annotations against the
// repository root, where the command runs.
func relPath(file string) string {
	if file == "" || !filepath.IsAbs(file) {
		return filepath.ToSlash(file)
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(file)
}

// isFile says whether a finding's file is a path a CI system can show
// (not "<stdin>", not "DIR (kustomize)" for generated objects).
func isFile(file string) bool {
	if file == "" || strings.HasPrefix(file, "<") || strings.HasSuffix(file, ")") {
		return false
	}
	fi, err := os.Stat(file)
	return err == nil && !fi.IsDir()
}
