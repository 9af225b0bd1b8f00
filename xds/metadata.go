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
	fields := map[string]*structpb.Value{}
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
