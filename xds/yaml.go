package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	yamlv2 "go.yaml.in/yaml/v2"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// jsonToYAML converts JSON to YAML with the same bytes as
// sigs.k8s.io/yaml.JSONToYAML, but an order of magnitude faster: that
// function round-trips through reflection-heavy YAML code, which takes tens
// of seconds on a 50,000-route dump. The fast writer handles the scalars
// protojson produces; anything it is not sure to spell exactly like go-yaml
// (multi-line or non-ASCII strings, long strings with spaces that go-yaml
// would fold, very long keys) makes it hand the whole document to
// JSONToYAML instead.
func jsonToYAML(j []byte) ([]byte, error) {
	out, err := fastYAML(j)
	if errors.Is(err, errSlowPath) {
		return yaml.JSONToYAML(j)
	}
	return out, err
}

// fastYAML is the fast writer; errSlowPath means it cannot be sure of
// go-yaml's spelling for some scalar. The JSON is read by parseJSONTree,
// or by encoding/json where that steps aside (yaml_json.go).
func fastYAML(j []byte) ([]byte, error) {
	v, err := parseJSONTree(j)
	if err != nil {
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.UseNumber()
		v = nil
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	w := &yamlWriter{buf: bytes.Buffer{}}
	w.buf.Grow(len(j))
	if err := w.top(v); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

var errSlowPath = errors.New("scalar needs the general YAML emitter")

// foldWidth is go-yaml's preferred line width: past it, it breaks plain and
// single-quoted scalars at spaces.
const foldWidth = 80

// maxSimpleKey is the longest key go-yaml writes as "key: value".
const maxSimpleKey = 128

type yamlWriter struct {
	buf    bytes.Buffer
	col    int
	quoted map[string]string
	// shared, when set, replaces quoted: one cache for the writers that
	// render the parts of one document in parallel.
	shared *quoteCache
	// parts collects the output around holes (see marshal_parallel.go):
	// parts[i] is the text before holes[i].
	parts [][]byte
	holes []*yamlHole
	// stack holds the entries of the messages being written (yaml_proto.go).
	stack []yamlEntry
	// anys holds the messages of stand-in Anys (dumpview.go).
	anys *anyIndex
	// collect is collectField, bound once; sawExtension is its finding.
	collect      func(protoreflect.FieldDescriptor, protoreflect.Value) bool
	sawExtension bool
	// kvs and keys hold the entries of the maps and Structs being
	// written, as stack does for messages; collectKV is collectMapEntry.
	kvs       []mapEntry
	keys      []string
	collectKV func(protoreflect.MapKey, protoreflect.Value) bool
	// anyText holds the text of Anys already written (yaml_proto.go).
	anyText map[anyTextKey]anyText
	// msgText holds the text of shared messages (yaml_shared.go).
	msgText map[msgTextKey]anyText
	// texts, when set, holds the text of messages met more than once by
	// any of the writers of one render (yaml_shared.go).
	texts *textCache
}

// quoteCache remembers which strings go-yaml would quote; asking go-yaml
// is the slow part of writing scalars such as IP addresses.
type quoteCache struct {
	mu sync.Mutex
	m  map[string]bool
	// texts is shared by the same writers (yaml_shared.go).
	texts textCache
}

func (w *yamlWriter) write(s string) {
	w.buf.WriteString(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		w.col = len(s) - i - 1
	} else {
		w.col += len(s)
	}
}

// yamlSpaces is indentation, written in one piece.
const yamlSpaces = "                                                                " // 64

// put is write for text without a newline, the common case.
func (w *yamlWriter) put(s string) {
	w.buf.WriteString(s)
	w.col += len(s)
}

// putInt and putUint write a number without building a string for it.
func (w *yamlWriter) putInt(n int64) {
	b := strconv.AppendInt(w.buf.AvailableBuffer(), n, 10)
	w.buf.Write(b)
	w.col += len(b)
}

func (w *yamlWriter) putUint(n uint64) {
	b := strconv.AppendUint(w.buf.AvailableBuffer(), n, 10)
	w.buf.Write(b)
	w.col += len(b)
}

func (w *yamlWriter) newline(indent int) {
	w.buf.WriteByte('\n')
	for n := indent; n > 0; {
		k := min(n, len(yamlSpaces))
		w.buf.WriteString(yamlSpaces[:k])
		n -= k
	}
	w.col = indent
}

func (w *yamlWriter) top(v any) error {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			w.write("{}\n")
			return nil
		}
		if err := w.mapping(x, 0, false); err != nil {
			return err
		}
	case []yamlPair:
		if len(x) == 0 {
			w.write("{}\n")
			return nil
		}
		if err := w.pairs(x, 0, false); err != nil {
			return err
		}
	case []any:
		if len(x) == 0 {
			w.write("[]\n")
			return nil
		}
		if err := w.sequence(x, 0, false); err != nil {
			return err
		}
	default:
		if err := w.scalar(v); err != nil {
			return err
		}
	}
	w.buf.WriteByte('\n')
	return nil
}

// mapping writes m at indent; inline means the first key continues the
// current line (after "- ").
func (w *yamlWriter) mapping(m map[string]any, indent int, inline bool) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortYAMLKeys(keys)
	for i, k := range keys {
		if err := w.member(i, k, m[k], indent, inline); err != nil {
			return err
		}
	}
	return nil
}

// pairs is mapping for the members of a parsed JSON object (yaml_json.go),
// already in key order.
func (w *yamlWriter) pairs(ps []yamlPair, indent int, inline bool) error {
	for i, p := range ps {
		if err := w.member(i, p.key, p.val, indent, inline); err != nil {
			return err
		}
	}
	return nil
}

// member writes the i-th member of a mapping.
func (w *yamlWriter) member(i int, k string, v any, indent int, inline bool) error {
	if i > 0 || !inline {
		if w.buf.Len() > 0 || len(w.parts) > 0 {
			w.newline(indent)
		}
	}
	if len(k) > maxSimpleKey {
		return errSlowPath
	}
	if err := w.str(k); err != nil {
		return err
	}
	w.put(":")
	return w.value(v, indent, true)
}

func (w *yamlWriter) sequence(s []any, indent int, inline bool) error {
	for i, item := range s {
		if i > 0 || !inline {
			if w.buf.Len() > 0 || len(w.parts) > 0 {
				w.newline(indent)
			}
		}
		w.put("-")
		if err := w.value(item, indent, false); err != nil {
			return err
		}
	}
	return nil
}

// value writes what follows "key:" (inMap) or "-".
func (w *yamlWriter) value(v any, indent int, inMap bool) error {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			w.put(" {}")
			return nil
		}
		if inMap {
			w.newline(indent + 2)
			return w.mapping(x, indent+2, true)
		}
		w.put(" ")
		return w.mapping(x, indent+2, true)
	case []yamlPair:
		if len(x) == 0 {
			w.put(" {}")
			return nil
		}
		if inMap {
			w.newline(indent + 2)
			return w.pairs(x, indent+2, true)
		}
		w.put(" ")
		return w.pairs(x, indent+2, true)
	case []any:
		if len(x) == 0 {
			w.put(" []")
			return nil
		}
		if inMap {
			// go-yaml does not indent a sequence under its key.
			w.newline(indent)
			return w.sequence(x, indent, true)
		}
		w.put(" ")
		return w.sequence(x, indent+2, true)
	case *yamlHole:
		// Rendered elsewhere, at this indent: keep the place.
		w.parts = append(w.parts, w.buf.Bytes())
		w.holes = append(w.holes, x)
		w.buf = bytes.Buffer{}
		return nil
	default:
		w.put(" ")
		return w.scalar(v)
	}
}

func (w *yamlWriter) scalar(v any) error {
	switch x := v.(type) {
	case nil:
		w.put("null")
	case bool:
		if x {
			w.put("true")
		} else {
			w.put("false")
		}
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return errSlowPath
			}
			s = strconv.FormatFloat(f, 'g', -1, 64)
			switch s {
			case "+Inf":
				s = ".inf"
			case "-Inf":
				s = "-.inf"
			case "NaN":
				s = ".nan"
			}
		} else if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return errSlowPath
		}
		w.write(s)
	case string:
		return w.str(x)
	default:
		return errSlowPath
	}
	return nil
}

// base60Float is YAML 1.1's sexagesimal float ("1:20"); go-yaml quotes it.
var base60Float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// maybeBase60 is a cheap test that s could match base60Float, which needs
// a colon and starts with a sign or a digit.
func maybeBase60(s string) bool {
	return s != "" && (s[0] == '+' || s[0] == '-' || s[0] >= '0' && s[0] <= '9') && strings.IndexByte(s, ':') >= 0
}

// str writes a string the way go-yaml would: plain when that reads back as
// the same string, single-quoted when plain is not allowed by YAML syntax,
// double-quoted when plain would read back as another type.
func (w *yamlWriter) str(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return errSlowPath
		}
	}
	var out string
	switch {
	case s == "":
		out = `""`
	case !plainAllowed(s):
		// Such strings (indicators, ": ", leading spaces...) always
		// resolve as strings; only YAML syntax forbids them plain.
		out = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	case !w.readsAsString(s) || maybeBase60(s) && base60Float.MatchString(s):
		out = strconv.Quote(s) // ASCII printable: Go and YAML quoting agree
	default:
		out = s
	}
	if strings.IndexByte(s, ' ') >= 0 && w.col+len(out) > foldWidth {
		return errSlowPath
	}
	w.put(out) // no newline: control characters went to go-yaml above
	return nil
}

// readsAsString reports whether s written plain resolves to a string, by
// asking go-yaml for the few strings that could be something else.
func (w *yamlWriter) readsAsString(s string) bool {
	if s == "" {
		return false
	}
	if !strings.ContainsRune("+-.0123456789~nNyYtTfFoO<", rune(s[0])) {
		return true
	}
	if w.shared != nil {
		w.shared.mu.Lock()
		ok, known := w.shared.m[s]
		w.shared.mu.Unlock()
		if known {
			return ok
		}
		ok = yamlReadsAsString(s)
		w.shared.mu.Lock()
		w.shared.m[s] = ok
		w.shared.mu.Unlock()
		return ok
	}
	if r, ok := w.quoted[s]; ok {
		return r == ""
	}
	ok := yamlReadsAsString(s)
	if w.quoted == nil {
		w.quoted = map[string]string{}
	}
	if ok {
		w.quoted[s] = ""
	} else {
		w.quoted[s] = "q"
	}
	return ok
}

// yamlReadsAsString asks go-yaml whether s written plain reads back as s.
func yamlReadsAsString(s string) bool {
	var v any
	ok := yamlv2.Unmarshal([]byte(s), &v) == nil
	if ok {
		_, ok = v.(string)
	}
	if ok && s[0] >= '0' && s[0] <= '9' {
		// go-yaml hands timestamps to an interface{} as strings, yet
		// quotes them when writing: ask for a time explicitly.
		var tm time.Time
		ok = yamlv2.Unmarshal([]byte(s), &tm) != nil
	}
	return ok
}

// plainAllowed applies YAML's rules for plain scalars in block context.
func plainAllowed(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	blankAfter := func(i int) bool { return i+1 >= len(s) || s[i+1] == ' ' }
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':', '-':
		if blankAfter(0) {
			return false
		}
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case ':':
			if blankAfter(i) {
				return false
			}
		case '#':
			if s[i-1] == ' ' {
				return false
			}
		}
	}
	return true
}

// sortYAMLKeys puts keys in go-yaml's order. That order is not transitive
// (with digit runs compared by value and letters before digits,
// "d889c" < "d8f1" < "d384" < "d889c"), so its result depends on the order
// the keys come in, which for a map is random: go-yaml's own output varies
// from run to run for such keys (hex hashes, as in JWT requirement names).
// The keys are put in byte order first, so that the result is always the
// same, and one go-yaml can give.
func sortYAMLKeys(keys []string) {
	sort.Strings(keys)
	sort.Slice(keys, func(i, j int) bool { return yamlKeyLess(keys[i], keys[j]) })
}

// yamlKeyLess orders map keys as go-yaml does: runs of digits compare by
// value, letters sort before other characters. It is not a strict weak
// order (see sortYAMLKeys): sort keys in byte order before sorting by it.
func yamlKeyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return keyLess([]byte(a), []byte(b))
	}
	return keyLess([]rune(a), []rune(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func keyLess[T byte | rune](ar, br []T) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(rune(ar[i])), unicode.IsLetter(rune(br[i]))
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(rune(ar[j])); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(rune(ar[ai])); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(rune(br[bi])); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
