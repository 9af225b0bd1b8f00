package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/egctl/egctl/test/bench/gen"
	"github.com/egctl/egctl/validate"
)

// The fast path decodes with validate.Doc.Decode, which promises to store
// exactly what sigs.k8s.io/json's UnmarshalStrict stores whenever it
// accepts an input, and to accept nothing UnmarshalStrict rejects (unknown
// and duplicate fields included). These tests hold it to that promise.

// agree decodes data as kind info both ways. It fails the test when the
// fast decoder accepts something UnmarshalStrict rejects or decodes it
// differently, and reports whether the fast decoder accepted it.
func agree(t *testing.T, info *kindInfo, data []byte) bool {
	t.Helper()
	var d validate.Doc
	if d.Parse(data) != nil {
		return false
	}
	got := info.fresh()
	if !d.Decode(got) {
		return false
	}
	want, strict, err := info.decode(data)
	if err != nil || len(strict) > 0 {
		t.Errorf("%s: the fast decoder accepted what UnmarshalStrict rejects (%v %v):\n%s", info.kind, err, strict, data)
		return true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded differently\nfast:   %#v\nstrict: %#v\ninput: %s", info.kind, got, want, data)
	}
	return true
}

func directKinds() []*kindInfo {
	var out []*kindInfo
	for _, k := range registry {
		if k.fresh != nil {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].apiVersion()+out[i].kind < out[j].apiVersion()+out[j].kind })
	return out
}

// TestFastDecodeKinds lists the kinds the fast decoder handles; those of
// the benchmark workload must be among them.
func TestFastDecodeKinds(t *testing.T) {
	handled := map[string]bool{}
	for _, k := range directKinds() {
		if agree(t, k, []byte(`{}`)) {
			handled[k.kind] = true
		} else {
			t.Logf("%s %s: left to UnmarshalStrict", k.apiVersion(), k.kind)
		}
	}
	for _, k := range []string{"GatewayClass", "Gateway", "HTTPRoute", "Namespace", "Service", "EndpointSlice"} {
		if !handled[k] {
			t.Errorf("%s: the fast decoder does not handle it", k)
		}
	}
}

// TestFastDecodeMatchesStrict runs every document of the corpora through
// both decoders.
func TestFastDecodeMatchesStrict(t *testing.T) {
	var b bytes.Buffer
	if err := gen.Write(&b, 50); err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"gen.yaml": b.Bytes()}
	for _, dir := range []string{"../testdata", egTestdata(t)} {
		if _, err := os.Stat(dir); dir == "" || err != nil {
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
	p := &fastParser{}
	fast, total := 0, 0
	for name, data := range inputs {
		for _, u := range split(&source{name: name, data: data}) {
			for _, ch := range u.chunks {
				if !ch.single || !p.parse(ch.data) {
					continue
				}
				group, version := splitGV(p.hdr.apiVersion)
				info := registry[gvk{group, version, p.hdr.kind}]
				if info == nil || info.fresh == nil {
					continue
				}
				total++
				js := append([]byte(nil), p.w.buf...)
				if agree(t, info, js) {
					fast++
				} else if name == "gen.yaml" {
					t.Errorf("gen.yaml: %s not decoded by the fast decoder:\n%s", p.hdr.kind, js)
				}
			}
		}
	}
	t.Logf("%d of %d documents decoded by the fast decoder", fast, total)
	if fast == 0 {
		t.Error("no document decoded by the fast decoder")
	}
}

// TestFastDecodeRandom fills objects of every kind with random values,
// encodes them, and decodes the JSON and mutations of it both ways:
// renamed keys (case changes, unknown fields), duplicated members, values
// of another type, nulls, escapes.
func TestFastDecodeRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	for _, k := range directKinds() {
		accepted, mutated := 0, 0
		for i := 0; i < rounds; i++ {
			obj := k.fresh()
			fill(rng, reflect.ValueOf(obj).Elem(), 0)
			js, err := json.Marshal(obj)
			if err != nil {
				continue
			}
			if agree(t, k, js) {
				accepted++
			}
			for j := 0; j < 8; j++ {
				if agree(t, k, mutate(rng, js)) {
					mutated++
				}
			}
		}
		t.Logf("%s %s: %d of %d random objects and %d mutations accepted", k.apiVersion(), k.kind, accepted, rounds, mutated)
	}
}

// FuzzFastDecode: whatever the input, the fast decoder agrees with
// UnmarshalStrict or declines.
func FuzzFastDecode(f *testing.F) {
	var b bytes.Buffer
	if err := gen.Write(&b, 3); err != nil {
		f.Fatal(err)
	}
	p := &fastParser{}
	for _, u := range split(&source{name: "gen.yaml", data: b.Bytes()}) {
		for _, ch := range u.chunks {
			if ch.single && p.parse(ch.data) {
				f.Add(p.hdr.kind, append([]byte(nil), p.w.buf...))
			}
		}
	}
	f.Add("HTTPRoute", []byte(`{"metadata":{"name":"a","creationTimestamp":null,"labels":{"a":"b","a":"c"}},"spec":{"parentRefs":[{"name":"x","port":80}],"Hostnames":["a"]}}`))
	f.Add("HTTPRoute", []byte(`{"spec":{"rules":[{"backendRefs":[{"name":"\u0041","weight":1e2}]}]}}`))
	byKind := map[string]*kindInfo{}
	for _, k := range directKinds() {
		byKind[k.kind] = k
	}
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		if k := byKind[kind]; k != nil {
			agree(t, k, data)
		}
	})
}

var fillStrings = []string{"", "a", "A-b.c_1", "x\"y", "back\\slash", "tab\tnew\nline", "é", "\u2028", "<&>", "10", "true", "null"}

// fill sets random values in v, leaving some fields unset.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch x := v.Addr().Interface().(type) {
	case *metav1.Time:
		*x = metav1.NewTime(time.Unix(rng.Int63n(2e9), 0))
		return
	case *intstr.IntOrString:
		if rng.Intn(2) == 0 {
			*x = intstr.FromInt32(rng.Int31n(70000))
		} else {
			*x = intstr.FromString(fillStrings[rng.Intn(len(fillStrings))])
		}
		return
	case *resource.Quantity:
		*x = resource.MustParse([]string{"1", "100m", "2Gi", "0.5"}[rng.Intn(4)])
		return
	case json.Unmarshaler:
		return // other custom types: left zero
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() && rng.Intn(3) > 0 {
				fill(rng, f, depth+1)
			}
		}
	case reflect.Pointer:
		if rng.Intn(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(rng, v.Elem(), depth+1)
		}
	case reflect.Slice:
		switch n := rng.Intn(4); {
		case n == 0:
		case v.Type().Elem().Kind() == reflect.Uint8:
			v.SetBytes([]byte(fillStrings[rng.Intn(len(fillStrings))]))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := 0; i < n-1; i++ {
				fill(rng, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		if n := rng.Intn(4); n > 0 && v.Type().Key().Kind() == reflect.String {
			m := reflect.MakeMap(v.Type())
			for i := 0; i < n-1; i++ {
				k := reflect.New(v.Type().Key()).Elem()
				k.SetString(fillStrings[rng.Intn(len(fillStrings))])
				e := reflect.New(v.Type().Elem()).Elem()
				fill(rng, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.String:
		v.SetString(fillStrings[rng.Intn(len(fillStrings))])
	case reflect.Bool:
		v.SetBool(rng.Intn(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lim := int64(1) << uint(min(v.Type().Bits()-1, 62))
		v.SetInt(rng.Int63n(lim) - rng.Int63n(lim))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rng.Int63n(1 << uint(min(v.Type().Bits(), 63)))))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(rng.Intn(2000)-1000) / 8)
	}
}

// mutate changes one thing in js: a key's case, an unknown key, a
// duplicated member, a value replaced by null, a string, a number, an
// object or a list, or a string escaped differently.
func mutate(rng *rand.Rand, js []byte) []byte {
	s := string(js)
	// Pick a member key: a quoted string followed by a colon.
	var keys []int
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '"' && (i == 0 || s[i-1] == '{' || s[i-1] == ',') {
			keys = append(keys, i)
		}
	}
	if len(keys) == 0 {
		return js
	}
	at := keys[rng.Intn(len(keys))]
	end := strings.IndexByte(s[at+1:], '"') + at + 1
	key := s[at+1 : end]
	valStart := end + 2
	valEnd := valueEnd(s, valStart)
	switch rng.Intn(8) {
	case 0: // case change
		if key != "" {
			k := []byte(key)
			k[0] ^= 0x20
			return []byte(s[:at+1] + string(k) + s[end:])
		}
	case 1: // unknown field
		return []byte(s[:at] + `"zzUnknown":1,` + s[at:])
	case 2: // duplicate member
		return []byte(s[:valEnd] + "," + s[at:valEnd] + s[valEnd:])
	case 3:
		return []byte(s[:valStart] + "null" + s[valEnd:])
	case 4:
		return []byte(s[:valStart] + `"7"` + s[valEnd:])
	case 5:
		return []byte(s[:valStart] + []string{"7", "-1", "1.5", "1e2", "99999999999999999999"}[rng.Intn(5)] + s[valEnd:])
	case 6:
		return []byte(s[:valStart] + []string{"{}", "[]", `["a"]`, "true"}[rng.Intn(4)] + s[valEnd:])
	case 7: // the key with an escape
		if key != "" {
			return []byte(s[:at+1] + fmt.Sprintf(`\u%04x`, key[0]) + key[1:] + s[end:])
		}
	}
	return js
}

// valueEnd finds the end of the JSON value starting at i.
func valueEnd(s string, i int) int {
	depth, inStr := 0, false
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case inStr:
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					return j + 1
				}
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case c == ',' && depth == 0:
			return j
		}
	}
	return len(s)
}
