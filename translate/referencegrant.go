package translate

import gwv1 "sigs.k8s.io/gateway-api/apis/v1"

// grantIndex answers "may an object of kind From in namespace F refer to
// object To in namespace T?" A ReferenceGrant lives in the target namespace,
// so grants are indexed by their own namespace.
type grantIndex struct {
	byNS map[string][]*gwv1.ReferenceGrant
}

func newGrantIndex(grants []*gwv1.ReferenceGrant) *grantIndex {
	g := &grantIndex{byNS: map[string][]*gwv1.ReferenceGrant{}}
	for _, rg := range grants {
		g.byNS[rg.Namespace] = append(g.byNS[rg.Namespace], rg)
	}
	return g
}

type objRef struct {
	group, kind, namespace, name string
}

// allowed reports whether from may reference to. Same-namespace references
// never need a grant.
func (g *grantIndex) allowed(from, to objRef) bool {
	if from.namespace == to.namespace {
		return true
	}
	for _, rg := range g.byNS[to.namespace] {
		if grantMatches(rg, from, to) {
			return true
		}
	}
	return false
}

func grantMatches(rg *gwv1.ReferenceGrant, from, to objRef) bool {
	fromOK := false
	for _, f := range rg.Spec.From {
		if string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace {
			fromOK = true
			break
		}
	}
	if !fromOK {
		return false
	}
	for _, t := range rg.Spec.To {
		if string(t.Group) != to.group || string(t.Kind) != to.kind {
			continue
		}
		if t.Name == nil || *t.Name == "" || string(*t.Name) == to.name {
			return true
		}
	}
	return false
}
