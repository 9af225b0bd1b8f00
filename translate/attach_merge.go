package translate

import (
	"encoding/json"
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// mergeSpecs returns parent with child laid over it, as a route-level policy
// with mergeType is combined with the policy of the listener or Gateway it
// is attached below: JSONMerge is RFC 7386 (child fields replace parent
// fields, objects merge key by key, lists are replaced whole); StrategicMerge
// is Kubernetes' strategic merge patch over the spec's Go type (lists with a
// merge key merge element by element).
func mergeSpecs[T any](parent, child *T, mt egv1a1.MergeType) (*T, error) {
	pj, err := json.Marshal(parent)
	if err != nil {
		return nil, err
	}
	cj, err := json.Marshal(child)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch mt {
	case egv1a1.JSONMerge:
		out, err = jsonpatch.MergePatch(pj, cj)
	case egv1a1.StrategicMerge:
		var zero T
		out, err = strategicpatch.StrategicMergePatch(pj, cj, zero)
	default:
		return nil, fmt.Errorf("spec.mergeType: unsupported value %q (StrategicMerge or JSONMerge)", mt)
	}
	if err != nil {
		return nil, fmt.Errorf("merging onto the parent policy (%s): %w", mt, err)
	}
	res := new(T)
	if err := json.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("merging onto the parent policy (%s): %w", mt, err)
	}
	return res, nil
}
