package xds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"
)

// The writer below prints a message's protojson form as YAML straight from
// the message, without the JSON text and the map of maps in between, which
// were most of the time of printing a big config dump. It spells every
// value exactly as protojson does and then as the JSON-to-YAML writer of
// yaml.go does; types it does not know by heart (the rarer well-known
// types, extensions) go through protojson, and a scalar it cannot spell
// like go-yaml sends the unit to go-yaml as before (errSlowPath).

// yamlEntry is one key of a mapping being written: a field of the message,
// or a key added by the caller (an Any's "@type", a hole).
type yamlEntry struct {
	key  string
	fd   protoreflect.FieldDescriptor
	v    protoreflect.Value
	str  string    // "@type"
	hole *yamlHole // a field written by other units
}

// fieldOrder is, for each message type, its fields' rank in go-yaml's key
// order, by field index.
var fieldOrder sync.Map // protoreflect.FullName → []int

func rankOf(md protoreflect.MessageDescriptor) []int {
	return rankBy(&fieldOrder, md, yamlKeyLess)
}

// rankBy is, for md, its fields' rank when their JSON names are ordered by
// less, by field index, remembered in cache.
func rankBy(cache *sync.Map, md protoreflect.MessageDescriptor, less func(a, b string) bool) []int {
	if r, ok := cache.Load(md.FullName()); ok {
		return r.([]int)
	}
	fds := md.Fields()
	idx := make([]int, fds.Len())
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		return less(fds.Get(idx[a]).JSONName(), fds.Get(idx[b]).JSONName())
	})
	rank := make([]int, fds.Len())
	for r, i := range idx {
		rank[i] = r
	}
	cache.Store(md.FullName(), rank)
	return rank
}

// entries are m's populated fields plus extra, in key order, appended to
// w.stack (the caller truncates it back). ok is false when m has a field
// protojson names differently (an extension).
func (w *yamlWriter) entries(m protoreflect.Message, extra []yamlEntry) (es []yamlEntry, start int, ok bool) {
	start = len(w.stack)
	if w.collect == nil {
		// One callback per writer: a closure per message was an
		// allocation per message written.
		w.collect = w.collectField
	}
	w.sawExtension = false
	m.Range(w.collect)
	if w.sawExtension {
		w.stack = w.stack[:start]
		return nil, start, false
	}
	w.stack = append(w.stack, extra...)
	es = w.stack[start:]
	if len(extra) > 0 {
		// Insertion sort: the keys are distinct, so any sort gives the
		// same order, and this one allocates nothing.
		for i := 1; i < len(es); i++ {
			for j := i; j > 0 && yamlKeyLess(es[j].key, es[j-1].key); j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
		return es, start, true
	}
	if len(es) > 1 {
		rank := rankOf(m.Descriptor())
		// Insertion sort: few fields, often nearly in order already.
		for i := 1; i < len(es); i++ {
			for j := i; j > 0 && rank[es[j].fd.Index()] < rank[es[j-1].fd.Index()]; j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
	}
	return es, start, true
}

// collectField is entries' Range callback.
func (w *yamlWriter) collectField(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	if fd.IsExtension() {
		w.sawExtension = true
		return false
	}
	w.stack = append(w.stack, yamlEntry{key: fd.JSONName(), fd: fd, v: v})
	return true
}

// msgValue writes m as value() writes its protojson object.
func (w *yamlWriter) msgValue(m protoreflect.Message, indent int, inMap bool, extra []yamlEntry) error {
	if len(extra) == 0 {
		if isWellKnown(m.Descriptor()) {
			return w.wellKnownValue(m, indent, inMap)
		}
		if ok, err := w.sharedMsgValue(m, indent, inMap); ok { // yaml_shared.go
			return err
		}
	}
	return w.msgFields(m, indent, inMap, extra)
}

// msgFields is msgValue for a message that is not a well-known type.
func (w *yamlWriter) msgFields(m protoreflect.Message, indent int, inMap bool, extra []yamlEntry) error {
	es, start, ok := w.entries(m, extra)
	if !ok {
		return w.viaJSON(m.Interface(), indent, inMap)
	}
	// es lives in w.stack: nested messages append after it.
	defer func() { w.stack = w.stack[:start] }()
	if len(es) == 0 {
		w.put(" {}")
		return nil
	}
	if inMap {
		w.newline(indent + 2)
	} else {
		w.put(" ")
	}
	return w.entryMapping(es, indent+2, true)
}

// topMsg writes m as top() writes its protojson object.
func (w *yamlWriter) topMsg(m protoreflect.Message, extra []yamlEntry) error {
	if len(extra) == 0 && isWellKnown(m.Descriptor()) {
		return w.viaJSONTop(m.Interface())
	}
	es, start, ok := w.entries(m, extra)
	if !ok {
		return w.viaJSONTop(m.Interface())
	}
	defer func() { w.stack = w.stack[:start] }()
	if len(es) == 0 {
		w.write("{}\n")
		return nil
	}
	if err := w.entryMapping(es, 0, false); err != nil {
		return err
	}
	w.buf.WriteByte('\n')
	return nil
}

// entryMapping is mapping() for entries.
func (w *yamlWriter) entryMapping(es []yamlEntry, indent int, inline bool) error {
	for i, e := range es {
		if i > 0 || !inline {
			if w.buf.Len() > 0 || len(w.parts) > 0 {
				w.newline(indent)
			}
		}
		if len(e.key) > maxSimpleKey {
			return errSlowPath
		}
		if err := w.str(e.key); err != nil {
			return err
		}
		w.put(":")
		var err error
		switch {
		case e.hole != nil:
			err = w.value(e.hole, indent, true)
		case e.fd == nil:
			w.put(" ")
			err = w.str(e.str)
		default:
			err = w.fieldValue(e.fd, e.v, indent)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fieldValue writes a populated field's value after "key:".
func (w *yamlWriter) fieldValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, indent int) error {
	switch {
	case fd.IsList():
		l := v.List()
		if l.Len() == 0 {
			w.put(" []")
			return nil
		}
		// go-yaml does not indent a sequence under its key.
		w.newline(indent)
		for i := 0; i < l.Len(); i++ {
			if i > 0 {
				w.newline(indent)
			}
			w.put("-")
			if err := w.singular(fd, l.Get(i), indent, false); err != nil {
				return err
			}
		}
		return nil
	case fd.IsMap():
		mp := v.Map()
		if mp.Len() == 0 {
			w.put(" {}")
			return nil
		}
		// The entries go on w.kvs, as entries go on w.stack: values
		// written below may push their own maps after them.
		start := len(w.kvs)
		if w.collectKV == nil {
			w.collectKV = w.collectMapEntry
		}
		mp.Range(w.collectKV)
		kvs := w.kvs[start:]
		defer func() {
			clear(w.kvs[start:])
			w.kvs = w.kvs[:start]
		}()
		sortMapEntries(kvs)
		w.newline(indent + 2)
		for i, e := range kvs {
			if i > 0 {
				w.newline(indent + 2)
			}
			if len(e.k) > maxSimpleKey {
				return errSlowPath
			}
			if err := w.str(e.k); err != nil {
				return err
			}
			w.put(":")
			if err := w.singular(fd.MapValue(), e.v, indent+2, true); err != nil {
				return err
			}
		}
		return nil
	}
	return w.singular(fd, v, indent, true)
}

// mapEntry is one entry of a map field being written.
type mapEntry struct {
	k string
	v protoreflect.Value
}

// collectMapEntry is fieldValue's map Range callback, bound once per writer.
func (w *yamlWriter) collectMapEntry(k protoreflect.MapKey, v protoreflect.Value) bool {
	w.kvs = append(w.kvs, mapEntry{k.String(), v})
	return true
}

// sortMapEntries puts kvs in go-yaml's key order. The keys are distinct and
// came in random order: they are put in byte order first, as sortYAMLKeys
// explains.
func sortMapEntries(kvs []mapEntry) {
	if len(kvs) < 2 {
		return
	}
	slices.SortFunc(kvs, func(a, b mapEntry) int { return strings.Compare(a.k, b.k) })
	if len(kvs) > 12 {
		sort.Slice(kvs, func(i, j int) bool { return yamlKeyLess(kvs[i].k, kvs[j].k) })
		return
	}
	for i := 1; i < len(kvs); i++ {
		for j := i; j > 0 && yamlKeyLess(kvs[j].k, kvs[j-1].k); j-- {
			kvs[j], kvs[j-1] = kvs[j-1], kvs[j]
		}
	}
}

// singular writes one value of fd's type after "key:" (inMap) or "-".
func (w *yamlWriter) singular(fd protoreflect.FieldDescriptor, v protoreflect.Value, indent int, inMap bool) error {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return w.msgValue(v.Message(), indent, inMap, nil)
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			w.put(" null")
			return nil
		}
		w.put(" ")
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return w.str(string(ev.Name()))
		}
		w.putInt(int64(v.Enum()))
		return nil
	}
	w.put(" ")
	if inMap && fd.Kind() == protoreflect.StringKind {
		if s := v.String(); strings.IndexByte(s, '\n') >= 0 {
			return w.literal(s, indent+2)
		}
	}
	return w.scalarKind(fd.Kind(), v)
}

// literal writes a map value holding line breaks as go-yaml does, a
// literal block ("|") with its lines at indent, for the common shape: lines
// of printable ASCII, the last ending the string, none empty, none with a
// space at either end. Anything else (a chomping or indentation indicator,
// empty lines, go-yaml falling back to a quoted string) goes to go-yaml.
// Without it one access-log format ("...%DURATION%\n") sent a whole
// listener to go-yaml — in a static bootstrap, with every route inline.
func (w *yamlWriter) literal(s string, indent int) error {
	n := len(s)
	if n < 2 || s[n-1] != '\n' || s[0] == ' ' || s[0] == '\n' {
		return errSlowPath
	}
	for i := 0; i < n-1; i++ {
		c := s[i]
		switch {
		case c == '\n':
			if s[i-1] == ' ' || s[i+1] == '\n' || s[i+1] == ' ' {
				return errSlowPath
			}
		case c < 0x20 || c >= 0x7f:
			return errSlowPath
		}
	}
	if s[n-2] == ' ' {
		return errSlowPath
	}
	w.put("|")
	for line := range strings.SplitSeq(s[:n-1], "\n") {
		w.newline(indent)
		w.write(line)
	}
	return nil
}

// scalarKind writes a scalar as protojson spells it, then as YAML.
func (w *yamlWriter) scalarKind(k protoreflect.Kind, v protoreflect.Value) error {
	switch k {
	case protoreflect.BoolKind:
		if v.Bool() {
			w.put("true")
		} else {
			w.put("false")
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		w.putInt(v.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		w.putUint(v.Uint())
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return w.str(strconv.FormatInt(v.Int(), 10)) // a JSON string
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return w.str(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind:
		return w.float(v.Float(), 32)
	case protoreflect.DoubleKind:
		return w.float(v.Float(), 64)
	case protoreflect.StringKind:
		return w.str(v.String())
	case protoreflect.BytesKind:
		return w.str(base64.StdEncoding.EncodeToString(v.Bytes()))
	default:
		return fmt.Errorf("xds: yaml: unexpected kind %v", k)
	}
	return nil
}

// float spells n as protojson does, then as scalar() spells a JSON number.
func (w *yamlWriter) float(n float64, bits int) error {
	switch {
	case math.IsNaN(n):
		return w.str("NaN")
	case math.IsInf(n, 1):
		return w.str("Infinity")
	case math.IsInf(n, -1):
		return w.str("-Infinity")
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	s := strconv.FormatFloat(n, format, -1, bits)
	if format == 'e' {
		if l := len(s); l >= 4 && s[l-4] == 'e' && s[l-3] == '-' && s[l-2] == '0' {
			s = s[:l-2] + s[l-1:]
		}
	}
	return w.scalar(json.Number(s))
}

// durationText is protojson's spelling of a valid Duration, its sign
// taken out: seconds, then 0, 3, 6 or 9 digits of fraction, then "s".
func durationText(sign string, secs, nanos int64) string {
	var b [48]byte
	x := append(b[:0], sign...)
	x = strconv.AppendInt(x, secs, 10)
	var frac [9]byte
	for i := len(frac) - 1; i >= 0; i-- {
		frac[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	n := len(frac)
	for n > 0 && string(frac[n-3:n]) == "000" {
		n -= 3
	}
	if n > 0 {
		x = append(x, '.')
		x = append(x, frac[:n]...)
	}
	x = append(x, 's')
	return string(x)
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// wellKnownValue writes the well-known types common in Envoy
// configuration directly, the others through protojson.
func (w *yamlWriter) wellKnownValue(m protoreflect.Message, indent int, inMap bool) error {
	md := m.Descriptor()
	switch md.Name() {
	case "Duration":
		fds := md.Fields()
		secs, nanos := m.Get(fds.ByNumber(1)).Int(), m.Get(fds.ByNumber(2)).Int()
		if secs < -315576000000 || secs > 315576000000 || nanos <= -1e9 || nanos >= 1e9 ||
			(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
			return w.viaJSON(m.Interface(), indent, inMap) // protojson's error
		}
		sign := ""
		if secs < 0 || nanos < 0 {
			sign, secs, nanos = "-", -secs, -nanos
		}
		w.put(" ")
		return w.str(durationText(sign, secs, nanos))
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "FloatValue", "DoubleValue", "StringValue", "BytesValue":
		fd := md.Fields().ByNumber(1)
		w.put(" ")
		return w.scalarKind(fd.Kind(), m.Get(fd))
	case "Any":
		fds := md.Fields()
		url := m.Get(fds.ByNumber(1)).String()
		if p := w.anys.lookup(m.Interface()); p != nil && !isWellKnown(p.msg.ProtoReflect().Descriptor()) {
			return w.msgValue(p.msg.ProtoReflect(), indent, inMap, []yamlEntry{{key: "@type", str: url}})
		}
		if url == "" {
			return w.viaJSON(m.Interface(), indent, inMap)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
		if err != nil || isWellKnown(mt.Descriptor()) {
			return w.viaJSON(m.Interface(), indent, inMap)
		}
		// The same Any (pointer) met again, by any writer of this render,
		// is copied (yaml_shared.go); so is one with the same bytes met
		// before by this writer.
		sk := msgTextKey{msg: m.Interface(), indent: indent, inMap: inMap}
		t, hit, again := w.texts.get(sk)
		if hit {
			w.paste(t)
			return nil
		}
		value := m.Get(fds.ByNumber(2)).Bytes()
		key := anyTextKey{url: url, value: string(value), indent: indent, inMap: inMap}
		if t, ok := w.anyText[key]; ok {
			w.paste(t)
			if again {
				w.texts.put(sk, t)
			}
			return nil
		}
		inner := mt.New()
		if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(value, inner.Interface()); err != nil {
			return w.viaJSON(m.Interface(), indent, inMap)
		}
		start, holes := w.buf.Len(), len(w.holes)
		if err := w.msgValue(inner, indent, inMap, []yamlEntry{{key: "@type", str: url}}); err != nil {
			return err
		}
		if t, ok := w.textSince(start, holes); ok {
			if w.anyText == nil {
				w.anyText = map[anyTextKey]anyText{}
			}
			w.anyText[key] = t
			if again {
				w.texts.put(sk, t)
			}
		}
		return nil
	case "Struct":
		return w.structValue(m, indent, inMap)
	}
	return w.viaJSON(m.Interface(), indent, inMap)
}

// structValue writes a google.protobuf.Struct: a mapping of Values. The
// generated Go types are used directly: metadata is on every route and
// cluster, and reflection over its maps was a tenth of the writing time.
func (w *yamlWriter) structValue(m protoreflect.Message, indent int, inMap bool) error {
	st, ok := m.Interface().(*structpb.Struct)
	if !ok {
		return w.viaJSON(m.Interface(), indent, inMap)
	}
	return w.structFields(st, indent, inMap)
}

func (w *yamlWriter) structFields(st *structpb.Struct, indent int, inMap bool) error {
	if len(st.GetFields()) == 0 {
		w.put(" {}")
		return nil
	}
	// The keys go on w.keys, which nested Structs extend and cut back.
	start := len(w.keys)
	for k := range st.GetFields() {
		w.keys = append(w.keys, k)
	}
	keys := w.keys[start:]
	defer func() {
		clear(w.keys[start:])
		w.keys = w.keys[:start]
	}()
	sortStructKeys(keys)
	if inMap {
		w.newline(indent + 2)
	} else {
		w.put(" ")
	}
	for i, k := range keys {
		if i > 0 {
			w.newline(indent + 2)
		}
		if len(k) > maxSimpleKey {
			return errSlowPath
		}
		if err := w.str(k); err != nil {
			return err
		}
		w.put(":")
		if err := w.knownValue(st.GetFields()[k], indent+2, true); err != nil {
			return err
		}
	}
	return nil
}

// sortStructKeys is sortYAMLKeys without its allocations for the few keys
// a Struct usually has.
func sortStructKeys(keys []string) {
	if len(keys) > 12 {
		sortYAMLKeys(keys)
		return
	}
	slices.Sort(keys)
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && yamlKeyLess(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

// knownValue writes a google.protobuf.Value.
func (w *yamlWriter) knownValue(v *structpb.Value, indent int, inMap bool) error {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		w.put(" null")
		return nil
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return w.viaJSON(v, indent, inMap) // protojson's error
		}
		w.put(" ")
		return w.float(k.NumberValue, 64)
	case *structpb.Value_StringValue:
		w.put(" ")
		return w.str(k.StringValue)
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			w.put(" true")
		} else {
			w.put(" false")
		}
		return nil
	case *structpb.Value_StructValue:
		return w.structFields(k.StructValue, indent, inMap)
	case *structpb.Value_ListValue:
		l := k.ListValue.GetValues()
		if len(l) == 0 {
			w.put(" []")
			return nil
		}
		if inMap {
			w.newline(indent) // go-yaml does not indent a sequence under its key
		} else {
			w.put(" ")
			indent += 2
		}
		for i, item := range l {
			if i > 0 {
				w.newline(indent)
			}
			w.put("-")
			if err := w.knownValue(item, indent, false); err != nil {
				return err
			}
		}
		return nil
	}
	return w.viaJSON(v, indent, inMap) // no kind: protojson's error
}

// viaJSON writes m's protojson text through the JSON-to-YAML writer.
func (w *yamlWriter) viaJSON(m proto.Message, indent int, inMap bool) error {
	v, err := protojsonTree(m)
	if err != nil {
		return err
	}
	return w.value(v, indent, inMap)
}

func (w *yamlWriter) viaJSONTop(m proto.Message) error {
	v, err := protojsonTree(m)
	if err != nil {
		return err
	}
	return w.top(v)
}

func protojsonTree(m proto.Message) (any, error) {
	raw, err := protojson.MarshalOptions{}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("xds: marshal %T: %w", m, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Per-route filter configurations are shared: one Any (the same bytes)
// on every route a policy covers. Its text at a given indent is the same
// each time, so a writer renders it once and copies it after; decoding and
// walking it 10,000 times was most of the output time of a policy-wide
// configuration.
type anyTextKey struct {
	url, value string
	indent     int
	inMap      bool
}

type anyText struct {
	text []byte
	col  int
}

// textSince is the text written since start, kept (copied) when it does
// not depend on where it began: it starts on a line of its own (so the
// column it began at plays no part) and no hole was cut in it.
func (w *yamlWriter) textSince(start, holes int) (anyText, bool) {
	if len(w.holes) != holes || w.buf.Len() < start {
		return anyText{}, false
	}
	text := w.buf.Bytes()[start:]
	if len(text) == 0 || text[0] != '\n' {
		return anyText{}, false // its first line continues the key's: it depends on the column
	}
	return anyText{text: bytes.Clone(text), col: w.col}, true
}

// paste writes text kept by textSince.
func (w *yamlWriter) paste(t anyText) {
	w.buf.Write(t.text)
	w.col = t.col
}
