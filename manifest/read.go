package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/egctl/egctl/resource"
)

// DefaultMaxInputBytes bounds the total size of all inputs of one run.
// The largest real configurations are a few tens of megabytes (10,000
// routes are 7.4 MB); the bound is there so that /dev/zero, a stdin that
// never ends or a generated file gone wrong fail fast with a clear error
// instead of exhausting memory. Options.MaxInputBytes (the commands'
// --max-input-size) raises it.
const DefaultMaxInputBytes = 256 << 20

// readChunk is how much is read at a time: NUL bytes (binary input such
// as /dev/zero) are noticed after the first chunk.
const readChunk = 1 << 20

// errTooLarge is wrapped by readLimited when the budget runs out.
var errTooLarge = errors.New("input too large")

// budget is what is left of the input limit.
type budget struct {
	left, limit int64
}

func (b *budget) tooLarge() string {
	return fmt.Sprintf("the input exceeds the limit of %s in total (raise it with --max-input-size)", formatBytes(b.limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readFile reads a path within the budget. A regular file larger than
// what is left is refused before it is read.
func (b *budget) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
		if size > b.left {
			return nil, errTooLarge
		}
	}
	return b.read(f, size)
}

// read reads r within the budget. sizeHint is the expected size, or -1.
// It stops at the first chunk that holds a NUL byte unless the input
// starts with a UTF-16 or UTF-32 byte order mark: in UTF-8 text a NUL
// means binary data, and /dev/zero must not be read up to the limit.
func (b *budget) read(r io.Reader, sizeHint int64) ([]byte, error) {
	capacity := int64(64 << 10)
	if sizeHint >= 0 {
		capacity = sizeHint + 1 // one more byte to see EOF
	}
	capacity = min(capacity, b.left+1)
	buf := make([]byte, 0, capacity)
	wide := false
	for {
		if int64(len(buf)) > b.left {
			return nil, errTooLarge
		}
		if len(buf) == cap(buf) {
			// Grow, but never past the limit: memory stays bounded by it.
			next := min(int64(cap(buf))*2, b.left+1)
			nb := make([]byte, len(buf), max(next, int64(cap(buf))+1))
			copy(nb, buf)
			buf = nb
		}
		end := min(cap(buf), len(buf)+readChunk)
		n, err := r.Read(buf[len(buf):end])
		chunk := buf[len(buf) : len(buf)+n]
		if len(buf) < 4 && len(buf)+n >= 2 {
			_, wide = byteOrderMark(buf[:len(buf)+n])
		}
		buf = buf[:len(buf)+n]
		if !wide && bytes.IndexByte(chunk, 0) >= 0 {
			return buf, nil // decode reports it, with its line
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > b.left {
		return nil, errTooLarge
	}
	b.left -= int64(len(buf))
	return buf, nil
}

// Encodings a byte order mark announces.
const (
	encUTF8 = iota
	encUTF16LE
	encUTF16BE
	encUTF32LE
	encUTF32BE
)

// byteOrderMark returns the encoding a byte order mark at the start of
// data announces, and whether it is UTF-16 or UTF-32.
func byteOrderMark(data []byte) (enc int, wide bool) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}):
		return encUTF32LE, true
	case bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}):
		return encUTF32BE, true
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return encUTF16LE, true
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return encUTF16BE, true
	}
	return encUTF8, false
}

// decodeText returns data as UTF-8: UTF-16 and UTF-32 with a byte order
// mark are converted (line numbers stay those of the file), UTF-8 is
// returned as is. Anything else is refused as a whole, with the line of
// the first offending byte: input that is not text cannot be half-read.
func decodeText(data []byte) ([]byte, error) {
	enc, _ := byteOrderMark(data)
	switch enc {
	case encUTF16LE, encUTF16BE:
		body := data[2:]
		if len(body)%2 != 0 {
			return nil, textErrorf(0, "UTF-16 input with an odd number of bytes (truncated?)")
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			if enc == encUTF16LE {
				u[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
			} else {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
		}
		out := make([]byte, 0, len(u))
		line := 1
		for i := 0; i < len(u); i++ {
			r := rune(u[i])
			if utf16.IsSurrogate(r) {
				if i+1 < len(u) {
					r = utf16.DecodeRune(r, rune(u[i+1]))
					i++
				} else {
					r = utf8.RuneError
				}
				if r == utf8.RuneError {
					return nil, textErrorf(line, "invalid UTF-16 (an unpaired surrogate)")
				}
			}
			if r == '\n' {
				line++
			}
			out = utf8.AppendRune(out, r)
		}
		return checkText(out)
	case encUTF32LE, encUTF32BE:
		body := data[4:]
		if len(body)%4 != 0 {
			return nil, textErrorf(0, "UTF-32 input whose length is not a multiple of 4 (truncated?)")
		}
		out := make([]byte, 0, len(body)/4)
		line := 1
		for i := 0; i < len(body); i += 4 {
			var v uint32
			if enc == encUTF32LE {
				v = uint32(body[i]) | uint32(body[i+1])<<8 | uint32(body[i+2])<<16 | uint32(body[i+3])<<24
			} else {
				v = uint32(body[i])<<24 | uint32(body[i+1])<<16 | uint32(body[i+2])<<8 | uint32(body[i+3])
			}
			r := rune(v)
			if v > utf8.MaxRune || !utf8.ValidRune(r) {
				return nil, textErrorf(line, "invalid UTF-32")
			}
			if r == '\n' {
				line++
			}
			out = utf8.AppendRune(out, r)
		}
		return checkText(out)
	}
	return checkText(data)
}

// checkText refuses NUL bytes (binary data, or UTF-16/32 without a byte
// order mark) and invalid UTF-8.
func checkText(data []byte) ([]byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, textErrorf(lineAt(data, i), "a NUL byte: this is binary data, or UTF-16/UTF-32 without a byte order mark (save it as UTF-8)")
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return nil, textErrorf(lineAt(data, i), "invalid UTF-8 (egctl reads UTF-8, and UTF-16 or UTF-32 with a byte order mark)")
	}
	return data, nil
}

// textError is input that is not text, at a line (0 when unknown).
type textError struct {
	line int
	msg  string
}

func (e *textError) Error() string { return e.msg }

func textErrorf(line int, format string, args ...any) error {
	return &textError{line: line, msg: fmt.Sprintf(format, args...)}
}

func lineAt(data []byte, off int) int {
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// ReadAll reads one input (a pipe, a saved file) the way Load reads its
// inputs: at most limit bytes (0 means DefaultMaxInputBytes), stopping at
// the first chunk of binary data. name labels errors.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxInputBytes
	}
	b := &budget{left: limit, limit: limit}
	data, err := b.read(r, -1)
	return readResult(b, name, data, err)
}

// ReadFile is ReadAll for a path; a regular file over the limit is
// refused without being read.
func ReadFile(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxInputBytes
	}
	b := &budget{left: limit, limit: limit}
	data, err := b.readFile(path)
	return readResult(b, path, data, err)
}

func readResult(b *budget, name string, data []byte, err error) ([]byte, error) {
	switch {
	case errors.Is(err, errTooLarge):
		return nil, &Error{Origin: resource.Origin{File: name}, Message: b.tooLarge()}
	case err != nil:
		return nil, &Error{Origin: resource.Origin{File: name}, Message: "reading: " + cleanPathError(err)}
	}
	return data, nil
}
