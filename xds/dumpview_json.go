package xds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Writing a view as JSON: protojson of the resources, in parallel, spliced
// into protojson of the admin messages around them. protojson prints an
// Any of a resource as the resource's own object with "@type" first, so a
// resource's text is the same wherever it sits. To find where each goes,
// the admin messages are printed with each stand-in Any replaced by an Any
// of a StringValue naming it (a "hole"): `{"@type":` cannot occur inside a
// JSON string, so the holes are found unambiguously. The admin messages,
// holes and all, are indented where they sit, and each hole, found in the
// indented text, is replaced by its resource indented at the hole's depth:
// what indenting the whole would give. The resources are printed and
// indented in parallel and written in order as they are ready.

// withType is protojson's object for an Any of url whose content prints
// as obj.
func withType(url string, obj []byte) ([]byte, error) {
	obj = bytes.TrimLeft(obj, " ")
	if len(obj) == 0 || obj[0] != '{' {
		return nil, fmt.Errorf("xds: json %s: not an object: %.40q", url, obj)
	}
	u, err := json.Marshal(url)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(obj)+len(u)+12)
	out = append(out, `{"@type":`...)
	out = append(out, u...)
	body := bytes.TrimLeft(obj[1:], " ")
	if len(body) > 0 && body[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body...), nil
}

// jsonSeg is a piece of the indented document: text, or a resource.
type jsonSeg struct {
	text   []byte
	p      *packedAny
	url    string
	prefix string
	out    []byte
	err    error
	done   chan struct{}
}

// WriteIndentedJSON writes json.Indent(protojson of v.Proto(), prefix,
// "  ") to w, HTML characters escaped as encoding/json escapes them: the
// form a dump has nested in `egctl x translate -o json` output.
func (v *DumpView) WriteIndentedJSON(w io.Writer, prefix string) error {
	var segs []*jsonSeg
	if err := v.anys.indentSegs(v.dump, prefix, &segs); err != nil {
		return err
	}
	var jobs []*jsonSeg
	for _, s := range segs {
		if s.p != nil {
			s.done = make(chan struct{})
			jobs = append(jobs, s)
		}
	}
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	defer func() {
		stopped.Store(true)
		wg.Wait()
	}()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if s := jobs[i]; !stopped.Load() {
					s.out, s.err = indentedResource(s.p.msg, s.url, s.prefix)
				}
				close(jobs[i].done)
			}
		})
	}
	for _, s := range segs {
		if s.p == nil {
			if _, err := w.Write(s.text); err != nil {
				return err
			}
			continue
		}
		<-s.done
		if s.err != nil {
			return s.err
		}
		if _, err := w.Write(s.out); err != nil {
			return err
		}
		s.out = nil
	}
	return nil
}

// indentedResource is the indented protojson of an Any of url holding m.
func indentedResource(m proto.Message, url, prefix string) ([]byte, error) {
	raw, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("xds: marshal %T: %w", m, err)
	}
	if raw, err = withType(url, raw); err != nil {
		return nil, err
	}
	return indentJSON(raw, prefix)
}

// indentJSON is json.Indent of js after json.HTMLEscape.
func indentJSON(js []byte, prefix string) ([]byte, error) {
	if bytes.ContainsAny(js, "<>&") || bytes.Contains(js, []byte("\u2028")) || bytes.Contains(js, []byte("\u2029")) {
		var escaped bytes.Buffer
		json.HTMLEscape(&escaped, js)
		js = escaped.Bytes()
	}
	var out bytes.Buffer
	out.Grow(len(js) + len(js)/2)
	if err := json.Indent(&out, js, prefix, "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// indentSegs appends the pieces of m, indented at prefix, to segs.
func (x *anyIndex) indentSegs(m proto.Message, prefix string, segs *[]*jsonSeg) error {
	var holes []*anypb.Any
	hole := func(a *anypb.Any, _ *packedAny) (proto.Message, error) {
		holes = append(holes, a)
		return anypb.New(wrapperspb.String("egctl-hole-" + strconv.Itoa(len(holes)-1)))
	}
	var raw []byte
	if p := x.lookup(m); p != nil {
		// An admin message in a stand-in (a section): its content, typed.
		withHoles, err := x.rebuild(p.msg, hole)
		if err != nil {
			return err
		}
		if raw, err = protojson.Marshal(withHoles); err != nil {
			return fmt.Errorf("xds: marshal %T: %w", p.msg, err)
		}
		if raw, err = withType(m.(*anypb.Any).GetTypeUrl(), raw); err != nil {
			return err
		}
	} else {
		withHoles, err := x.rebuild(m, hole)
		if err != nil {
			return err
		}
		if raw, err = protojson.Marshal(withHoles); err != nil {
			return fmt.Errorf("xds: marshal %T: %w", m, err)
		}
	}
	text, err := indentJSON(raw, prefix)
	if err != nil {
		return err
	}
	const open = `"@type": "type.googleapis.com/google.protobuf.StringValue",`
	const value = `"value": "egctl-hole-`
	for len(holes) > 0 {
		i := bytes.Index(text, []byte(open))
		if i < 0 {
			break
		}
		// The hole is `{` NL ind open NL ind value N `"` NL P `}`.
		start := bytes.LastIndexByte(text[:i], '{')
		rest := bytes.TrimLeft(text[i+len(open):], "\n ")
		if start < 0 || !bytes.HasPrefix(rest, []byte(value)) {
			return fmt.Errorf("xds: json %T: unexpected hole layout: %.80q", m, text[i:])
		}
		rest = rest[len(value):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return fmt.Errorf("xds: json %T: unexpected hole layout: %.80q", m, text[i:])
		}
		n, err := strconv.Atoi(string(rest[:end]))
		closeAt := bytes.IndexByte(rest[end:], '}')
		if err != nil || n >= len(holes) || closeAt < 0 || !bytes.HasPrefix(rest[end+1:], []byte("\n")) {
			return fmt.Errorf("xds: json %T: unexpected hole layout: %.80q", m, text[i:])
		}
		holePrefix := string(rest[end+2 : end+closeAt])
		*segs = append(*segs, &jsonSeg{text: text[:start]})
		text = rest[end+closeAt+1:]
		h := holes[n]
		p := x.lookup(h)
		md := p.msg.ProtoReflect().Descriptor()
		switch {
		case isAdminMessage(md):
			if err := x.indentSegs(h, holePrefix, segs); err != nil {
				return err
			}
		case isWellKnown(md):
			r, err := x.real(h)
			if err != nil {
				return err
			}
			js, err := protojson.Marshal(r)
			if err != nil {
				return err
			}
			if js, err = indentJSON(js, holePrefix); err != nil {
				return err
			}
			*segs = append(*segs, &jsonSeg{text: js})
		default:
			*segs = append(*segs, &jsonSeg{p: p, url: h.GetTypeUrl(), prefix: holePrefix})
		}
	}
	*segs = append(*segs, &jsonSeg{text: text})
	return nil
}
