package serve

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"reflect"
	"sort"
	"sync"
	"unsafe"

	"github.com/egctl/egctl/ir"
)

// The incremental recompile (incremental.go) decides what it may reuse
// from the previous compilation by fingerprints of the IR: a proxy's frame
// (everything but the contents of its virtual hosts) and each virtual host.
// The IR of 10,000 routes has about a million fields and is built afresh
// by every translation, so the fingerprint reads memory through offsets
// computed once per type (as ir/text.go's check does) instead of going
// through reflect.Value per field; maps and interfaces, which the IR does
// not use today, go through reflect. Every field is hashed, unexported ones
// too: what is not hashed could change unseen.
//
// The hash is maphash with one seed per process: fingerprints are only
// ever compared within one serve. The IR is a tree (ir/text.go walks it
// the same way): a pointer is followed, not remembered. A test fills every
// field of the IR and checks that changing any one changes the
// fingerprint.

var hashSeed = maphash.MakeSeed()

// hnode says how to hash a value of one type in memory.
type hnode struct {
	typ    reflect.Type
	kind   reflect.Kind
	fields []hfield // struct
	elem   *hnode   // pointer, slice, array
	size   uintptr  // element size for slices and arrays; value size for scalars
	length int      // array length
	// bad is set for kinds a fingerprint cannot cover (funcs, channels,
	// unsafe pointers): a value holding one is never reused.
	bad bool
}

type hfield struct {
	offset uintptr
	node   *hnode
}

// hplans caches the plans of one walk mode: full, or frame (which leaves
// out HTTPListener.VirtualHosts).
type hplans struct {
	mu    sync.Mutex
	nodes map[reflect.Type]*hnode
	skip  func(owner reflect.Type, f reflect.StructField) bool
}

var (
	fullPlans  = &hplans{nodes: map[reflect.Type]*hnode{}}
	framePlans = &hplans{nodes: map[reflect.Type]*hnode{}, skip: func(owner reflect.Type, f reflect.StructField) bool {
		return owner == reflect.TypeFor[ir.HTTPListener]() && f.Name == "VirtualHosts"
	}}
)

func (p *hplans) plan(t reflect.Type) *hnode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.build(t)
}

func (p *hplans) build(t reflect.Type) *hnode {
	if n, ok := p.nodes[t]; ok {
		return n
	}
	n := &hnode{typ: t, kind: t.Kind(), size: t.Size()}
	p.nodes[t] = n // before the fields: recursive types point back to it
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Type.Size() == 0 || (p.skip != nil && p.skip(t, f)) {
				continue
			}
			n.fields = append(n.fields, hfield{offset: f.Offset, node: p.build(f.Type)})
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		n.elem = p.build(t.Elem())
		n.size = t.Elem().Size()
		if t.Kind() == reflect.Array {
			n.length = t.Len()
		}
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		n.bad = true
	}
	return n
}

// hasher fingerprints IR values; one per goroutine.
type hasher struct {
	h   maphash.Hash
	buf [8]byte
	bad bool
}

func newHasher() *hasher {
	h := &hasher{}
	h.h.SetSeed(hashSeed)
	return h
}

func (h *hasher) u64(v uint64) {
	binary.LittleEndian.PutUint64(h.buf[:], v)
	h.h.Write(h.buf[:])
}

// sum fingerprints the value of type n at p, and resets h.
func (h *hasher) sum(n *hnode, p unsafe.Pointer) (uint64, bool) {
	h.h.Reset()
	h.bad = false
	h.walk(n, p)
	return h.h.Sum64(), !h.bad
}

func (h *hasher) walk(n *hnode, p unsafe.Pointer) {
	switch n.kind {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Complex64, reflect.Complex128:
		h.h.Write(unsafe.Slice((*byte)(p), n.size))
	case reflect.Float32:
		h.u64(uint64(math.Float32bits(*(*float32)(p))))
	case reflect.Float64:
		h.u64(math.Float64bits(*(*float64)(p)))
	case reflect.String:
		s := *(*string)(p)
		h.u64(uint64(len(s)))
		h.h.WriteString(s)
	case reflect.Struct:
		for _, f := range n.fields {
			h.walk(f.node, unsafe.Add(p, f.offset))
		}
	case reflect.Pointer:
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			h.h.WriteByte(0)
			return
		}
		h.h.WriteByte(1)
		h.walk(n.elem, q)
	case reflect.Slice:
		hdr := (*struct {
			data     unsafe.Pointer
			len, cap int
		})(p)
		h.u64(uint64(hdr.len))
		if n.elem.kind == reflect.Uint8 {
			h.h.Write(unsafe.Slice((*byte)(hdr.data), hdr.len))
			return
		}
		for i := 0; i < hdr.len; i++ {
			h.walk(n.elem, unsafe.Add(hdr.data, uintptr(i)*n.size))
		}
	case reflect.Array:
		for i := 0; i < n.length; i++ {
			h.walk(n.elem, unsafe.Add(p, uintptr(i)*n.size))
		}
	case reflect.Map, reflect.Interface:
		h.slow(reflect.NewAt(n.typ, p).Elem())
	default:
		h.bad = true
	}
}

// slow hashes maps (order-independently: entries sorted by their own
// fingerprint) and interfaces (dynamic type, then value) through reflect.
func (h *hasher) slow(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			h.h.WriteByte(0)
			return
		}
		e := v.Elem()
		h.h.WriteByte(1)
		h.h.WriteString(e.Type().PkgPath() + "." + e.Type().String())
		c := reflect.New(e.Type()).Elem()
		c.Set(e)
		h.walk(fullPlans.plan(e.Type()), c.Addr().UnsafePointer())
	case reflect.Map:
		if v.IsNil() {
			h.h.WriteByte(0)
			return
		}
		h.u64(uint64(v.Len()))
		kn, vn := fullPlans.plan(v.Type().Key()), fullPlans.plan(v.Type().Elem())
		sums := make([]uint64, 0, v.Len())
		sub := newHasher()
		it := v.MapRange()
		for it.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			sub.h.Reset()
			sub.walk(kn, k.Addr().UnsafePointer())
			sub.walk(vn, e.Addr().UnsafePointer())
			h.bad = h.bad || sub.bad
			sums = append(sums, sub.h.Sum64())
		}
		sort.Slice(sums, func(i, j int) bool { return sums[i] < sums[j] })
		for _, s := range sums {
			h.u64(s)
		}
	default:
		h.bad = true
	}
}

// fingerprint is a value's hash; ok false when it holds something a hash
// cannot cover (it is then never reused).
type fingerprint struct {
	sum uint64
	ok  bool
}

func fingerprintOf[T any](h *hasher, plans *hplans, v *T) fingerprint {
	s, ok := h.sum(plans.plan(reflect.TypeFor[*T]()), unsafe.Pointer(&v))
	return fingerprint{s, ok}
}
