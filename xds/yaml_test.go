package xds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The fast YAML writer must give JSONToYAML's bytes exactly.
func TestJSONToYAMLMatchesSigsYAML(t *testing.T) {
	tricky := []string{"", " lead", "trail ", "*", "*.example.com", "'q'", "\"dq\"", "a: b", "a:b", "a #b", "a#b", "#c",
		"- x", "-x", "-", "? x", "?x", ":x", "---x", "...", "true", "True", "yes", "on", "no", "n", "y", "null", "~", "<<",
		"3000", "0.5", "1e3", "0x1F", "0o17", "0b101", "1_000", "+1", "-1", ".5", ".inf", ".NaN", "1:20", "2001-12-14",
		"2001-12-14T21:59:43.10-05:00", "1.2.3", "10s", "0.200s", "^/prefix/*", `^/a\.b$`, "[x]", "{x}", "x,y", "a|b",
		"@x", "`x`", "%x", "!x", "&x", "it's", "GET, POST", "/path with space", "x-header-1, x-header-2",
		strings.Repeat("x", 200), strings.Repeat("word ", 6), "envoy.filters.http.cors", "a/b/c/*", "https://x.y",
	}
	obj := map[string]any{"list": []any{}, "empty": map[string]any{}, "nested": []any{[]any{"a", "b"}, map[string]any{}, []any{}}}
	for i, s := range tricky {
		obj[fmt.Sprintf("k%d", i)] = s
		if len(s) < 100 { // longer keys are not simple keys: slow path
			obj[s+"-key"] = []any{s, map[string]any{"v": s, "w": []any{s}}}
		}
	}
	obj["nums"] = []any{1, 0, -5, 3000, 1048576, 4294967295, 0.5, 1e-7, 2.5e10, 1.0, true, false, nil}
	obj["key10"], obj["key9"], obj["key09"], obj["Key"], obj["_k"], obj["k-1"], obj["k.1"] = 1, 2, 3, 4, 5, 6, 7
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{raw}
	files, _ := filepath.Glob("testdata/*.xds.yaml")
	for _, f := range files {
		y, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(y)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, j)
	}
	// A long string with spaces would be folded by go-yaml: the fast writer
	// must step aside, and jsonToYAML still give the same bytes.
	long := []byte(`{"a":{"b":"` + strings.Repeat("word ", 30) + `"}}`)
	if _, err := fastYAML(long); err != errSlowPath {
		t.Errorf("long string with spaces: err %v, want errSlowPath", err)
	}
	if got, _ := jsonToYAML(long); !bytes.Equal(got, must(yaml.JSONToYAML(long))) {
		t.Errorf("slow path output differs")
	}
	for i, j := range docs {
		want, err := yaml.JSONToYAML(j)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fastYAML(j)
		if err != nil {
			t.Fatalf("doc %d: fast path not taken: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			for n := 0; n < len(gl) && n < len(wl); n++ {
				if gl[n] != wl[n] {
					t.Fatalf("doc %d line %d:\n got %q\nwant %q", i, n+1, gl[n], wl[n])
				}
			}
			t.Fatalf("doc %d: lengths differ: %d vs %d lines", i, len(gl), len(wl))
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
