package xds

import (
	"bufio"
	"io"
)

// JSONIndenter indents the compact JSON written to it as json.Indent does
// (prefix, then indent per level; empty objects and arrays stay "{}" and
// "[]"), as it streams: a dump of any size is indented holding one write's
// bytes. Its input must be compact JSON, as AppendJSON and WriteJSON write.
type JSONIndenter struct {
	w              *bufio.Writer
	prefix, indent string
	depth          int
	inString, esc  bool
	// open is the '{' or '[' not yet written: whether its line breaks
	// depends on the next byte.
	open byte
}

// NewJSONIndenter indents what is written to it onto w; Flush ends it.
func NewJSONIndenter(w io.Writer, prefix, indent string) *JSONIndenter {
	return &JSONIndenter{w: bufio.NewWriterSize(w, 64<<10), prefix: prefix, indent: indent}
}

func (j *JSONIndenter) newline() {
	j.w.WriteByte('\n')
	j.w.WriteString(j.prefix)
	for range j.depth {
		j.w.WriteString(j.indent)
	}
}

func (j *JSONIndenter) Write(p []byte) (int, error) {
	for _, c := range p {
		if j.inString {
			switch {
			case j.esc:
				j.esc = false
			case c == '\\':
				j.esc = true
			case c == '"':
				j.inString = false
			}
			j.w.WriteByte(c)
			continue
		}
		if j.open != 0 {
			o := j.open
			j.open = 0
			if c == ']' && o == '[' || c == '}' && o == '{' {
				j.w.WriteByte(o)
				j.w.WriteByte(c)
				continue
			}
			j.w.WriteByte(o)
			j.depth++
			j.newline()
		}
		switch c {
		case '{', '[':
			j.open = c
			continue
		case '}', ']':
			j.depth--
			j.newline()
			j.w.WriteByte(c)
		case ',':
			j.w.WriteByte(c)
			j.newline()
		case ':':
			j.w.WriteString(": ")
		case '"':
			j.inString = true
			j.w.WriteByte(c)
		default:
			j.w.WriteByte(c)
		}
	}
	// bufio.Writer keeps its first error and returns it from every write.
	if _, err := j.w.Write(nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is buffered; the JSON written must be complete.
func (j *JSONIndenter) Flush() error {
	if j.open != 0 {
		j.w.WriteByte(j.open)
		j.open = 0
	}
	return j.w.Flush()
}
