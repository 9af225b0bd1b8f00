package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// A config dump of 10,000 routes is one message of ~70 MB of YAML; written
// by one goroutine from one protojson document it was the slowest step of
// `egctl x translate`. So a big message is cut into units: every list of
// messages under a big message becomes one unit per element, every big
// message field (and the message inside a big Any) a unit of its own, down
// to units below splitSize. The units are written in parallel, straight
// from the messages (yaml_proto.go), each at the indent it has in the whole
// document, and their texts are joined in document order as they are
// ready. Every unit is written exactly as sigs.k8s.io/yaml.JSONToYAML would
// write the protojson form at that place; a unit with a scalar the fast
// writer cannot spell like go-yaml is handed to go-yaml (renderSlow).

// splitSize is the encoded size below which a message is one unit.
var splitSize = 16 << 10

// yamlHole stands in the tree of a unit for a field rendered by other units:
// one unit for a message field, one per element for a list.
type yamlHole struct {
	units []*yamlUnit
}

// yamlUnit is one message of the document, written as the value of a key
// (item false) or as an item of a sequence (item true) at indent: for a
// value, indent is the key's; for an item, the sequence's.
type yamlUnit struct {
	orig    proto.Message // the whole value, for the fallback
	msg     proto.Message // orig without the fields in holes (unpacked from orig if an Any)
	typeURL string        // orig is an Any whose content is msg
	indent  int
	item    bool
	top     bool // the document itself (indent 0, not a value)
	holes   map[string]*yamlHole
	// batch, when set, makes the unit a run of small sequence items (orig
	// and msg unused): one unit per item costs more than writing it.
	batch []proto.Message
	size  int // planning size of the messages written here, for the buffer

	parts [][]byte // text before each hole, in document order
	order []*yamlHole
	tail  []byte // text after the last hole
	err   error
	done  chan struct{} // closed when rendered; nil: nothing to wait for
	// lazy units are cut and rendered only when the writer reaches them, so
	// that one section of a dump at a time is held unpacked; the next one
	// is cut while the writer waits for this one (plan).
	lazy bool
	plan *yamlPlan
	// idx holds the messages of the stand-in Anys of a DumpView; nil for
	// a plain message.
	idx *anyIndex
}

// yamlPlan is a lazy unit, cut.
type yamlPlan struct {
	done  chan struct{}
	root  *yamlUnit
	units []*yamlUnit
}

// prefetch starts cutting lazy unit u, if not started yet.
func (u *yamlUnit) prefetch() {
	if !u.lazy || u.plan != nil {
		return
	}
	p := &yamlPlan{done: make(chan struct{})}
	u.plan = p
	orig := u.orig
	u.orig = nil
	go func() {
		defer close(p.done)
		p.root = planYAML(u.idx, orig, u.indent, u.item, false, 1, &p.units)
	}()
}

// planYAML cuts m into units, appending them to units in document order.
// At depth 0, the items of m's lists are left lazy.
func planYAML(idx *anyIndex, m proto.Message, indent int, item, top bool, depth int, units *[]*yamlUnit) *yamlUnit {
	u := &yamlUnit{orig: m, msg: m, indent: indent, item: item, top: top, done: make(chan struct{}), idx: idx}
	*units = append(*units, u)
	if u.size = idx.size(m); u.size < splitSize {
		return u
	}
	if a, ok := m.(*anypb.Any); ok {
		inner, ok := unpackAny(idx, a)
		if !ok {
			return u
		}
		u.msg, u.typeURL = inner, a.GetTypeUrl()
	} else if isWellKnown(m.ProtoReflect().Descriptor()) {
		return u // protojson's own spelling: not a mapping of its fields
	}
	keyIndent := indent + 2
	if top {
		keyIndent = 0
	}
	rm := u.msg.ProtoReflect()
	var split []protoreflect.FieldDescriptor
	rm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		var h *yamlHole
		if fd.IsList() {
			l := v.List()
			h = &yamlHole{}
			var batch *yamlUnit
			batchSize := 0
			for i := 0; i < l.Len(); i++ {
				e := l.Get(i).Message().Interface()
				if depth == 0 {
					h.units = append(h.units, &yamlUnit{orig: e, indent: keyIndent, item: true, lazy: true, idx: idx})
					continue
				}
				size := idx.size(e)
				if size >= splitSize {
					batch = nil
					h.units = append(h.units, planYAML(idx, e, keyIndent, true, false, depth+1, units))
					continue
				}
				if batch == nil || batchSize >= splitSize {
					batch = &yamlUnit{indent: keyIndent, item: true, done: make(chan struct{}), idx: idx}
					batchSize = 0
					*units = append(*units, batch)
					h.units = append(h.units, batch)
				}
				batch.batch = append(batch.batch, e)
				batchSize += size
				batch.size = batchSize
			}
		} else {
			sub := v.Message().Interface()
			if idx.size(sub) < splitSize {
				return true
			}
			h = &yamlHole{units: []*yamlUnit{planYAML(idx, sub, keyIndent, false, false, depth+1, units)}}
		}
		if u.holes == nil {
			u.holes = map[string]*yamlHole{}
		}
		u.holes[fd.JSONName()] = h
		split = append(split, fd)
		return true
	})
	if len(split) == 0 {
		return u
	}
	rest := rm.New()
	rm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		for _, s := range split {
			if s == fd {
				return true
			}
		}
		rest.Set(fd, v)
		return true
	})
	u.msg = rest.Interface()
	return u
}

// unpackAny opens an Any as protojson does, unless its content is one of
// protobuf's well-known types, which protojson prints differently. A
// stand-in Any of idx is not unpacked: its message is at hand.
func unpackAny(idx *anyIndex, a *anypb.Any) (proto.Message, bool) {
	if p := idx.lookup(a); p != nil {
		return p.msg, !isWellKnown(p.msg.ProtoReflect().Descriptor())
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(a.GetTypeUrl())
	if err != nil || isWellKnown(mt.Descriptor()) {
		return nil, false
	}
	m := mt.New().Interface()
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(a.GetValue(), m); err != nil {
		return nil, false
	}
	return m, true
}

// render writes u's own text; holes are left for its children.
func (u *yamlUnit) render(cache *quoteCache) {
	if u.batch != nil {
		u.tail, u.err = u.renderBatch(cache)
		return
	}
	u.err = u.renderFast(cache)
	if errors.Is(u.err, errSlowPath) {
		u.parts, u.order = nil, nil
		u.tail, u.err = u.renderSlow()
	}
}

func (u *yamlUnit) renderFast(cache *quoteCache) error {
	var extra []yamlEntry
	if u.typeURL != "" {
		extra = append(extra, yamlEntry{key: "@type", str: u.typeURL})
	}
	for k, h := range u.holes {
		extra = append(extra, yamlEntry{key: k, hole: h})
	}
	w := newUnitWriter(cache, u.idx, u.size)
	defer w.release()
	m := u.msg.ProtoReflect()
	var err error
	switch {
	case u.top:
		err = w.topMsg(m, extra)
	case u.item:
		w.newline(u.indent)
		w.write("-")
		err = w.msgValue(m, u.indent, false, extra)
	default:
		err = w.msgValue(m, u.indent, true, extra)
	}
	if err != nil {
		return err
	}
	u.parts, u.order, u.tail = w.parts, w.holes, w.buf.Bytes()
	return nil
}

// yamlTextPerByte is about how many bytes of YAML a byte of encoded
// message becomes; a unit's buffer starts at that size so that it is not
// regrown (and copied) as it fills.
const yamlTextPerByte = 4

// stackPool holds the entry stacks of finished writers.
var stackPool = sync.Pool{New: func() any { s := make([]yamlEntry, 0, 64); return &s }}

// newUnitWriter is a writer for a unit of about size encoded bytes.
func newUnitWriter(cache *quoteCache, idx *anyIndex, size int) *yamlWriter {
	w := &yamlWriter{shared: cache, anys: idx, texts: &cache.texts}
	if size > 0 && size < splitSize*4 {
		w.buf = *bytes.NewBuffer(getTextBuf(size * yamlTextPerByte))
	}
	w.stack = (*stackPool.Get().(*[]yamlEntry))[:0]
	return w
}

// release gives w's entry stack back; its text stays with the unit.
func (w *yamlWriter) release() {
	clear(w.stack[:cap(w.stack)]) // let go of the messages it pointed to
	s := w.stack[:0]
	w.stack = nil
	stackPool.Put(&s)
}

// renderBatch writes the items of a batch unit, each through go-yaml if it
// must be.
func (u *yamlUnit) renderBatch(cache *quoteCache) ([]byte, error) {
	w := newUnitWriter(cache, u.idx, u.size)
	defer w.release()
	for _, e := range u.batch {
		mark := w.buf.Len()
		w.newline(u.indent)
		w.write("-")
		err := w.msgValue(e.ProtoReflect(), u.indent, false, nil)
		if errors.Is(err, errSlowPath) {
			w.buf.Truncate(mark)
			one := &yamlUnit{orig: e, indent: u.indent, item: true, idx: u.idx}
			var y []byte
			if y, err = one.renderSlow(); err == nil {
				w.buf.Write(y)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	u.batch = nil
	return w.buf.Bytes(), nil
}

// renderSlow writes the whole of u (children included) with go-yaml: the
// value is nested under keys so that go-yaml puts it at u's indent, and the
// text after the innermost key is kept.
func (u *yamlUnit) renderSlow() ([]byte, error) {
	orig, err := u.idx.real(u.orig)
	if err != nil {
		return nil, fmt.Errorf("xds: pack %T: %w", u.orig, err)
	}
	raw, err := protojson.MarshalOptions{}.Marshal(orig)
	if err != nil {
		return nil, fmt.Errorf("xds: marshal %T: %w", u.orig, err)
	}
	if u.top {
		return yaml.JSONToYAML(raw)
	}
	var j bytes.Buffer
	levels := u.indent / 2
	for i := 0; i < levels; i++ {
		j.WriteString(`{"a":`)
	}
	j.WriteString(`{"k":`)
	if u.item {
		j.WriteByte('[')
	}
	j.Write(raw)
	if u.item {
		j.WriteByte(']')
	}
	j.WriteString(strings.Repeat("}", levels+1))
	y, err := yaml.JSONToYAML(j.Bytes())
	if err != nil {
		return nil, fmt.Errorf("xds: yaml %T: %w", u.orig, err)
	}
	prefix := strings.Repeat(" ", u.indent) + "k:"
	for i := 0; i < levels; i++ {
		nl := bytes.IndexByte(y, '\n')
		y = y[nl+1:]
	}
	if !bytes.HasPrefix(y, []byte(prefix)) || !bytes.HasSuffix(y, []byte("\n")) {
		return nil, fmt.Errorf("xds: yaml %T: unexpected go-yaml layout at indent %d: %.200q", u.orig, u.indent, y)
	}
	return y[len(prefix) : len(y)-1], nil
}

// renderUnits starts rendering units in parallel, in order; writeTo waits
// for each. Call the returned stop when done writing: it ends the work
// left when writing stopped early.
func renderUnits(units []*yamlUnit) (stop func()) {
	cache := &quoteCache{m: map[string]bool{}}
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(units) {
					return
				}
				if !stopped.Load() {
					units[i].render(cache)
				}
				close(units[i].done)
			}
		})
	}
	return func() {
		stopped.Store(true)
		wg.Wait()
	}
}

// writeTo writes u's text with its children's in their holes, as each is
// ready, and lets go of what is written.
func (u *yamlUnit) writeTo(w io.Writer) error {
	if u.lazy {
		u.prefetch()
		p := u.plan
		<-p.done
		u.plan = nil
		stop := renderUnits(p.units)
		err := p.root.writeTo(w)
		stop()
		return err
	}
	if u.done != nil {
		<-u.done
	}
	if u.err != nil {
		return u.err
	}
	for i, p := range u.parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
		units := u.order[i].units
		for j, c := range units {
			if j+1 < len(units) {
				units[j+1].prefetch()
			}
			if err := c.writeTo(w); err != nil {
				return err
			}
		}
	}
	_, err := w.Write(u.tail)
	// Written (an io.Writer keeps nothing it is given): the buffers can
	// take the next units' text (yaml_bufpool.go).
	for _, p := range u.parts {
		putTextBuf(p)
	}
	putTextBuf(u.tail)
	u.parts, u.order, u.tail, u.msg, u.orig, u.holes = nil, nil, nil, nil, nil, nil
	return err
}

// marshalYAML is Marshal(m, "yaml"), written in parallel.
func marshalYAML(m proto.Message) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteYAML(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteYAML writes Marshal(m, "yaml") to w as it is produced, without
// holding all of it.
func WriteYAML(w io.Writer, m proto.Message) error {
	var units []*yamlUnit
	root := planYAML(nil, m, 0, false, true, 0, &units)
	defer renderUnits(units)()
	return root.writeTo(w)
}

// WriteYAMLMessages writes the YAML document {key: {name: m, ...}} for the
// protojson form of the messages, with the bytes sigs.k8s.io/yaml.JSONToYAML
// would give for it, marshalling the messages in parallel. It is how
// `egctl x translate` prints a config dump per Gateway without building one
// document for all of them.
func WriteYAMLMessages(w io.Writer, key string, msgs map[string]proto.Message) error {
	return writeYAMLMessages(w, key, msgs, nil)
}

// writeYAMLMessages is WriteYAMLMessages; idx[name], if any, holds the
// messages of the stand-in Anys of msgs[name] (DumpView).
func writeYAMLMessages(w io.Writer, key string, msgs map[string]proto.Message, idx map[string]*anyIndex) error {
	names := make([]string, 0, len(msgs))
	for n := range msgs {
		names = append(names, n)
	}
	sortYAMLKeys(names)
	tree := make(map[string]any, len(msgs))
	for _, n := range names {
		tree[n] = &yamlHole{} // only to see whether the keys are simple
	}
	if err := (&yamlWriter{}).top(map[string]any{key: tree}); errors.Is(err, errSlowPath) {
		// A key go-yaml writes as a complex key ("? ..."), after which
		// values are not where the units expect them: rare, do it whole.
		return writeYAMLWhole(w, key, names, msgs, idx)
	}
	var units []*yamlUnit
	for _, n := range names {
		tree[n] = &yamlHole{units: []*yamlUnit{planYAML(idx[n], msgs[n], 2, false, false, 0, &units)}}
	}
	defer renderUnits(units)()
	top := &yamlWriter{}
	if err := top.top(map[string]any{key: tree}); err != nil {
		return err
	}
	root := &yamlUnit{parts: top.parts, order: top.holes, tail: top.buf.Bytes()}
	return root.writeTo(w)
}

// writeYAMLWhole is WriteYAMLMessages through one JSON document.
func writeYAMLWhole(w io.Writer, key string, names []string, msgs map[string]proto.Message, idx map[string]*anyIndex) error {
	byName := make(map[string]json.RawMessage, len(msgs))
	for _, n := range names {
		m, err := idx[n].real(msgs[n])
		if err != nil {
			return fmt.Errorf("xds: pack %T: %w", msgs[n], err)
		}
		raw, err := protojson.MarshalOptions{}.Marshal(m)
		if err != nil {
			return fmt.Errorf("xds: marshal %T: %w", msgs[n], err)
		}
		byName[n] = raw
	}
	doc, err := json.Marshal(map[string]any{key: byName})
	if err != nil {
		return err
	}
	y, err := yaml.JSONToYAML(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}

// JSONToYAML converts a JSON document to YAML with the bytes of
// sigs.k8s.io/yaml.JSONToYAML, faster for the documents egctl prints.
func JSONToYAML(j []byte) ([]byte, error) { return jsonToYAML(j) }
