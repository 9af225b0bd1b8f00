package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// decodedYAML is fastYAML as it was before parseJSONTree: encoding/json
// into maps, then the writer. The fast parser must not change a byte.
func decodedYAML(j []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	w := &yamlWriter{}
	if err := w.top(v); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

// jsonTreeCorpus is every YAML golden file of the repository as JSON (the
// status, IR and xDS outputs of every translate case) and documents made
// to hit the parser's edges.
func jsonTreeCorpus(t testing.TB) [][]byte {
	docs := [][]byte{
		[]byte(`{}`), []byte(`[]`), []byte(`null`), []byte(`"s"`), []byte(`12`), []byte(` {"a" : [ 1 , 2 ] } `),
		[]byte(`{"a":{},"b":[],"c":[{}],"d":[[]],"e":null,"f":true,"g":false}`),
		[]byte(`{"n":[0,-0,1,-1,0.5,-0.25,1e3,1E3,1e+3,1e-3,2.5E-10,12345678901234567890,1.0,100,3.14159]}`),
		[]byte(`{"esc":"a\"b","tab":"a\tb","nl":"a\nb","u":"\u0041\u00e9","sl":"a\/b","bs":"a\\b","sur":"\ud83d\ude00","html":"\u003cx\u003e"}`),
		[]byte(`{"utf8":"é","bad":"` + "\xff" + `"}`),
		[]byte(`{"dup":1,"dup":2}`), []byte(`{"a":1} {"b":2}`), []byte(`{"a":1} x`), []byte(`{"a":1,}`), []byte(`[1,]`),
		[]byte(`{"a":01}`), []byte(`{"a":-}`), []byte(`{"a":1.}`), []byte(`{"a":1e}`), []byte(`{"a":.5}`), []byte(`{"a":tru}`),
		[]byte(`{"a":"unterminated}`), []byte("{\"a\":\"ctl\x01\"}"), []byte(`{"a":"\x"}`), []byte(`{"a" 1}`), []byte(`{1:2}`), []byte(``),
		[]byte(`{"key10":1,"key9":2,"key09":3,"Key":4,"_k":5,"k-1":6,"k.1":7,"d889c":8,"d8f1":9,"d384":10}`),
		[]byte(`{"long":"` + strings.Repeat("word ", 30) + `","key":"` + strings.Repeat("k", 200) + `"}`),
		[]byte(strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20)),
	}
	for _, pattern := range []string{"testdata/*.yaml", "../testdata/translate/out/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			y, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			j, err := yaml.YAMLToJSON(y)
			if err != nil {
				continue // not one document
			}
			docs = append(docs, j)
		}
	}
	if len(docs) < 100 {
		t.Fatalf("corpus has %d documents: golden files not found", len(docs))
	}
	return docs
}

// sameResult compares two conversions: the same bytes, or both failed the
// same way (errSlowPath alike, other errors with the same message).
func sameResult(t *testing.T, what string, got []byte, gerr error, want []byte, werr error) {
	t.Helper()
	switch {
	case werr != nil || gerr != nil:
		if (werr == nil) != (gerr == nil) || errors.Is(werr, errSlowPath) != errors.Is(gerr, errSlowPath) || werr.Error() != gerr.Error() {
			t.Errorf("%s: error %v, want %v", what, gerr, werr)
		}
	case !bytes.Equal(got, want):
		t.Errorf("%s: output differs:\n got %.300q\nwant %.300q", what, got, want)
	}
}

func TestFastYAMLMatchesDecodedYAML(t *testing.T) {
	fast := 0
	for i, j := range jsonTreeCorpus(t) {
		if _, err := parseJSONTree(j); err == nil {
			fast++
		}
		got, gerr := fastYAML(j)
		want, werr := decodedYAML(j)
		sameResult(t, "doc "+string(rune('0'+i%10))+" "+string(j[:min(len(j), 60)]), got, gerr, want, werr)
	}
	if fast < 100 {
		t.Errorf("the fast parser took only %d documents", fast)
	}
}

func TestJSONSectionToYAMLMatchesWholeDocument(t *testing.T) {
	for _, j := range jsonTreeCorpus(t) {
		for _, key := range []string{"httpRoutes", "xdsIR", "a b", "true", strings.Repeat("k", 200)} {
			if len(key) > maxSimpleKey && bytes.Contains(j, []byte("d889c")) {
				continue // go-yaml's own order of these keys is random (sortYAMLKeys)
			}
			got, gerr := JSONSectionToYAML(key, j)
			var want []byte
			doc, werr := json.Marshal(map[string]json.RawMessage{key: j})
			if werr == nil {
				want, werr = jsonToYAML(doc)
			}
			sameResult(t, key+": "+string(j[:min(len(j), 60)]), got, gerr, want, werr)
		}
	}
}

// FuzzJSONTree holds the fast parser to encoding/json on any input.
func FuzzJSONTree(f *testing.F) {
	for _, j := range jsonTreeCorpus(f) {
		if len(j) < 4096 {
			f.Add(j)
		}
	}
	f.Fuzz(func(t *testing.T, j []byte) {
		got, gerr := fastYAML(j)
		want, werr := decodedYAML(j)
		sameResult(t, "fuzz", got, gerr, want, werr)
	})
}
