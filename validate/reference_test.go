package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apivalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/validate/internal/crdgen"
)

// The reference is the API server's own code path for creating a custom
// resource: defaulting, kube-openapi schema validation, list-type checks
// and the CEL validator over the whole object, with no cache. These tests
// hold validate's fast walk and its CEL cache to it.

type refSchema struct {
	ss  *structuralschema.Structural
	sv  apivalidation.SchemaValidator
	cel *cel.Validator
}

var (
	refMu      sync.Mutex
	refSchemas = map[string]*refSchema{}
)

func reference(t testing.TB, group, version, kind string) *refSchema {
	t.Helper()
	refMu.Lock()
	defer refMu.Unlock()
	key := group + "/" + version + "/" + kind
	if r, ok := refSchemas[key]; ok {
		return r
	}
	crdIndexOnce.Do(loadIndex)
	e := crdIndex[group+"/"+kind]
	if e == nil {
		t.Fatalf("no CRD for %s", key)
	}
	data, err := crdFiles.ReadFile(e.file)
	if err != nil {
		t.Fatal(err)
	}
	var f crdFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var r *refSchema
	for _, v := range f.Versions {
		if v.Name != version {
			continue
		}
		var internal apiext.JSONSchemaProps
		if err := apiextv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema, &internal, nil); err != nil {
			t.Fatal(err)
		}
		ss, err := structuralschema.NewStructural(&internal)
		if err != nil {
			t.Fatal(err)
		}
		sv, _, err := apivalidation.NewSchemaValidator(&internal)
		if err != nil {
			t.Fatal(err)
		}
		r = &refSchema{ss: ss, sv: sv, cel: cel.NewValidator(ss, true, celconfig.PerCallLimit)}
	}
	refSchemas[key] = r
	return r
}

// referencePaths validates obj the API server's way and returns the paths
// of its errors.
func referencePaths(t testing.TB, r *refSchema, js []byte) []string {
	var obj map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj, "status")
	// Unknown fields are dropped (validate reports them instead, as a
	// strict field validation would).
	pruning.Prune(obj, r.ss, true)
	defaulting.PruneNonNullableNullsWithoutDefaults(obj, r.ss)
	defaulting.Default(obj, r.ss)
	errs := apivalidation.ValidateCustomResource(nil, obj, r.sv)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, r.ss, obj)...)
	if r.cel != nil {
		ce, _ := r.cel.Validate(context.Background(), nil, r.ss, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, ce...)
	}
	var out []string
	for _, e := range errs {
		p := relPath(e.Field)
		if strings.HasPrefix(p, "metadata") {
			continue // ObjectMeta is checked apart, as in the API server
		}
		out = append(out, p)
	}
	return uniqSorted(out)
}

// ourPaths validates with a Session, leaving out egctl's own rules.
func ourPaths(s *Session, group, version, kind string, js []byte) []string {
	var out []string
	for _, e := range s.Validate(Object{Group: group, Version: version, Kind: kind, JSON: js}) {
		if strings.Contains(e.Message, "control character") || strings.Contains(e.Message, "line break") || e.Message == "unknown field" {
			continue
		}
		out = append(out, e.Path)
	}
	return uniqSorted(out)
}

func uniqSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// corpusObject is one object of the repository's manifests, as JSON.
type corpusObject struct {
	name                 string
	group, version, kind string
	json                 []byte
}

// corpus reads every Gateway API and Envoy Gateway object of the
// repository's YAML test inputs and examples.
func corpus(t testing.TB) []corpusObject {
	t.Helper()
	var files []string
	for _, glob := range []string{
		"../testdata/translate/in/*.yaml", "../examples/*.yaml", "../test/e2e/testdata/*.yaml",
		"../cli/*/testdata/*.yaml", "../cli/*/testdata/*/*.yaml",
	} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	sort.Strings(files)
	var out []corpusObject
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if json.Unmarshal(js, &head) != nil {
				continue
			}
			g, v, ok := strings.Cut(head.APIVersion, "/")
			if !ok || (g != "gateway.networking.k8s.io" && g != "gateway.envoyproxy.io") {
				continue
			}
			if n, _ := schemaFor(g, v, head.Kind); n == nil {
				continue
			}
			out = append(out, corpusObject{name: fmt.Sprintf("%s#%d", filepath.Base(f), i), group: g, version: v, kind: head.Kind, json: js})
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d corpus objects found", len(out))
	}
	return out
}

// TestAgreesWithReference: on every object of the corpus and on mutations
// of each of its fields, validate finds problems at exactly the paths the
// API server's code finds them, with one Session for everything, so the
// CEL cache is warm with look-alike values.
//
// The reference takes about 5 ms per variant: by default every tenth
// variant is checked (about a thousand); EGCTL_REFERENCE_FULL=1 checks all
// of them (about a minute).
func TestAgreesWithReference(t *testing.T) {
	s := NewSession()
	objs := corpus(t)
	stride := 10
	if os.Getenv("EGCTL_REFERENCE_FULL") == "1" {
		stride = 1
	}
	checked, seq := 0, 0
	for _, o := range objs {
		r := reference(t, o.group, o.version, o.kind)
		variants := append([][]byte{o.json}, mutations(t, o.json)...)
		for i, js := range variants {
			seq++
			if i > 0 && seq%stride != 0 {
				// Still run it through the Session: a skipped variant
				// warms the cache like any other input.
				ourPaths(s, o.group, o.version, o.kind, js)
				continue
			}
			want := referencePaths(t, r, js)
			got := ourPaths(s, o.group, o.version, o.kind, js)
			got, dropped := dropInt32Only(s, o, js, want, got)
			want = dropByteParents(s, o, js, want)
			if len(want) > 0 && want[0] == "<nil>" && (len(got) > 0 || dropped) {
				// kube-openapi also reports a number out of its type's
				// range without a path; validate reports it at the field.
				want = want[1:]
				if len(want) == 0 {
					got = nil
				}
			}
			checked++
			if strings.Join(want, "\n") != strings.Join(got, "\n") {
				t.Errorf("%s variant %d (%s %s):\n  reference: %q\n  validate:  %q\n  object: %s", o.name, i, o.version, o.kind, want, got, js)
			}
		}
	}
	hits, misses := s.Stats()
	t.Logf("%d objects, %d variants; CEL cache %d hits, %d misses", len(objs), checked, hits, misses)
}

// FuzzAgainstReference feeds arbitrary JSON objects of the corpus' kinds
// to both validators.
func FuzzAgainstReference(f *testing.F) {
	for _, o := range corpus(f) {
		f.Add(o.json)
	}
	s := NewSession()
	f.Fuzz(func(t *testing.T, js []byte) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		var obj map[string]any
		if sigsjson.UnmarshalCaseSensitivePreserveInts(js, &head) != nil || sigsjson.UnmarshalCaseSensitivePreserveInts(js, &obj) != nil {
			return
		}
		g, v, _ := strings.Cut(head.APIVersion, "/")
		if n, _ := schemaFor(g, v, head.Kind); n == nil {
			return
		}
		// The loader hands over compact, canonical JSON.
		canon, err := json.Marshal(obj)
		if err != nil {
			return
		}
		want := referencePaths(t, reference(t, g, v, head.Kind), canon)
		got := ourPaths(s, g, v, head.Kind, canon)
		if len(want) > 0 && want[0] == "<nil>" && len(got) > 0 {
			want = want[1:]
			if len(want) == 0 {
				got = nil
			}
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("reference: %q\nvalidate:  %q\nobject: %s", want, got, canon)
		}
	})
}

// mutations returns variants of an object, each with one field changed in
// a way validation cares about.
func mutations(t testing.TB, js []byte) [][]byte {
	var obj map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, &obj); err != nil {
		t.Fatal(err)
	}
	spec, ok := obj["spec"]
	if !ok {
		return nil
	}
	var out [][]byte
	var walk func(x any, set func(any))
	add := func() {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	values := []any{"", "a/../b", "%2F", "UPPER", strings.Repeat("x", 300), int64(-1), int64(0), int64(70000), int64(1 << 40), 1.5, true, nil, map[string]any{}, []any{}}
	walk = func(x any, set func(any)) {
		switch v := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				old := v[k]
				delete(v, k) // removed
				add()
				v[k] = old
				walk(old, func(n any) { v[k] = n })
				v[k] = old
			}
		case []any:
			if len(v) > 0 {
				set(append(append([]any{}, v...), v[0])) // first item twice
				add()
				set(v[1:]) // first item removed
				add()
				set(v)
			}
			for i := range v {
				old := v[i]
				walk(old, func(n any) { v[i] = n })
				v[i] = old
			}
		default:
			for _, nv := range values {
				set(nv)
				add()
			}
			set(x)
		}
	}
	walk(spec, func(n any) { obj["spec"] = n })
	return out
}

// TestAgreesWithReferenceOnEnvoyGatewayInputs runs every Gateway API and
// Envoy Gateway object of Envoy Gateway's own translator test inputs
// (hundreds of policies egctl's own inputs do not have) through both
// validators. It skips when the module cache has no Envoy Gateway source.
func TestAgreesWithReferenceOnEnvoyGatewayInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("about 15 s")
	}
	dir, err := crdgen.ModuleDir("github.com/envoyproxy/gateway")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "internal", "gatewayapi", "testdata", "*.in.yaml"))
	if len(files) == 0 {
		t.Skip("no Envoy Gateway translator test inputs in " + dir)
	}
	s := NewSession()
	checked, refused := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var lists map[string][]map[string]any
		if yaml.Unmarshal(data, &lists) != nil {
			continue
		}
		for _, objs := range lists {
			for _, obj := range objs {
				av, _ := obj["apiVersion"].(string)
				kind, _ := obj["kind"].(string)
				g, v, _ := strings.Cut(av, "/")
				if n, _ := schemaFor(g, v, kind); n == nil {
					continue
				}
				js, err := json.Marshal(obj)
				if err != nil {
					continue
				}
				want := referencePaths(t, reference(t, g, v, kind), js)
				got := ourPaths(s, g, v, kind, js)
				if len(want) > 0 && want[0] == "<nil>" && len(got) > 0 {
					want = want[1:]
					if len(want) == 0 {
						got = nil
					}
				}
				checked++
				if len(want) > 0 {
					refused++
				}
				if strings.Join(want, "\n") != strings.Join(got, "\n") {
					t.Errorf("%s: %s %s:\n  reference: %q\n  validate:  %q\n  object: %s", filepath.Base(f), av, kind, want, got, js)
				}
			}
		}
	}
	hits, misses := s.Stats()
	t.Logf("%d objects of %d files, %d refused by the CRDs; CEL cache %d hits, %d misses", checked, len(files), refused, hits, misses)
}

// dropByteParents removes from want the object holding a field validate
// refuses as not base64 (format: byte) when the reference also lists that
// object: the API server cannot turn the value into CEL bytes, so every
// rule of the object around it fails too. validate memoizes rules that
// only test the field's presence by presence, and so reports the field
// alone. Both refuse the object, at the field; the extra line is the
// difference.
func dropByteParents(s *Session, o corpusObject, js []byte, want []string) []string {
	parents := map[string]bool{}
	for _, e := range s.Validate(Object{Group: o.group, Version: o.version, Kind: o.kind, JSON: js}) {
		if strings.Contains(e.Message, "must be of format byte") {
			if i := strings.LastIndexByte(e.Path, '.'); i > 0 {
				parents[e.Path[:i]] = true
			}
		}
	}
	if len(parents) == 0 {
		return want
	}
	out := make([]string, 0, len(want))
	for _, w := range want {
		if !parents[w] {
			out = append(out, w)
		}
	}
	return out
}

// dropInt32Only removes from got the fields validate refuses only for
// holding an integer wider than their 32-bit type when the reference does
// not list them: the API server's schema check lets such a value through
// and decoding into the typed object refuses it, so both refuse the object.
func dropInt32Only(s *Session, o corpusObject, js []byte, want, got []string) ([]string, bool) {
	wide := map[string]bool{}
	for _, e := range s.Validate(Object{Group: o.group, Version: o.version, Kind: o.kind, JSON: js}) {
		if strings.Contains(e.Message, "must be a 32-bit integer") {
			wide[e.Path] = true
		}
	}
	if len(wide) == 0 {
		return got, false
	}
	listed := map[string]bool{}
	for _, w := range want {
		listed[w] = true
	}
	out, dropped := got[:0], false
	for _, g := range got {
		if wide[g] && !listed[g] {
			dropped = true
			continue
		}
		out = append(out, g)
	}
	return out, dropped
}
