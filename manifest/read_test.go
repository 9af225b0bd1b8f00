package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"
)

const twoServices = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: default}\n---\n" +
	"apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: default}\n---\n" +
	"apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: default, annotations: {note: ünï}}\n"

func utf16Bytes(s string, bigEndian bool) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, c := range u {
		if bigEndian {
			out = append(out, byte(c>>8), byte(c))
		} else {
			out = append(out, byte(c), byte(c>>8))
		}
	}
	return out
}

func utf32Bytes(s string, bigEndian bool) []byte {
	out := []byte{0xFF, 0xFE, 0, 0}
	if bigEndian {
		out = []byte{0, 0, 0xFE, 0xFF}
	}
	for _, r := range s {
		if bigEndian {
			out = append(out, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
		} else {
			out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
		}
	}
	return out
}

// TestEncodings: UTF-16 and UTF-32 with a byte order mark are read whole
// (every document, not only the first); anything that is not text is
// refused as a whole, never half-read.
func TestEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string // error substring; "" means three Services
	}{
		{"utf-8", []byte(twoServices), ""},
		{"utf-8 with BOM", append([]byte("\xEF\xBB\xBF"), twoServices...), ""},
		{"utf-16le", utf16Bytes(twoServices, false), ""},
		{"utf-16be", utf16Bytes(twoServices, true), ""},
		{"utf-32le", utf32Bytes(twoServices, false), ""},
		{"utf-32be", utf32Bytes(twoServices, true), ""},
		{"utf-16 without BOM", utf16Bytes(twoServices, false)[2:], "in.yaml:1: a NUL byte: this is binary data, or UTF-16/UTF-32 without a byte order mark"},
		{"truncated utf-16", utf16Bytes(twoServices, false)[:41], "in.yaml: UTF-16 input with an odd number of bytes"},
		{"invalid utf-8", []byte(strings.Replace(twoServices, "ünï", "\xff\xfe", 1)), "in.yaml:11: invalid UTF-8"},
		{"NUL on line 5", []byte(strings.Replace(twoServices, "name: b", "name: \x00b", 1)), "in.yaml:7: a NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "in.yaml")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, load := range []func() (int, error){
				func() (int, error) {
					s, _, err := Load([]string{p}, Options{})
					return len(s.Services), err
				},
				func() (int, error) {
					s, _, err := LoadBytes("in.yaml", tc.data, Options{})
					return len(s.Services), err
				},
			} {
				n, err := load()
				if tc.want == "" {
					if err != nil || n != 3 {
						t.Fatalf("%d Services, err %v; want 3", n, err)
					}
					continue
				}
				if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), p, "in.yaml"), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if n != 0 {
					t.Fatalf("%d Services read from input that was refused", n)
				}
			}
		})
	}
}

// endless is a stdin that never ends, of valid-looking YAML.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	line := "# a comment line that goes on and on\n"
	for i := range p {
		p[i] = line[e.n%len(line)]
		e.n++
	}
	return len(p), nil
}

func TestInputLimit(t *testing.T) {
	const limit = 4 << 20
	t.Run("endless stdin", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Load([]string{"-"}, Options{Stdin: &endless{}, MaxInputBytes: limit})
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "<stdin>: the input exceeds the limit of 4 MiB in total (raise it with --max-input-size)") {
			t.Fatalf("err = %v", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
			t.Errorf("allocated %d bytes for a %d-byte limit", alloc, limit)
		}
	})
	t.Run("dev zero", func(t *testing.T) {
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip("no /dev/zero")
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		// The default limit: binary input must fail on its first chunk,
		// not after reading 256 MiB.
		_, _, err := Load([]string{"/dev/zero"}, Options{})
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "/dev/zero:1: a NUL byte") {
			t.Fatalf("err = %v", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("allocated %d bytes to refuse /dev/zero", alloc)
		}
	})
	t.Run("files add up", func(t *testing.T) {
		dir := t.TempDir()
		big := bytes.Repeat([]byte("# padding\n"), limit/10/2+1) // a little over half the limit
		for _, n := range []string{"a.yaml", "b.yaml", "c.yaml"} {
			if err := os.WriteFile(filepath.Join(dir, n), big, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := Load([]string{dir}, Options{MaxInputBytes: limit})
		if err == nil || !strings.Contains(err.Error(), "b.yaml: the input exceeds the limit of 4 MiB in total") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("read on past the limit: %v", err)
		}
		if _, _, err := Load([]string{dir}, Options{MaxInputBytes: 3 * limit}); err != nil {
			t.Fatalf("a raised limit still refuses: %v", err)
		}
	})
}
