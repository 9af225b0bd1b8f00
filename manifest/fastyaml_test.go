package manifest

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/egctl/egctl/test/bench/gen"
)

// slowJSON converts one document the yaml.v3 way. ok is false when the
// document does not parse, is not a mapping, or does not convert.
func slowJSON(data []byte) (js []byte, root *yaml.Node, ok bool) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, nil, false
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
		return nil, nil, false
	}
	root = n.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, false
	}
	js, err := toJSON(root, 1<<40, nil)
	if err != nil {
		return nil, nil, false
	}
	return js, root, true
}

// checkFast compares both paths on one document. It fails the test if the
// fast path accepts a document and disagrees with yaml.v3 in any way, and
// reports whether the fast path accepted it.
func checkFast(t *testing.T, p *fastParser, where string, data []byte) bool {
	t.Helper()
	if !p.parse(data) {
		return false
	}
	slow, root, ok := slowJSON(data)
	if !ok {
		t.Errorf("%s: fast path accepted a document yaml.v3 rejects:\n%s", where, data)
		return true
	}
	if !bytes.Equal(p.w.buf, slow) {
		t.Errorf("%s: JSON differs\nfast: %s\nslow: %s\ninput:\n%s", where, p.w.buf, slow, data)
	}
	if p.line != root.Line {
		t.Errorf("%s: line %d, yaml.v3 says %d", where, p.line, root.Line)
	}
	c := &docCtx{src: &source{name: "x"}, res: &unitResult{}}
	h, hok := c.readHeader(root)
	got := header{apiVersion: p.hdr.apiVersion, kind: p.hdr.kind, name: p.hdr.name, namespace: p.hdr.namespace}
	h.items, h.hasItems = nil, false
	if !hok || got != h {
		t.Errorf("%s: header %+v, readHeader says %+v (ok=%v)", where, got, h, hok)
	}
	return true
}

// checkFile splits data like the loader does and checks every document.
func checkFile(t *testing.T, p *fastParser, name string, data []byte) (fast, total int) {
	t.Helper()
	for _, u := range split(&source{name: name, data: data}) {
		for _, ch := range u.chunks {
			if !ch.single {
				continue
			}
			if len(bytes.TrimSpace(ch.data)) == 0 {
				continue
			}
			total++
			if checkFast(t, p, name, ch.data) {
				fast++
			}
		}
	}
	return fast, total
}

func yamlFiles(t *testing.T, root string) []string {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// egTestdata is Envoy Gateway's translator test corpus in the module cache:
// real manifests written by others, read-only; "" when the module is absent.
func egTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/envoyproxy/gateway").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Logf("Envoy Gateway module not found (%v): its corpus is skipped", err)
		return ""
	}
	return filepath.Join(dir, "internal", "gatewayapi", "testdata")
}

func TestFastPathMatchesYAMLv3(t *testing.T) {
	corpora := []string{"../testdata", egTestdata(t)}
	p := &fastParser{}
	for _, dir := range corpora {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			t.Logf("%s: skipped (%v)", dir, err)
			continue
		}
		fast, total, inFast, inTotal := 0, 0, 0, 0
		for _, f := range yamlFiles(t, dir) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, b := checkFile(t, p, f, data)
			fast, total = fast+a, total+b
			if strings.HasSuffix(f, ".in.yaml") {
				inFast, inTotal = inFast+a, inTotal+b
			}
		}
		t.Logf("%s: %d of %d documents took the fast path (%d of %d in *.in.yaml)", dir, fast, total, inFast, inTotal)
		if total == 0 {
			t.Errorf("%s: no documents found", dir)
		}
	}

	var b bytes.Buffer
	if err := gen.Write(&b, 300); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"gen.Write": b.Bytes(), "genRoutes": genRoutes(300)} {
		fast, total := checkFile(t, p, name, data)
		t.Logf("%s: %d of %d documents took the fast path", name, fast, total)
		if fast != total {
			t.Errorf("%s: only %d of %d documents took the fast path", name, fast, total)
		}
	}
}

// TestFastPathCases pins down which constructs take the fast path, and
// that each agrees with yaml.v3.
func TestFastPathCases(t *testing.T) {
	cases := []struct {
		in   string
		fast bool
	}{
		{"a: 1\n", true},
		{"a: 123456789012345678\nb: 1234567890123456789\nc: 2001\nd: 0\ne: 012\nf: 12e3\ng: 1.5\nh: Yes\ni: on\nj: <x\nk: _x\n", true},
		{"---\na: b\n", true},
		{"--- # c\na: b\n", true},
		{"# c\na:\n  b: c # x\n  d:\n  - 1\n  - '2'\n  -   e: \"f\\n\"\n      g: h\n", true},
		{"a:\n- b: c\n  d:\n  - e\n- - x\n  - y\n-\n- \n", true},
		{"a: [1]\n", false},
		{"a: {b: 1}\n", false},
		{"a: &x 1\nb: *x\n", false},
		{"a: !!str 1\n", false},
		{"a: |\n  x\n", false},
		{"a: >\n  x\n", false},
		{"a: b\n  c\n", false},
		{"a:\tb\n", false},
		{"a: b\r\n", false},
		{"<<: {a: 1}\n", false},
		{"? a\n: b\n", false},
		{"%YAML 1.2\n---\na: b\n", false},
		{"a: b: c\n", false},
		{"a: 'b\n  c'\n", false},
		{"a: .inf\n", false},
		{"- a\n", false},
		{"a: é\n", false},
		{"a: 1\n b: 2\n", false},
		{"a:\n  b: 1\n c: 2\n", false},
		{"a:\n  - 1\n  b: 2\n", false},
		{"a: 1\na: 2\n", true}, // duplicates reach the strict decoder
		{"a: 0x1F\nb: 0o17\nc: 1_000\nd: +1\ne: -0\nf: 1e3\ng: 2001-12-14\nh: ~\ni: Null\nj: yes\nk: TRUE\nl: 1.50\nm: <<\n", true},
		{"a: 'it''s'\nb: \"q\\\"\\\\ \"\nc: ''\n'd': 1\n\"e\": 2\n", true},
		{"a: b #c\nd: e#f\n", true},
		{"a: {}\nb: []\nc:\n- {}\n- [] # x\n", true},
		{"a: {} x\n", false},
		{"a: {}x\n", false},
		{"a: [ ]\n", false},
		{"a: \"\\x41\"\n", false},
		{"a: \"\\/\"\n", false},
	}
	p := &fastParser{}
	for _, tc := range cases {
		if got := checkFast(t, p, "case", []byte(tc.in)); got != tc.fast {
			t.Errorf("%q: fast path taken = %v, want %v", tc.in, got, tc.fast)
		}
	}
}

// TestFastPathSameSet loads corpora with and without the fast path and
// expects the very same Set, warnings and errors.
func TestFastPathSameSet(t *testing.T) {
	var b bytes.Buffer
	if err := gen.Write(&b, 200); err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"gen.yaml": b.Bytes()}
	for _, dir := range []string{"../testdata", egTestdata(t)} {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		for _, f := range yamlFiles(t, dir) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs[f] = data
		}
	}
	defer func() { fastPath = true }()
	for name, data := range inputs {
		fastPath = true
		s1, w1, e1 := LoadBytes(name, data, Options{Namespace: "ns"})
		fastPath = false
		s2, w2, e2 := LoadBytes(name, data, Options{Namespace: "ns"})
		if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(w1, w2) || errString(e1) != errString(e2) {
			t.Errorf("%s: fast and slow loads differ\nerr fast: %v\nerr slow: %v", name, e1, e2)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzFastPath checks that the fast path never disagrees with yaml.v3; it
// may always decline.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n"))
	f.Add([]byte("a:\n- b: 'c''d'\n  e: \"f\\\"\"\n- - 1\n  - 0x10\n-\n"))
	f.Add([]byte("--- # x\na: b # c\nd:\n  e: ~\n"))
	for _, dir := range []string{"errors", "misc", "convert", "tree"} {
		files, _ := filepath.Glob(td(dir, "*"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	p := &fastParser{}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, p, "fuzz", data)
	})
}

// BenchmarkLoadYAMLv3 is BenchmarkLoad without the fast path, to compare
// both under the same machine load.
func BenchmarkLoadYAMLv3(b *testing.B) {
	fastPath = false
	defer func() { fastPath = true }()
	BenchmarkLoad(b)
}
