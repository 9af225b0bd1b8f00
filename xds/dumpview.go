package xds

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// A config dump packs every resource into an Any, and every section into
// another; printing it unpacks both again. For a dump that is only printed
// that round trip (proto.Marshal, then proto.Unmarshal, of everything twice)
// was a third of the time of `egctl x translate --to xds`. A DumpView has
// the shape of the dump, but its Anys carry only their type URL: the
// message each stands for is kept aside (anyIndex), and the YAML writer
// prints it in the Any's place as protojson would print the packed Any.

// DumpView is a config dump for printing (WriteYAMLDumpViews): what
// ConfigDump returns, without packing the resources.
type DumpView struct {
	dump *adminv3.ConfigDump
	anys *anyIndex
	// section, when set, is what the view prints: the one section of the
	// dump (SingleSection).
	section *anypb.Any
}

// printed is the message the view prints.
func (v *DumpView) printed() proto.Message {
	if v.section != nil {
		return v.section
	}
	return v.dump
}

// SingleSection is the view printing the dump's only section by itself, as
// Envoy Gateway's egctl prints one resource type (`x translate -t route`):
// the RoutesConfigDump with its "@type", not a ConfigDump holding it. It
// fails when the dump does not have exactly one section.
func (v *DumpView) SingleSection() (*DumpView, error) {
	if n := len(v.dump.GetConfigs()); n != 1 {
		return nil, fmt.Errorf("xds: the dump has %d sections, not one", n)
	}
	return &DumpView{dump: v.dump, anys: v.anys, section: v.dump.GetConfigs()[0]}, nil
}

// anyIndex maps the stand-in Anys of a DumpView to their messages. It is
// not changed once built, but for the sizes cached in its entries, each
// written by the one goroutine that cuts the dump section holding it.
type anyIndex struct {
	m map[*anypb.Any]*packedAny
	// deep: stand-ins may sit in any message, not only in admin ones
	// (a BootstrapView's, in its listeners' filters).
	deep bool
}

type packedAny struct {
	msg  proto.Message
	size int // planning size of the Any; -1 until asked
}

// anyURLPrefix is the prefix anypb.New gives type URLs.
const anyURLPrefix = "type.googleapis.com/"

// NewDumpView is ConfigDump (ConfigDumpWithSecrets if showSecrets) for
// printing with WriteYAMLDumpViews.
func NewDumpView(r *Resources, bootstrap *bootstrapv3.Bootstrap, types []string, showSecrets bool) (*DumpView, error) {
	idx := &anyIndex{m: map[*anypb.Any]*packedAny{}}
	pack := func(m proto.Message) (*anypb.Any, error) {
		a := &anypb.Any{TypeUrl: anyURLPrefix + string(m.ProtoReflect().Descriptor().FullName())}
		idx.m[a] = &packedAny{msg: m, size: -1}
		return a, nil
	}
	d, err := configDump(r, bootstrap, types, !showSecrets, pack)
	if err != nil {
		return nil, err
	}
	return &DumpView{dump: d, anys: idx}, nil
}

// Proto is the dump itself, its resources packed, as ConfigDump returns it.
// The sections are packed in parallel.
func (v *DumpView) Proto() (*adminv3.ConfigDump, error) {
	in := v.dump.GetConfigs()
	out := &adminv3.ConfigDump{Configs: make([]*anypb.Any, len(in))}
	errs := make([]error, len(in))
	var wg sync.WaitGroup
	for i, a := range in {
		wg.Go(func() {
			m, err := v.anys.real(a)
			if err != nil {
				errs[i] = fmt.Errorf("xds: pack %s: %w", a.GetTypeUrl(), err)
				return
			}
			out.Configs[i] = m.(*anypb.Any)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// WriteYAMLDumpViews is WriteYAMLMessages for the packed forms of views.
func WriteYAMLDumpViews(w io.Writer, key string, views map[string]*DumpView) error {
	msgs := make(map[string]proto.Message, len(views))
	idx := make(map[string]*anyIndex, len(views))
	for n, v := range views {
		msgs[n] = v.printed()
		idx[n] = v.anys
	}
	return writeYAMLMessages(w, key, msgs, idx)
}

// isAdminMessage reports whether m's type is one of Envoy's admin
// messages, the only ones holding stand-in Anys.
func isAdminMessage(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "envoy.admin.v3"
}

// lookup is the message a stand-in Any stands for, or nil.
func (x *anyIndex) lookup(m proto.Message) *packedAny {
	if x == nil {
		return nil
	}
	a, ok := m.(*anypb.Any)
	if !ok {
		return nil
	}
	return x.m[a]
}

// cachedSizer sizes a message with the sizes its sub-messages cached when
// an enclosing message was sized: cutting a big message level by level then
// costs one sizing pass in all, not one per level. A size left stale by a
// later change of the message only moves where the writer cuts, never what
// it writes.
var cachedSizer = proto.MarshalOptions{UseCachedSize: true}

// size is about proto.Size of m's packed form: what the writer cuts by.
func (x *anyIndex) size(m proto.Message) int {
	if x == nil {
		return cachedSizer.Size(m)
	}
	if p := x.lookup(m); p != nil {
		if p.size < 0 {
			p.size = x.size(p.msg) + len(anyURLPrefix) + 64
		}
		return p.size
	}
	md := m.ProtoReflect().Descriptor()
	if !isAdminMessage(md) && !(x.deep && holdsStandIns[md.FullName()]) {
		return cachedSizer.Size(m)
	}
	if md.FullName() == "envoy.admin.v3.ConfigDump" {
		// Always cut; summing it would size every resource up front.
		return math.MaxInt32
	}
	n := 0
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			n += cachedSizer.Size(m) // not in the admin dumps built here
		case fd.Kind() != protoreflect.MessageKind:
			n += 16
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				n += x.size(l.Get(i).Message().Interface()) + 4
			}
		default:
			n += x.size(v.Message().Interface()) + 4
		}
		return true
	})
	return n
}

// holdsStandIns are the messages of a static bootstrap on the way to its
// stand-in Anys (the listeners' connection managers, BootstrapView): they
// are sized by walking them, since proto.Size sees an empty Any where a
// connection manager holds every route of its listener. Sized as a
// whole, a bootstrap's listeners were one unit of a few KB that wrote
// 196 MB of text into one buffer at 10,000 routes with a SecurityPolicy.
var holdsStandIns = map[protoreflect.FullName]bool{
	"envoy.config.bootstrap.v3.Bootstrap":                 true,
	"envoy.config.bootstrap.v3.Bootstrap.StaticResources": true,
	"envoy.config.listener.v3.Listener":                   true,
	"envoy.config.listener.v3.FilterChain":                true,
	"envoy.config.listener.v3.Filter":                     true,
}

// real is m with its stand-in Anys packed: what protojson must see when a
// part of a view is printed through it.
func (x *anyIndex) real(m proto.Message) (proto.Message, error) {
	return x.rebuild(m, func(_ *anypb.Any, p *packedAny) (proto.Message, error) {
		inner, err := x.real(p.msg)
		if err != nil {
			return nil, err
		}
		return anypb.New(inner)
	})
}

// rebuild is m with each stand-in Any replaced by what swap gives for it;
// the admin messages on the way (every message, when deep) are copied, the
// rest shared.
func (x *anyIndex) rebuild(m proto.Message, swap func(*anypb.Any, *packedAny) (proto.Message, error)) (proto.Message, error) {
	if x == nil {
		return m, nil
	}
	if p := x.lookup(m); p != nil {
		return swap(m.(*anypb.Any), p)
	}
	rm := m.ProtoReflect()
	if !x.deep && !isAdminMessage(rm.Descriptor()) {
		return m, nil
	}
	out := rm.New()
	var err error
	rm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			out.Set(fd, v)
			return true
		}
		one := func(v protoreflect.Value) (protoreflect.Value, bool) {
			var r proto.Message
			if r, err = x.rebuild(v.Message().Interface(), swap); err != nil {
				return protoreflect.Value{}, false
			}
			return protoreflect.ValueOfMessage(r.ProtoReflect()), true
		}
		if !fd.IsList() {
			r, ok := one(v)
			if ok {
				out.Set(fd, r)
			}
			return ok
		}
		l, dst := v.List(), out.Mutable(fd).List()
		for i := 0; i < l.Len(); i++ {
			r, ok := one(l.Get(i))
			if !ok {
				return false
			}
			dst.Append(r)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out.Interface(), nil
}
