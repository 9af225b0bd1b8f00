package xds

import (
	"sync"

	udpa "github.com/cncf/xds/go/udpa/annotations"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/ir"
)

// Secret material in Envoy configuration is found the same way wherever it
// is printed (egctl x translate --to xds, egctl config dump): every field
// Envoy's API marks sensitive (udpa.annotations.sensitive: private keys,
// passwords, session ticket keys, generic secrets, basic-auth users, API
// key credentials), the secret it does not mark (symmetric or private
// members of a local JSON Web Key Set), and inside an SDS Secret every
// inline value. API keys keep their client id: only the key is secret.

const extAuthzPerRouteURL = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute"

const (
	secretTypeName     protoreflect.FullName = "envoy.extensions.transport_sockets.tls.v3.Secret"
	dataSourceTypeName protoreflect.FullName = "envoy.config.core.v3.DataSource"
	apiKeyCredential   protoreflect.FullName = "envoy.extensions.filters.http.api_key_auth.v3.Credential"
	jwtProviderName    protoreflect.FullName = "envoy.extensions.filters.http.jwt_authn.v3.JwtProvider"
)

// Resolver finds the message type of an Any and the extensions its
// decoding needs; protoregistry.GlobalTypes is one.
type Resolver interface {
	protoregistry.MessageTypeResolver
	protoregistry.ExtensionTypeResolver
}

// RedactMessage replaces secret material in m, in place, by "[redacted]",
// Any values included (decoded with resolver; nil is the global registry).
// It reports whether anything changed. File names and SDS references stay:
// they say where a secret lives, not what it is.
func RedactMessage(m proto.Message, resolver Resolver) (bool, error) {
	if resolver == nil {
		resolver = protoregistry.GlobalTypes
	}
	return redactMsg(m.ProtoReflect(), false, resolver)
}

func redactMsg(m protoreflect.Message, inSecret bool, res Resolver) (bool, error) {
	switch m.Descriptor().FullName() {
	case "google.protobuf.Any":
		return redactAny(m, inSecret, res)
	case secretTypeName:
		inSecret = true
	case dataSourceTypeName:
		if inSecret {
			return redactDataSource(m), nil
		}
	case apiKeyCredential:
		// The key itself is not marked; the list holding credentials is.
		if fd := m.Descriptor().Fields().ByName("key"); m.Has(fd) && m.Get(fd).String() != ir.Redacted {
			m.Set(fd, protoreflect.ValueOfString(ir.Redacted))
			return true, nil
		}
		return false, nil
	case jwtProviderName:
		return redactLocalJWKS(m), nil
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
				c, err = redactMsg(mv.Message(), inSecret, res)
				changed = changed || c
				return err == nil
			})
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				c, err = redactMsg(l.Get(i).Message(), inSecret, res)
				changed = changed || c
			}
		case fd.Message() != nil:
			c, err = redactMsg(v.Message(), inSecret, res)
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
	case fd.IsList() && fd.Message() != nil && fd.Message().FullName() == apiKeyCredential:
		// Keep the client ids readable; only the keys are secret.
		changed := false
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			c := l.Get(i).Message()
			if k := c.Descriptor().Fields().ByName("key"); c.Get(k).String() != ir.Redacted {
				c.Set(k, protoreflect.ValueOfString(ir.Redacted))
				changed = true
			}
		}
		return changed
	case fd.IsList() && fd.Message() != nil:
		changed := false
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			if blankMessage(l.Get(i).Message()) {
				changed = true
			}
		}
		return changed
	case fd.IsMap() && fd.MapValue().Message() != nil:
		changed := false
		v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
			if blankMessage(mv.Message()) {
				changed = true
			}
			return true
		})
		return changed
	case fd.IsMap() && fd.MapValue().Kind() == protoreflect.StringKind:
		// Keep the keys readable (ext-auth context extensions).
		changed := false
		m := v.Map()
		m.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			if mv.String() != ir.Redacted {
				m.Set(k, protoreflect.ValueOfString(ir.Redacted))
				changed = true
			}
			return true
		})
		return changed
	case fd.IsList() || fd.IsMap():
		parent.Clear(fd)
		return true
	case fd.Message() != nil:
		return blankMessage(v.Message())
	case fd.Kind() == protoreflect.StringKind:
		if v.String() == ir.Redacted {
			return false
		}
		parent.Set(fd, protoreflect.ValueOfString(ir.Redacted))
		return true
	case fd.Kind() == protoreflect.BytesKind:
		if string(v.Bytes()) == ir.Redacted {
			return false
		}
		parent.Set(fd, protoreflect.ValueOfBytes([]byte(ir.Redacted)))
		return true
	}
	parent.Clear(fd)
	return true
}

// blankMessage redacts a sensitive message: a DataSource keeps its shape
// with "[redacted]" as the inline value; anything else is emptied.
func blankMessage(m protoreflect.Message) bool {
	if m.Descriptor().FullName() == dataSourceTypeName {
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

// redactDataSource replaces inline_bytes or inline_string by inline_string
// "[redacted]" (readable, unlike base64 of a placeholder). filename and
// environment_variable are references and stay.
func redactDataSource(m protoreflect.Message) bool {
	fields := m.Descriptor().Fields()
	ib, is := fields.ByName("inline_bytes"), fields.ByName("inline_string")
	if !m.Has(ib) && !m.Has(is) {
		return false
	}
	if m.Has(is) && m.Get(is).String() == ir.Redacted {
		return false
	}
	m.Clear(ib)
	m.Set(is, protoreflect.ValueOfString(ir.Redacted))
	return true
}

// redactLocalJWKS redacts the secret members of an inline local key set
// (public keys stay readable).
func redactLocalJWKS(m protoreflect.Message) bool {
	fd := m.Descriptor().Fields().ByName("local_jwks")
	if fd == nil || !m.Has(fd) {
		return false
	}
	ds := m.Get(fd).Message()
	is := ds.Descriptor().Fields().ByName("inline_string")
	ib := ds.Descriptor().Fields().ByName("inline_bytes")
	var text string
	switch {
	case ds.Has(is):
		text = ds.Get(is).String()
	case ds.Has(ib):
		text = string(ds.Get(ib).Bytes())
	default:
		return false
	}
	r, changed := ir.RedactJWKS(text)
	if !changed {
		return false
	}
	ds.Clear(ib)
	ds.Set(is, protoreflect.ValueOfString(r))
	return true
}

func redactAny(m protoreflect.Message, inSecret bool, res Resolver) (bool, error) {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return false, nil
	}
	mt, err := res.FindMessageByURL(a.GetTypeUrl())
	if err != nil {
		return false, nil // not decodable: nothing readable to redact
	}
	inner := mt.New()
	if err := (proto.UnmarshalOptions{Resolver: res, DiscardUnknown: true}).Unmarshal(a.GetValue(), inner.Interface()); err != nil {
		return false, err
	}
	changed, err := redactMsg(inner, inSecret, res)
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

// mayHoldSecrets reports whether messages of type d can carry secret
// material outside nested Any values: a sensitive field, or one of the
// unmarked ones above, somewhere in its fields.
func mayHoldSecrets(d protoreflect.MessageDescriptor) bool {
	secretTypesMu.Lock()
	defer secretTypesMu.Unlock()
	return mayHoldSecretsLocked(d, map[protoreflect.FullName]bool{})
}

var (
	secretTypesMu sync.Mutex
	secretTypes   = map[protoreflect.FullName]bool{}
)

func mayHoldSecretsLocked(d protoreflect.MessageDescriptor, visiting map[protoreflect.FullName]bool) bool {
	n := d.FullName()
	if v, ok := secretTypes[n]; ok {
		return v
	}
	if visiting[n] {
		return false // a cycle adds nothing new
	}
	switch n {
	case apiKeyCredential, jwtProviderName, secretTypeName:
		secretTypes[n] = true
		return true
	case "google.protobuf.Any":
		return false
	}
	visiting[n] = true
	found := false
	fs := d.Fields()
	for i := 0; i < fs.Len() && !found; i++ {
		fd := fs.Get(i)
		switch {
		case isSensitive(fd):
			found = true
		case fd.IsMap() && fd.MapValue().Message() != nil:
			found = mayHoldSecretsLocked(fd.MapValue().Message(), visiting)
		case fd.Message() != nil && !fd.IsMap():
			found = mayHoldSecretsLocked(fd.Message(), visiting)
		}
	}
	delete(visiting, n)
	secretTypes[n] = found
	return found
}

// anyMayHoldSecrets is mayHoldSecrets for the message an Any packs.
func anyMayHoldSecrets(a *anypb.Any) bool {
	if a == nil {
		return false
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(a.GetTypeUrl())
	if err != nil {
		return false
	}
	return mayHoldSecrets(mt.Descriptor())
}

// redactResources returns r, or a copy in which the filter configurations
// carrying secrets (the HCMs' HTTP filters, per-route and per-virtual-host
// configurations) are redacted. Only what holds secrets is copied and
// decoded: 10,000 routes sharing an RBAC configuration are not walked.
func redactResources(r *Resources) (*Resources, error) {
	out := *r
	done := map[*anypb.Any]*anypb.Any{} // shared configurations, redacted once
	redacted := func(a *anypb.Any) (*anypb.Any, error) {
		if na, ok := done[a]; ok {
			return na, nil
		}
		na := a
		// Ext-auth context extensions are redacted where they came from a
		// Secret, and only there (extauth.go: redactContextExtensions).
		if anyMayHoldSecrets(a) && a.GetTypeUrl() != extAuthzPerRouteURL {
			c := cloneOf(a)
			changed, err := RedactMessage(c, nil)
			if err != nil {
				return nil, err
			}
			if changed {
				na = c
			}
		}
		done[a] = na
		return na, nil
	}
	copied := false
	for i, l := range r.Listeners {
		nl, err := redactListener(l, redacted)
		if err != nil {
			return nil, err
		}
		if nl != l {
			if !copied {
				out.Listeners = append([]*listenerv3.Listener(nil), r.Listeners...)
				copied = true
			}
			out.Listeners[i] = nl
		}
	}
	copied = false
	for i, rc := range r.Routes {
		nrc, err := redactRouteConfig(rc, redacted)
		if err != nil {
			return nil, err
		}
		if nrc != rc {
			if !copied {
				out.Routes = append([]*routev3.RouteConfiguration(nil), r.Routes...)
				copied = true
			}
			out.Routes[i] = nrc
		}
	}
	return &out, nil
}

func redactListener(l *listenerv3.Listener, redacted func(*anypb.Any) (*anypb.Any, error)) (*listenerv3.Listener, error) {
	chains := append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...)
	var nl *listenerv3.Listener
	for ci, fc := range chains {
		for fi, f := range fc.GetFilters() {
			if f.GetName() != hcmFilterName {
				continue
			}
			mgr := &hcmv3.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(mgr); err != nil {
				return nil, err
			}
			changed := false
			for _, hf := range mgr.GetHttpFilters() {
				a := hf.GetTypedConfig()
				if a == nil {
					continue
				}
				na, err := redacted(a)
				if err != nil {
					return nil, err
				}
				if na != a {
					hf.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: na}
					changed = true
				}
			}
			if !changed {
				continue
			}
			typed, err := toAny(mgr)
			if err != nil {
				return nil, err
			}
			if nl == nil {
				nl = cloneOf(l)
			}
			target := nl.GetDefaultFilterChain()
			if ci > 0 {
				target = nl.GetFilterChains()[ci-1]
			}
			target.Filters[fi] = &listenerv3.Filter{Name: f.GetName(), ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}
		}
	}
	if nl == nil {
		return l, nil
	}
	return nl, nil
}

func redactRouteConfig(rc *routev3.RouteConfiguration, redacted func(*anypb.Any) (*anypb.Any, error)) (*routev3.RouteConfiguration, error) {
	// Find first, copy only when something changes.
	type hit struct {
		vh, route int // route -1: the virtual host's own configuration
		key       string
		a         *anypb.Any
	}
	var hits []hit
	scan := func(vh, route int, m map[string]*anypb.Any) error {
		for k, a := range m {
			na, err := redacted(a)
			if err != nil {
				return err
			}
			if na != a {
				hits = append(hits, hit{vh, route, k, na})
			}
		}
		return nil
	}
	for vi, vh := range rc.GetVirtualHosts() {
		if err := scan(vi, -1, vh.GetTypedPerFilterConfig()); err != nil {
			return nil, err
		}
		for ri, r := range vh.GetRoutes() {
			if err := scan(vi, ri, r.GetTypedPerFilterConfig()); err != nil {
				return nil, err
			}
		}
	}
	if len(hits) == 0 {
		return rc, nil
	}
	nrc := cloneOf(rc)
	for _, h := range hits {
		vh := nrc.GetVirtualHosts()[h.vh]
		if h.route < 0 {
			vh.TypedPerFilterConfig[h.key] = h.a
		} else {
			vh.GetRoutes()[h.route].TypedPerFilterConfig[h.key] = h.a
		}
	}
	return nrc, nil
}
