package xds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// The JSON output of a config dump is what Envoy Gateway's egctl prints:
// protojson of the dump, read back into Go maps and written by
// encoding/json — compact, every object's keys in byte order, HTML
// characters escaped. jsonWriter writes those bytes straight from the
// messages, with no protojson text, no maps and no re-encoding in between,
// which made JSON a third slower than YAML and three times its memory.
// Every value is spelled as protojson spells it and then as encoding/json
// re-spells it; well-known types it does not know by heart go through
// exactly that round trip (jsonViaProtojson).

type jsonWriter struct {
	buf []byte
	// anys holds the messages of stand-in Anys (dumpview.go).
	anys *anyIndex
	// cut, when set, is called for a stand-in Any of a resource instead
	// of writing it: WriteJSON writes resources in parallel.
	cut func(a *anypb.Any, p *packedAny)
	// anyText is the text of packed Anys already written, by type URL and
	// bytes: a per-route filter configuration is one Any on thousands of
	// routes.
	anyText map[anyKey][]byte
	// msgText is the text of Anys and of messages of the shared types
	// (yaml_shared.go) already written, by pointer: finding a shared Any
	// by pointer spares copying and hashing its bytes for the key.
	msgText map[proto.Message][]byte
	// stack holds the entries of the messages being written.
	stack []jsonEntry
}

type anyKey struct{ url, value string }

// jsonEntry is one key of an object being written: a field, or "@type".
type jsonEntry struct {
	key string
	fd  protoreflect.FieldDescriptor
	v   protoreflect.Value
}

// jsonFieldOrder is, per message type, its fields' rank in byte order of
// their JSON names, by field index.
var jsonFieldOrder sync.Map // protoreflect.FullName → []int

func jsonRankOf(md protoreflect.MessageDescriptor) []int {
	return rankBy(&jsonFieldOrder, md, func(a, b string) bool { return a < b })
}

// message writes m's protojson object; typeURL, when set, is its "@type".
func (w *jsonWriter) message(m protoreflect.Message, typeURL string) error {
	md := m.Descriptor()
	if typeURL == "" && sharedMessageTypes[md] {
		// Built once and shared by every route or cluster of a policy
		// (yaml_shared.go): written once per writer.
		key := m.Interface()
		if t, ok := w.msgText[key]; ok {
			w.buf = append(w.buf, t...)
			return nil
		}
		start := len(w.buf)
		if err := w.fields(m, md, typeURL); err != nil {
			return err
		}
		w.rememberMsg(key, bytes.Clone(w.buf[start:]))
		return nil
	}
	return w.fields(m, md, typeURL)
}

// fields is message, written.
func (w *jsonWriter) fields(m protoreflect.Message, md protoreflect.MessageDescriptor, typeURL string) error {
	if isWellKnown(md) {
		if typeURL != "" {
			// protojson writes a packed well-known type as its JSON
			// under "value".
			w.buf = append(w.buf, `{"@type":`...)
			w.str(typeURL)
			w.buf = append(w.buf, `,"value":`...)
			if err := w.wellKnown(m); err != nil {
				return err
			}
			w.buf = append(w.buf, '}')
			return nil
		}
		return w.wellKnown(m)
	}
	start := len(w.stack)
	defer func() { w.stack = w.stack[:start] }()
	ext := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() {
			ext = true
			return false
		}
		w.stack = append(w.stack, jsonEntry{key: fd.JSONName(), fd: fd, v: v})
		return true
	})
	if ext {
		// protojson names extensions "[full.name]"; rare enough for
		// the round trip.
		return w.viaProtojson(m.Interface(), typeURL)
	}
	es := w.stack[start:]
	rank := jsonRankOf(md)
	// Insertion sort: few fields, often nearly in order already.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && rank[es[j].fd.Index()] < rank[es[j-1].fd.Index()]; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	w.buf = append(w.buf, '{')
	if typeURL != "" {
		// "@" sorts before every JSON name protoc gives a field.
		w.buf = append(w.buf, `"@type":`...)
		w.str(typeURL)
		if len(es) > 0 {
			w.buf = append(w.buf, ',')
		}
	}
	for i := range es {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		e := es[i]
		w.str(e.key)
		w.buf = append(w.buf, ':')
		if err := w.field(e.fd, e.v); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *jsonWriter) field(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch {
	case fd.IsList():
		l := v.List()
		w.buf = append(w.buf, '[')
		for i := 0; i < l.Len(); i++ {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.singular(fd, l.Get(i)); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
		return nil
	case fd.IsMap():
		mp := v.Map()
		type kv struct {
			k string
			v protoreflect.Value
		}
		kvs := make([]kv, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			kvs = append(kvs, kv{k.String(), v})
			return true
		})
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		w.buf = append(w.buf, '{')
		for i, e := range kvs {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.str(e.k)
			w.buf = append(w.buf, ':')
			if err := w.singular(fd.MapValue(), e.v); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
		return nil
	}
	return w.singular(fd, v)
}

func (w *jsonWriter) singular(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return w.message(v.Message(), "")
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			w.str(string(ev.Name()))
			return nil
		}
		w.buf = strconv.AppendInt(w.buf, int64(v.Enum()), 10)
		return nil
	}
	return w.scalar(fd.Kind(), v)
}

func (w *jsonWriter) scalar(k protoreflect.Kind, v protoreflect.Value) error {
	switch k {
	case protoreflect.BoolKind:
		w.buf = strconv.AppendBool(w.buf, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		w.buf = strconv.AppendInt(w.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		w.buf = strconv.AppendUint(w.buf, v.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		w.buf = append(w.buf, '"')
		w.buf = strconv.AppendInt(w.buf, v.Int(), 10)
		w.buf = append(w.buf, '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		w.buf = append(w.buf, '"')
		w.buf = strconv.AppendUint(w.buf, v.Uint(), 10)
		w.buf = append(w.buf, '"')
	case protoreflect.FloatKind:
		w.float(v.Float(), 32)
	case protoreflect.DoubleKind:
		w.float(v.Float(), 64)
	case protoreflect.StringKind:
		s := v.String()
		if !utf8.ValidString(s) {
			return fmt.Errorf("xds: json: field holds invalid UTF-8: %.40q", s)
		}
		w.str(s)
	case protoreflect.BytesKind:
		w.buf = append(w.buf, '"')
		w.buf = base64.StdEncoding.AppendEncode(w.buf, v.Bytes())
		w.buf = append(w.buf, '"')
	default:
		return fmt.Errorf("xds: json: unexpected kind %v", k)
	}
	return nil
}

// float spells n as protojson does; encoding/json, reading the number
// back as a float64 and writing it again, spells it the same way.
func (w *jsonWriter) float(n float64, bits int) {
	switch {
	case math.IsNaN(n):
		w.buf = append(w.buf, `"NaN"`...)
		return
	case math.IsInf(n, 1):
		w.buf = append(w.buf, `"Infinity"`...)
		return
	case math.IsInf(n, -1):
		w.buf = append(w.buf, `"-Infinity"`...)
		return
	}
	if bits == 32 {
		// encoding/json writes the float64 parsed from protojson's
		// shortest float32 text: its own shortest text for that float64.
		n, _ = strconv.ParseFloat(strconv.FormatFloat(n, 'g', -1, 32), 64)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(w.buf)
	w.buf = strconv.AppendFloat(w.buf, n, format, -1, 64)
	if format == 'e' {
		// "1e-07" is written "1e-7", as encoding/json writes it.
		b := w.buf[start:]
		if l := len(b); l >= 4 && b[l-4] == 'e' && b[l-3] == '-' && b[l-2] == '0' {
			b[l-2] = b[l-1]
			w.buf = w.buf[:len(w.buf)-1]
		}
	}
}

const hexDigits = "0123456789abcdef"

// str writes s as encoding/json writes a string, HTML characters escaped.
// s is valid UTF-8 (checked where it can come from a message).
func (w *jsonWriter) str(s string) {
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			w.buf = append(w.buf, s[start:i]...)
			switch c {
			case '"', '\\':
				w.buf = append(w.buf, '\\', c)
			case '\b':
				w.buf = append(w.buf, '\\', 'b')
			case '\f':
				w.buf = append(w.buf, '\\', 'f')
			case '\n':
				w.buf = append(w.buf, '\\', 'n')
			case '\r':
				w.buf = append(w.buf, '\\', 'r')
			case '\t':
				w.buf = append(w.buf, '\\', 't')
			default:
				w.buf = append(w.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			w.buf = append(w.buf, s[start:i]...)
			w.buf = append(w.buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
}

// wellKnown writes the well-known types common in Envoy configuration
// directly, the others through protojson.
func (w *jsonWriter) wellKnown(m protoreflect.Message) error {
	md := m.Descriptor()
	switch md.Name() {
	case "Duration":
		fds := md.Fields()
		secs, nanos := m.Get(fds.ByNumber(1)).Int(), m.Get(fds.ByNumber(2)).Int()
		if secs < -315576000000 || secs > 315576000000 || nanos <= -1e9 || nanos >= 1e9 ||
			(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
			return w.viaProtojson(m.Interface(), "") // protojson's error
		}
		sign := ""
		if secs < 0 || nanos < 0 {
			sign, secs, nanos = "-", -secs, -nanos
		}
		w.str(durationText(sign, secs, nanos))
		return nil
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "FloatValue", "DoubleValue", "StringValue", "BytesValue":
		fd := md.Fields().ByNumber(1)
		return w.scalar(fd.Kind(), m.Get(fd))
	case "Any":
		return w.any(m)
	case "Struct":
		st, ok := m.Interface().(*structpb.Struct)
		if !ok {
			return w.viaProtojson(m.Interface(), "")
		}
		return w.structFields(st)
	case "Value":
		v, ok := m.Interface().(*structpb.Value)
		if !ok {
			return w.viaProtojson(m.Interface(), "")
		}
		return w.knownValue(v)
	}
	return w.viaProtojson(m.Interface(), "")
}

// any writes an Any: a stand-in's message (or a cut where the caller writes
// it), or the packed message decoded.
func (w *jsonWriter) any(m protoreflect.Message) error {
	a, _ := m.Interface().(*anypb.Any)
	if p := w.anys.lookup(a); p != nil {
		md := p.msg.ProtoReflect().Descriptor()
		if w.cut != nil && !isAdminMessage(md) && !isWellKnown(md) {
			w.cut(a, p)
			return nil
		}
		return w.message(p.msg.ProtoReflect(), a.GetTypeUrl())
	}
	if t, ok := w.msgText[a]; ok && a != nil {
		w.buf = append(w.buf, t...)
		return nil
	}
	fds := m.Descriptor().Fields()
	url := m.Get(fds.ByNumber(1)).String()
	value := m.Get(fds.ByNumber(2)).Bytes()
	if url == "" {
		return w.viaProtojson(m.Interface(), "")
	}
	key := anyKey{url: url, value: string(value)}
	if t, ok := w.anyText[key]; ok {
		w.buf = append(w.buf, t...)
		if a != nil {
			w.rememberMsg(a, t)
		}
		return nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		return w.viaProtojson(m.Interface(), "") // protojson's error
	}
	inner := mt.New()
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(value, inner.Interface()); err != nil {
		return w.viaProtojson(m.Interface(), "")
	}
	start := len(w.buf)
	if err := w.message(inner, url); err != nil {
		return err
	}
	if w.anyText == nil {
		w.anyText = map[anyKey][]byte{}
	}
	t := bytes.Clone(w.buf[start:])
	w.anyText[key] = t
	if a != nil {
		w.rememberMsg(a, t)
	}
	return nil
}

// rememberMsg keeps t as the text of m, a non-nil message.
func (w *jsonWriter) rememberMsg(m proto.Message, t []byte) {
	if w.msgText == nil {
		w.msgText = map[proto.Message][]byte{}
	}
	w.msgText[m] = t
}

func (w *jsonWriter) structFields(st *structpb.Struct) error {
	keys := make([]string, 0, len(st.GetFields()))
	for k := range st.GetFields() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.buf = append(w.buf, '{')
	for i, k := range keys {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if !utf8.ValidString(k) {
			return fmt.Errorf("xds: json: Struct key holds invalid UTF-8: %.40q", k)
		}
		w.str(k)
		w.buf = append(w.buf, ':')
		if err := w.knownValue(st.GetFields()[k]); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *jsonWriter) knownValue(v *structpb.Value) error {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		w.buf = append(w.buf, "null"...)
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return w.viaProtojson(v, "") // protojson's error
		}
		w.float(k.NumberValue, 64)
	case *structpb.Value_StringValue:
		if !utf8.ValidString(k.StringValue) {
			return fmt.Errorf("xds: json: Struct value holds invalid UTF-8: %.40q", k.StringValue)
		}
		w.str(k.StringValue)
	case *structpb.Value_BoolValue:
		w.buf = strconv.AppendBool(w.buf, k.BoolValue)
	case *structpb.Value_StructValue:
		return w.structFields(k.StructValue)
	case *structpb.Value_ListValue:
		w.buf = append(w.buf, '[')
		for i, item := range k.ListValue.GetValues() {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.knownValue(item); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	default:
		return w.viaProtojson(v, "") // no kind: protojson's error
	}
	return nil
}

// viaProtojson writes m (an Any of typeURL, when set) the way Envoy Gateway
// does: protojson, read into Go values and written by encoding/json. Its
// stand-in Anys are packed first, so protojson sees real ones.
func (w *jsonWriter) viaProtojson(m proto.Message, typeURL string) error {
	if typeURL != "" {
		a, err := anypb.New(m)
		if err != nil {
			return err
		}
		a.TypeUrl = typeURL
		m = a
	}
	real, err := w.anys.real(m)
	if err != nil {
		return err
	}
	raw, err := protojson.Marshal(real)
	if err != nil {
		return fmt.Errorf("xds: marshal %T: %w", m, err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, out...)
	return nil
}

// AppendJSON appends m's JSON as `egctl x translate -o json` prints a
// message: protojson's fields, keys in byte order, compact.
func AppendJSON(b []byte, m proto.Message) ([]byte, error) {
	w := &jsonWriter{buf: b}
	if err := w.message(m.ProtoReflect(), ""); err != nil {
		return nil, err
	}
	return w.buf, nil
}
