package translate

import (
	"fmt"
	"sort"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/ir"
)

// spExtAuth translates a SecurityPolicy's spec.extAuth (spec is the
// effective spec: merged onto e.parent's where mergeType asks). Names and
// references follow the policy that owns each merged field, as in Envoy
// Gateway. The result is cached per (policy, parent) and shared by every
// route.
//
// A configuration error always fails the route closed, failOpen or not:
// Envoy Gateway then skips the check altogether (failOpen "also bypasses an
// invalid configuration"), but a policy egctl cannot build is one to fix
// before it ships, and egctl exits 1 saying so. failOpen applies to what
// happens at run time: the service down, slow, or answering garbage.
func (b *builder) spExtAuth(e effective, spec *egv1a1.SecurityPolicySpec) (*ir.ExtAuth, error) {
	if spec.ExtAuth == nil {
		return nil, nil
	}
	st := b.spAuth()
	k := [2]*policy{e.policy, e.parent}
	if r, ok := st.extAuth[k]; ok {
		return r.v, r.err
	}
	v, err := b.buildExtAuth(e, spec.ExtAuth)
	st.extAuth[k] = spExtAuthResult{v, err}
	return v, err
}

func (b *builder) buildExtAuth(e effective, a *egv1a1.ExtAuth) (*ir.ExtAuth, error) {
	owner := spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool { return s.ExtAuth != nil })
	refsOwner := spFieldOwner(e, func(s *egv1a1.SecurityPolicySpec) bool {
		x := s.ExtAuth
		if x == nil {
			return false
		}
		return (x.HTTP != nil && (len(x.HTTP.BackendRefs) > 0 || x.HTTP.BackendRef != nil)) ||
			(x.GRPC != nil && (len(x.GRPC.BackendRefs) > 0 || x.GRPC.BackendRef != nil))
	})
	out := &ir.ExtAuth{Name: spConfigName(owner), HeadersToExtAuth: a.HeadersToExtAuth}
	var (
		cluster *egv1a1.BackendCluster
		field   string
	)
	switch {
	case a.GRPC != nil && a.HTTP != nil:
		return nil, fmt.Errorf("spec.extAuth: set only one of grpc and http")
	case a.GRPC != nil:
		out.GRPC, cluster, field = true, &a.GRPC.BackendCluster, "spec.extAuth.grpc"
	case a.HTTP != nil:
		h := a.HTTP
		cluster, field = &h.BackendCluster, "spec.extAuth.http"
		out.HTTP = &ir.ExtAuthHTTP{HeadersToBackend: h.HeadersToBackend}
		if h.Path != nil && h.PathOverride != nil {
			return nil, fmt.Errorf("%s: set only one of path and pathOverride", field)
		}
		for _, p := range []struct {
			name string
			v    *string
			out  *string
		}{{"path", h.Path, &out.HTTP.Path}, {"pathOverride", h.PathOverride, &out.HTTP.PathOverride}} {
			if p.v == nil {
				continue
			}
			if *p.v != "" && !strings.HasPrefix(*p.v, "/") {
				return nil, fmt.Errorf("%s.%s %q must start with /", field, p.name, *p.v)
			}
			*p.out = *p.v
		}
		for i, n := range h.HeadersToBackend {
			if !headerTokenRE.MatchString(n) {
				return nil, fmt.Errorf("%s.headersToBackend[%d] %q is not a header name", field, i, n)
			}
		}
	default:
		return nil, fmt.Errorf("spec.extAuth: set one of grpc and http")
	}
	d, authority, err := b.spServiceDestination(refsOwner, "extauth", cluster, field, out.GRPC)
	if err != nil {
		return nil, err
	}
	ss, err := extServiceSettings(cluster.BackendSettings, field, "spec.extAuth.timeout")
	if err != nil {
		return nil, err
	}
	if err := withClusterSettings(d, ss.cluster, field); err != nil {
		return nil, err
	}
	out.Destination, out.Authority, out.Retry = d, authority, ss.retry
	for i, n := range a.HeadersToExtAuth {
		if !headerTokenRE.MatchString(n) {
			return nil, fmt.Errorf("spec.extAuth.headersToExtAuth[%d] %q is not a header name", i, n)
		}
	}
	if a.BodyToExtAuth != nil {
		if a.BodyToExtAuth.MaxRequestBytes == 0 {
			return nil, fmt.Errorf("spec.extAuth.bodyToExtAuth.maxRequestBytes must be at least 1")
		}
		out.MaxRequestBytes = a.BodyToExtAuth.MaxRequestBytes
	}
	if a.Timeout != nil {
		t, err := parseDuration(*a.Timeout)
		if err != nil {
			return nil, fmt.Errorf("spec.extAuth.timeout: %v", err)
		}
		if t == 0 {
			return nil, fmt.Errorf("spec.extAuth.timeout: 0 would fail every check")
		}
		out.Timeout = t
	}
	if a.FailOpen != nil {
		out.FailOpen = *a.FailOpen
	}
	if a.RecomputeRoute != nil {
		out.RecomputeRoute = *a.RecomputeRoute
	}
	if a.IncludeRouteMetadata != nil {
		out.IncludeRouteMetadata = *a.IncludeRouteMetadata
	}
	if a.StatusOnError != nil {
		s := *a.StatusOnError
		if s < 400 || s > 599 {
			return nil, fmt.Errorf("spec.extAuth.statusOnError %d: want a 4xx or 5xx status", s)
		}
		out.StatusOnError = uint32(s)
	}
	if out.ContextExtensions, err = b.extAuthContext(e, a.ContextExtensions); err != nil {
		return nil, err
	}
	return out, nil
}

// extAuthContext reads contextExtensions, each value inline or from a key
// of a ConfigMap or Secret in the namespace of the policy that set the
// entry (by name, as Envoy Gateway merges them). A Secret's value is used
// as it is stored; Envoy Gateway base64-decodes it once more, so a value
// that works there is the base64 of what egctl sends.
func (b *builder) extAuthContext(e effective, exts []*egv1a1.ContextExtension) ([]ir.ContextExtension, error) {
	if len(exts) == 0 {
		return nil, nil
	}
	owners := map[string]*policy{}
	if e.parent != nil {
		for _, p := range []*policy{e.parent, e.policy} {
			if s, ok := p.spec.(*egv1a1.SecurityPolicySpec); ok && s.ExtAuth != nil {
				for _, c := range s.ExtAuth.ContextExtensions {
					if c != nil {
						owners[c.Name] = p
					}
				}
			}
		}
	}
	var out []ir.ContextExtension
	seen := map[string]bool{}
	for i, c := range exts {
		field := fmt.Sprintf("spec.extAuth.contextExtensions[%d]", i)
		if c == nil || c.Name == "" {
			return nil, fmt.Errorf("%s: a context extension needs a name", field)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%s: name %q repeats", field, c.Name)
		}
		seen[c.Name] = true
		owner := owners[c.Name]
		if owner == nil {
			owner = e.policy
		}
		typ := c.Type
		if typ == "" {
			typ = egv1a1.ContextExtensionValueTypeValue
		}
		switch typ {
		case egv1a1.ContextExtensionValueTypeValue:
			if c.Value == nil || c.ValueRef != nil {
				return nil, fmt.Errorf("%s: type Value needs value and no valueRef", field)
			}
			out = append(out, ir.ContextExtension{Name: c.Name, Value: *c.Value})
		case egv1a1.ContextExtensionValueTypeValueRef:
			if c.ValueRef == nil || c.Value != nil {
				return nil, fmt.Errorf("%s: type ValueRef needs valueRef and no value", field)
			}
			v, secret, err := b.extAuthContextRef(owner, c.ValueRef, field+".valueRef")
			if err != nil {
				return nil, err
			}
			out = append(out, ir.ContextExtension{Name: c.Name, Value: v, Secret: secret})
		default:
			return nil, fmt.Errorf("%s.type %q: want Value or ValueRef", field, c.Type)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (b *builder) extAuthContextRef(owner *policy, ref *egv1a1.LocalObjectKeyReference, field string) (string, bool, error) {
	ns := owner.key.Namespace
	name := string(ref.Name)
	if ref.Group != "" && ref.Group != "v1" {
		return "", false, fmt.Errorf("%s: group %q: want the core group", field, ref.Group)
	}
	switch ref.Kind {
	case "ConfigMap":
		cm := b.spConfigMap(ns, name)
		if cm == nil {
			return "", false, fmt.Errorf("%s: ConfigMap %s/%s does not exist", field, ns, name)
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if bv, ok := cm.BinaryData[ref.Key]; ok {
				return string(bv), false, nil
			}
			return "", false, fmt.Errorf("%s: ConfigMap %s/%s has no key %q", field, ns, name, ref.Key)
		}
		return v, false, nil
	case "Secret":
		s := b.secrets[nsName{ns, name}]
		if s == nil {
			return "", false, fmt.Errorf("%s: Secret %s/%s does not exist", field, ns, name)
		}
		if _, ok := s.Data[ref.Key]; !ok {
			if _, ok := s.StringData[ref.Key]; !ok {
				return "", false, fmt.Errorf("%s: Secret %s/%s has no key %q", field, ns, name, ref.Key)
			}
		}
		return string(secretValue(s, ref.Key)), true, nil
	}
	return "", false, fmt.Errorf("%s: kind %q: want ConfigMap or Secret", field, ref.Kind)
}

func (b *builder) spConfigMap(ns, name string) *corev1.ConfigMap {
	st := b.spAuth()
	if st.configMaps == nil {
		st.configMaps = make(map[nsName]*corev1.ConfigMap, len(b.out.ConfigMaps))
		for _, cm := range b.out.ConfigMaps {
			k := nsName{cm.Namespace, cm.Name}
			if _, dup := st.configMaps[k]; !dup {
				st.configMaps[k] = cm
			}
		}
	}
	return st.configMaps[nsName{ns, name}]
}
