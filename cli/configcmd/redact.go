package configcmd

import (
	udpa "github.com/cncf/xds/go/udpa/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/admin"
)

// redacted replaces secret material. Envoy's own admin output uses the
// same word, so a dump reads the same whoever redacted it.
const redacted = "[redacted]"

const (
	secretType     protoreflect.FullName = "envoy.extensions.transport_sockets.tls.v3.Secret"
	dataSourceType protoreflect.FullName = "envoy.config.core.v3.DataSource"
)

// redact blanks secret material in m, wherever it sits (Any values
// included): every field Envoy's API marks (udpa.annotations.sensitive)
// — private keys, passwords, session ticket keys, generic secrets — and,
// inside an SDS Secret, every inline value, certificates included, since
// a Secret is where a stray key would hide. File names and SDS references
// stay: they say where the secret lives, not what it is.
//
// Envoy already redacts sensitive fields in /config_dump; this also covers
// Secrets' other inline data, dumps saved by other tools, and older Envoys.
func redact(m proto.Message) error {
	_, err := redactMsg(m.ProtoReflect(), false)
	return err
}

// redactMsg reports whether it changed anything, so that Any values are
// only re-encoded when needed.
func redactMsg(m protoreflect.Message, inSecret bool) (bool, error) {
	desc := m.Descriptor()
	switch desc.FullName() {
	case "google.protobuf.Any":
		return redactAny(m, inSecret)
	case secretType:
		inSecret = true
	case dataSourceType:
		if inSecret {
			return redactDataSource(m), nil
		}
	}
	changed := false
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if isSensitive(fd) {
			if redactValue(m, fd, v) {
				changed = true
			}
			return true
		}
		var c bool
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				c, err = redactMsg(mv.Message(), inSecret)
				changed = changed || c
				return err == nil
			})
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				c, err = redactMsg(l.Get(i).Message(), inSecret)
				changed = changed || c
			}
		case fd.Message() != nil:
			c, err = redactMsg(v.Message(), inSecret)
			changed = changed || c
		}
		return err == nil
	})
	return changed, err
}

func isSensitive(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || opts == nil {
		return false
	}
	s, _ := proto.GetExtension(opts, udpa.E_Sensitive).(bool)
	return s
}

// redactValue blanks a sensitive field of any shape.
func redactValue(parent protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch {
	case fd.IsList() && fd.Message() != nil:
		changed := false
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			if blankMessage(l.Get(i).Message()) {
				changed = true
			}
		}
		return changed
	case fd.IsList() || fd.IsMap():
		parent.Clear(fd)
		return true
	case fd.Message() != nil:
		return blankMessage(v.Message())
	case fd.Kind() == protoreflect.StringKind:
		parent.Set(fd, protoreflect.ValueOfString(redacted))
		return true
	case fd.Kind() == protoreflect.BytesKind:
		parent.Set(fd, protoreflect.ValueOfBytes([]byte(redacted)))
		return true
	}
	parent.Clear(fd)
	return true
}

// blankMessage redacts a sensitive message: a DataSource keeps its shape
// with "[redacted]" as the inline value; anything else is emptied.
func blankMessage(m protoreflect.Message) bool {
	if m.Descriptor().FullName() == dataSourceType {
		return redactDataSource(m)
	}
	changed := false
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		m.Clear(fd)
		changed = true
		return true
	})
	return changed
}

// redactDataSource replaces inline_bytes or inline_string by
// inline_string "[redacted]" (readable, unlike base64 of a placeholder).
// filename and environment_variable are references and stay.
func redactDataSource(m protoreflect.Message) bool {
	fields := m.Descriptor().Fields()
	ib, is := fields.ByName("inline_bytes"), fields.ByName("inline_string")
	if !m.Has(ib) && !m.Has(is) {
		return false
	}
	if m.Has(is) && m.Get(is).String() == redacted {
		return false
	}
	m.Clear(ib)
	m.Set(is, protoreflect.ValueOfString(redacted))
	return true
}

func redactAny(m protoreflect.Message, inSecret bool) (bool, error) {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return false, nil
	}
	mt, err := admin.Resolver.FindMessageByURL(a.GetTypeUrl())
	if err != nil {
		return false, nil // not decodable: nothing readable to redact
	}
	inner := mt.New()
	if err := (proto.UnmarshalOptions{Resolver: admin.Resolver, DiscardUnknown: true}).Unmarshal(a.GetValue(), inner.Interface()); err != nil {
		return false, err
	}
	changed, err := redactMsg(inner, inSecret)
	if err != nil || !changed {
		return false, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(inner.Interface())
	if err != nil {
		return false, err
	}
	a.Value = b
	return true, nil
}
