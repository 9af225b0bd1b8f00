package ir

import (
	"reflect"
	"strings"
	"testing"
)

// fill sets every field reachable from v: strings to "ok", numbers to 1,
// one element in every slice and map, every pointer allocated (recursive
// types to a bounded depth).
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("ok")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth)
			}
		}
	}
}

// leaf is one string field of a filled Proxy.
type leaf struct {
	path string
	v    reflect.Value
	text bool
}

func leaves(v reflect.Value, path string, text bool, out *[]leaf) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, leaf{path, v, text})
	case reflect.Pointer:
		if !v.IsNil() {
			leaves(v.Elem(), path, text, out)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			leaves(v.Index(i), path+"[0]", text, out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			leaves(v.Field(i), p, f.Tag.Get("ir") == "text", out)
		}
	}
}

// TestNoControlCharacterReachesXDS sets, one at a time, every string field
// of an IR proxy with every field present (fields added later included) to
// values with control characters, and checks Validate reports that field.
func TestNoControlCharacterReachesXDS(t *testing.T) {
	p := &Proxy{}
	fill(reflect.ValueOf(p).Elem(), 0)
	if errs := p.validateText(); len(errs) != 0 {
		t.Fatalf("clean proxy: %v", errs)
	}
	var all []leaf
	leaves(reflect.ValueOf(p).Elem(), "", false, &all)
	if len(all) < 60 {
		t.Fatalf("only %d string fields found; the walk is broken", len(all))
	}
	texts := 0
	for _, l := range all {
		if l.text {
			texts++
		}
		for _, tc := range []struct {
			value    string
			refused  bool // in a single-line field
			inText   bool // in a text field
			contains string
		}{
			{"a\x00b", true, true, "control character U+0000 at byte 1"},
			{"a\r\nInjected: 1", true, false, "control character U+000D at byte 1"},
			{"a\nb", true, false, "U+000A"},
			{"a\tb", true, false, "U+0009"},
			{"a\x1bb", true, true, "U+001B"},
			{"a\x7fb", true, true, "U+007F"},
			{"a\u0085b", true, true, "U+0085"},
			{"a\xffb", true, true, "invalid UTF-8"},
			{"ünïcødé ok", false, false, ""},
		} {
			l.v.SetString(tc.value)
			errs := p.validateText()
			l.v.SetString("ok")
			want := tc.refused
			if l.text {
				want = tc.inText
			}
			if !want {
				if len(errs) != 0 {
					t.Errorf("%s = %q: unexpected %v", l.path, tc.value, errs)
				}
				continue
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), ": "+l.path+": ") || !strings.Contains(errs[0].Error(), tc.contains) {
				t.Errorf("%s = %q: got %v, want one error naming the field and %q", l.path, tc.value, errs, tc.contains)
			}
		}
	}
	if texts == 0 {
		t.Error("no text field found; the ir:\"text\" tags are not seen")
	}
	t.Logf("%d string fields checked, %d of them text", len(all), texts)
}

// TestValidateReportsControlCharacters: through the public entry point.
func TestValidateReportsControlCharacters(t *testing.T) {
	cfg := &Config{Proxies: []*Proxy{{Name: "default/eg", HTTP: []*HTTPListener{{
		Name: "default/eg/http", Address: "0.0.0.0", Port: 8080,
		VirtualHosts: []*VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*HTTPRoute{{
			Name:           "r",
			Match:          HTTPMatch{PathType: PathPrefix, Path: "/a\x00"},
			DirectResponse: &DirectResponse{StatusCode: 200, Body: "line one\nline two\n"},
		}}}},
	}}}}}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "proxy default/eg: HTTP[0].VirtualHosts[0].Routes[0].Match.Path: control character U+0000 at byte 2") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "Body") {
		t.Errorf("a multi-line response body was refused: %v", err)
	}
}
