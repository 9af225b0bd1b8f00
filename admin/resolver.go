package admin

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TypeResolver resolves Any type URLs for protojson. Types linked into the
// binary resolve normally; any other type resolves to an empty placeholder
// message of that name, so one unknown extension (a newer Envoy, a custom
// filter) costs only that value, not the whole dump. Decoding with
// DiscardUnknown then drops the placeholder's fields.
//
// Marshal what ConfigDump returned with this same resolver (see
// MarshalOptions): the placeholders exist nowhere else.
type TypeResolver struct {
	mu           sync.Mutex
	placeholders map[protoreflect.FullName]protoreflect.MessageType
}

// Resolver is shared by every Client so placeholders made while decoding
// can be found again when marshalling.
var Resolver = &TypeResolver{placeholders: map[protoreflect.FullName]protoreflect.MessageType{}}

func (r *TypeResolver) FindMessageByName(n protoreflect.FullName) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(n)
	if err == nil || !errors.Is(err, protoregistry.NotFound) {
		return mt, err
	}
	return r.placeholder(n)
}

func (r *TypeResolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	name := url
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		name = url[i+1:]
	}
	return r.FindMessageByName(protoreflect.FullName(name))
}

func (r *TypeResolver) FindExtensionByName(n protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByName(n)
}

func (r *TypeResolver) FindExtensionByNumber(m protoreflect.FullName, f protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByNumber(m, f)
}

// IsPlaceholder says whether a type name was unknown to this binary.
func (r *TypeResolver) IsPlaceholder(n protoreflect.FullName) bool {
	if _, err := protoregistry.GlobalTypes.FindMessageByName(n); err == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.placeholders[n]
	return ok
}

func (r *TypeResolver) placeholder(n protoreflect.FullName) (protoreflect.MessageType, error) {
	if !n.IsValid() {
		return nil, fmt.Errorf("%q is not a protobuf message name: %w", n, protoregistry.NotFound)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if mt, ok := r.placeholders[n]; ok {
		return mt, nil
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("egctl-placeholder/" + string(n) + ".proto"),
		Syntax:      proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String(string(n.Name()))}},
	}
	if pkg := n.Parent(); pkg != "" {
		fdp.Package = proto.String(string(pkg))
	}
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		return nil, fmt.Errorf("placeholder for %s: %w", n, err)
	}
	mt := dynamicpb.NewMessageType(fd.Messages().Get(0))
	r.placeholders[n] = mt
	return mt, nil
}

// unknownTypes lists the placeholder types an Any tree uses, sorted.
func unknownTypes(m proto.Message) []string {
	seen := map[string]bool{}
	walkAnys(m.ProtoReflect(), func(typeURL string) {
		name := typeURL[strings.LastIndexByte(typeURL, '/')+1:]
		if Resolver.IsPlaceholder(protoreflect.FullName(name)) {
			seen[typeURL] = true
		}
	})
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// walkAnys calls fn for every google.protobuf.Any in m, recursing into
// their contents.
func walkAnys(m protoreflect.Message, fn func(typeURL string)) {
	if m.Descriptor().FullName() == "google.protobuf.Any" {
		url := m.Get(m.Descriptor().Fields().ByName("type_url")).String()
		fn(url)
		mt, err := Resolver.FindMessageByURL(url)
		if err != nil {
			return
		}
		inner := mt.New()
		if err := (proto.UnmarshalOptions{Resolver: Resolver, AllowPartial: true, DiscardUnknown: true}).Unmarshal(
			m.Get(m.Descriptor().Fields().ByName("value")).Bytes(), inner.Interface()); err == nil {
			walkAnys(inner, fn)
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkAnys(l.Get(i).Message(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walkAnys(mv.Message(), fn)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			walkAnys(v.Message(), fn)
		}
		return true
	})
}
