package translate

import (
	"fmt"
	"sort"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/ir"
)

// secretKeys lists a Secret's keys (data and stringData), sorted.
func secretKeys(s *corev1.Secret) []string {
	keys := make([]string, 0, len(s.Data)+len(s.StringData))
	for k := range s.Data {
		keys = append(keys, k)
	}
	for k := range s.StringData {
		if _, dup := s.Data[k]; !dup {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// spDestination resolves the backendRefs of an external service a policy
// calls (a key-set server, …) into one destination named name, its
// backends "name/backend/K" as Envoy Gateway names them. Every reference
// must resolve: a key-set fetch cannot send a share of its requests
// nowhere.
func (b *builder) spDestination(p *policy, field, name string, refs []egv1a1.BackendRef) (*ir.RouteDestination, error) {
	d := &ir.RouteDestination{
		Name:     name,
		Metadata: &ir.Metadata{Kind: spKind.name, Namespace: p.meta.Namespace, Name: p.meta.Name},
	}
	for i := range refs {
		ref := &refs[i]
		f := fmt.Sprintf("%s[%d]", field, i)
		be, rerr := b.resolveBackend(spObjRef(p), &ref.BackendObjectReference)
		if rerr != nil {
			return nil, fmt.Errorf("%s: %s", f, rerr.msg)
		}
		serviceFallback(be, ref)
		w := uint32(1)
		if ref.Weight != nil {
			w = *ref.Weight
		}
		if w == 0 {
			continue // no traffic for it, as Envoy Gateway does
		}
		if be.AddressType == ir.AddressUnix {
			return nil, fmt.Errorf("%s: a unix socket Backend cannot serve a policy's service", f)
		}
		if len(d.Backends) > 0 && be.AddressType != d.Backends[0].AddressType {
			return nil, fmt.Errorf("%s: backends mix address types %s and %s; one cluster takes one", f, d.Backends[0].AddressType, be.AddressType)
		}
		if !ir.TLSMixable(append(d.Backends[:len(d.Backends):len(d.Backends)], be)) {
			return nil, fmt.Errorf("%s: backends differ in TLS settings one cluster cannot mix (a server name from the request's Host beside a fixed one, or h2 offered by ALPN beside plain text)", f)
		}
		be.Name = fmt.Sprintf("%s/backend/%d", name, i)
		be.Weight = w
		d.Backends = append(d.Backends, be)
	}
	if len(d.Backends) == 0 {
		return nil, fmt.Errorf("%s: no backend with a weight above 0", field)
	}
	return d, nil
}
