package xds

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/egctl/egctl/ir"
)

// buildHeaderMods spells a Gateway API header filter in Envoy's words: Set
// overwrites (or adds), Add appends to an existing value (or adds), Remove
// deletes.
func buildHeaderMods(m *ir.HeaderModifier) ([]*corev3.HeaderValueOption, []string) {
	if m == nil {
		return nil, nil
	}
	var add []*corev3.HeaderValueOption
	for _, h := range m.Set {
		add = append(add, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	for _, h := range m.Add {
		add = append(add, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		})
	}
	var remove []string
	if len(m.Remove) > 0 {
		remove = append(remove, m.Remove...)
	}
	return add, remove
}
