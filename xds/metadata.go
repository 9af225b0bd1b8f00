package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/egctl/egctl/ir"
)

// metadataNamespace is the filter metadata key Envoy Gateway uses to name the
// source objects of a resource; using the same key keeps dumps comparable.
const metadataNamespace = "envoy-gateway"

// buildMetadata returns filter metadata naming the object m came from, or
// nil when there is nothing to say.
func buildMetadata(m *ir.Metadata) *corev3.Metadata {
	if m == nil || (m.Kind == "" && m.Name == "" && m.Namespace == "") {
		return nil
	}
	fields := make(map[string]*structpb.Value, 4)
	add := func(k, v string) {
		if v != "" {
			fields[k] = structpb.NewStringValue(v)
		}
	}
	add("kind", m.Kind)
	add("name", m.Name)
	add("namespace", m.Namespace)
	add("sectionName", m.SectionName)
	resource := structpb.NewStructValue(&structpb.Struct{Fields: fields})
	return &corev3.Metadata{
		FilterMetadata: map[string]*structpb.Struct{
			metadataNamespace: {Fields: map[string]*structpb.Value{
				"resources": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{resource}}),
			}},
		},
	}
}

// routeMetadata is a route's metadata: its source object and, when a
// BackendTrafficPolicy applies to it, that policy under "policies" (Envoy
// Gateway lists the policy there). Built once per pair; its values are
// shared: "resources" with the source's own metadata (b.metadata), and
// "policies" with every route of the policy, so one Gateway policy over
// 10,000 routes adds one message and two small maps per route, not a
// dozen values.
func (b *builder) routeMetadata(r *ir.HTTPRoute) *corev3.Metadata {
	if r.TrafficPolicy == nil || r.Metadata == nil {
		return b.metadata(r.Metadata)
	}
	k := [2]ir.Metadata{*r.Metadata, *r.TrafficPolicy}
	if md, ok := b.policyMetaCache[k]; ok {
		return md
	}
	src := b.metadata(r.Metadata)
	if src == nil {
		return nil
	}
	p := *r.TrafficPolicy
	pol, ok := b.policyValues[p]
	if !ok {
		pol = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"kind": structpb.NewStringValue(p.Kind), "name": structpb.NewStringValue(p.Name), "namespace": structpb.NewStringValue(p.Namespace),
		}})}})
		if b.policyValues == nil {
			b.policyValues = map[ir.Metadata]*structpb.Value{}
		}
		b.policyValues[p] = pol
	}
	md := &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		metadataNamespace: {Fields: map[string]*structpb.Value{
			"resources": src.FilterMetadata[metadataNamespace].Fields["resources"],
			"policies":  pol,
		}},
	}}
	if b.policyMetaCache == nil {
		b.policyMetaCache = map[[2]ir.Metadata]*corev3.Metadata{}
	}
	b.policyMetaCache[k] = md
	return md
}

// metadata is buildMetadata, built once per source object and proxy: one
// HTTPRoute names its routes, clusters and localities alike, and a
// Service every locality it backs, so at scale the same message would
// otherwise be rebuilt thousands of times. The result is shared between
// resources: nothing may modify it (copies for static bootstraps and
// redacted dumps are deep clones).
func (b *builder) metadata(m *ir.Metadata) *corev3.Metadata {
	if m == nil {
		return nil
	}
	// translate shares one *ir.Metadata per source object and a route's
	// pieces are built in a row, so a few recent pointers answer most calls
	// without hashing four strings; equal values behind other pointers (a
	// Service named by many backendRefs) are found by value.
	for _, r := range b.recentMeta {
		if r.ir == m {
			return r.md
		}
	}
	md, ok := b.metadataCache[*m]
	if !ok {
		md = buildMetadata(m)
		if b.metadataCache == nil {
			b.metadataCache = map[ir.Metadata]*corev3.Metadata{}
		}
		b.metadataCache[*m] = md
	}
	b.recentMeta[b.recentNext] = recentMetadata{m, md}
	b.recentNext = (b.recentNext + 1) % len(b.recentMeta)
	return md
}

// recentMetadata is one entry of builder.recentMeta.
type recentMetadata struct {
	ir *ir.Metadata
	md *corev3.Metadata
}
