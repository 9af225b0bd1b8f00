package manifest

import (
	"errors"
	"sort"
	"strings"

	"github.com/egctl/egctl/resource"
)

// Error is one problem found while loading. Its text is
// "file:line: Kind ns/name: field.path: message"; parts that are not
// known (a YAML syntax error has no object) are left out. Messages never
// contain field values, so Secret data cannot leak through them.
type Error struct {
	Origin  resource.Origin
	Object  string // "Kind ns/name", "Kind name" or ""
	Path    string // field path such as "spec.listeners[0].port", or ""
	Message string

	fileIndex int // position of the file in the input, for sorting
}

func (e *Error) Error() string {
	var b strings.Builder
	if o := e.Origin.String(); o != "" {
		b.WriteString(o)
		b.WriteString(": ")
	}
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Warning is something the loader skipped on purpose.
type Warning struct {
	Origin  resource.Origin
	Message string
}

// String renders "file:line: message".
func (w Warning) String() string {
	if o := w.Origin.String(); o != "" {
		return o + ": " + w.Message
	}
	return w.Message
}

// joinSorted orders errors by input file (in the order files were read),
// then line, and joins them.
func joinSorted(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].fileIndex != errs[j].fileIndex {
			return errs[i].fileIndex < errs[j].fileIndex
		}
		return errs[i].Origin.Line < errs[j].Origin.Line
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
