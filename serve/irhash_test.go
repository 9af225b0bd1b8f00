package serve

import (
	"reflect"
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

// fill sets every field under v to a non-zero value (one element per
// list), to depth levels of pointers and lists, and returns a setter per
// leaf that changes it to another value.
func fill(v reflect.Value, path string, depth int, leaves *[]leaf) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), path+"."+v.Type().Field(i).Name, depth, leaves)
		}
	case reflect.Pointer:
		if depth == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		*leaves = append(*leaves, leaf{path + " (nil)", func() func() {
			old := v.Interface()
			v.SetZero()
			return func() { v.Set(reflect.ValueOf(old)) }
		}})
		fill(v.Elem(), path, depth-1, leaves)
	case reflect.Slice:
		if depth == 0 {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		*leaves = append(*leaves, leaf{path + " (length)", func() func() {
			old := v.Interface()
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			reflect.Copy(v, reflect.ValueOf(old))
			return func() { v.Set(reflect.ValueOf(old)) }
		}})
		fill(v.Index(0), path+"[0]", depth-1, leaves)
	case reflect.String:
		v.SetString("a")
		*leaves = append(*leaves, leaf{path, func() func() { v.SetString("b"); return func() { v.SetString("a") } }})
	case reflect.Bool:
		v.SetBool(true)
		*leaves = append(*leaves, leaf{path, func() func() { v.SetBool(false); return func() { v.SetBool(true) } }})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
		*leaves = append(*leaves, leaf{path, func() func() { v.SetInt(2); return func() { v.SetInt(1) } }})
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
		*leaves = append(*leaves, leaf{path, func() func() { v.SetUint(2); return func() { v.SetUint(1) } }})
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
		*leaves = append(*leaves, leaf{path, func() func() { v.SetFloat(2); return func() { v.SetFloat(1) } }})
	}
}

type leaf struct {
	path   string
	change func() (undo func())
}

// Every field of the IR counts in a virtual host's fingerprint, and in the
// frame every field but the virtual hosts' contents: a change that the
// fingerprint does not see would let serve reuse stale bytes.
func TestFingerprintSeesEveryField(t *testing.T) {
	t.Parallel()
	p := &ir.Proxy{}
	var leaves []leaf
	fill(reflect.ValueOf(p).Elem(), "Proxy", 12, &leaves)
	var paths []string
	for _, l := range leaves {
		paths = append(paths, l.path)
	}
	all := strings.Join(paths, "\n")
	for _, deep := range []string{".VirtualHosts[0].Routes[0].Destination.Backends[0].Endpoints[0].Host", ".TCP[0]", ".Settings"} {
		if !strings.Contains(all, deep) {
			t.Fatalf("the filled IR does not reach %s (%d fields)", deep, len(leaves))
		}
	}
	h := newHasher()
	full := func() fingerprint { return fingerprintOf(h, fullPlans, p) }
	frame := func() fingerprint { return fingerprintOf(h, framePlans, p) }
	wholeBefore, frameBefore := full(), frame()
	if !wholeBefore.ok || !frameBefore.ok {
		t.Fatal("the IR holds something a fingerprint cannot cover")
	}
	for _, l := range leaves {
		undo := l.change()
		w, f := full(), frame()
		undo()
		if w == wholeBefore {
			t.Errorf("changing %s does not change the fingerprint", l.path)
		}
		inVirtualHosts := strings.Contains(l.path, ".VirtualHosts")
		if inVirtualHosts && f != frameBefore {
			t.Errorf("changing %s changes the frame, which leaves out the virtual hosts", l.path)
		}
		if !inVirtualHosts && f == frameBefore {
			t.Errorf("changing %s does not change the frame", l.path)
		}
	}
	if full() != wholeBefore {
		t.Error("undoing every change does not give the first fingerprint back")
	}
	// Strings are delimited: moving a byte from one to the next shows.
	a := &ir.VirtualHost{Name: "ab", Domains: []string{"c"}}
	b := &ir.VirtualHost{Name: "a", Domains: []string{"bc"}}
	if fingerprintOf(h, fullPlans, a) == fingerprintOf(h, fullPlans, b) {
		t.Error("fingerprints do not delimit strings")
	}
}
