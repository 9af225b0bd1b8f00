package manifest

import (
	"encoding/json"

	yaml "go.yaml.in/yaml/v3"

	"github.com/egctl/egctl/validate"
)

// validate checks a strictly decoded object as the API server would on
// create (package validate). data is the JSON it was decoded from; doc,
// when not nil, is data parsed.
func (c *docCtx) validate(info *kindInfo, data []byte, doc *validate.Doc, obj object) []validate.FieldError {
	if c.sess == nil {
		return nil // Options.SkipAPIValidation
	}
	o := validate.Object{
		Group: info.group, Version: info.version, Kind: info.kind,
		ClusterScoped: info.clusterScoped, JSON: data, Doc: doc, Typed: obj,
	}
	if info.stored != info.version && !validate.HasSchema(info.group, info.version, info.kind) {
		// A version the CRDs no longer serve (v1alpha2 GRPCRoute and
		// ReferenceGrant): what the API server would hold is the object
		// converted to the version egctl keeps, so validate that.
		b, err := json.Marshal(obj)
		if err != nil {
			return []validate.FieldError{{Message: "cannot convert for validation: " + err.Error()}}
		}
		o.Version, o.JSON, o.Doc = info.stored, b, nil
	}
	return c.sess.Validate(o)
}

// validationErrors reports validation problems at the line of each field
// (or of its closest ancestor that has one).
func (c *docCtx) validationErrors(n *yaml.Node, disp string, errs []validate.FieldError) {
	rec := &recorder{}
	byPath := map[string]int{}
	if _, err := toJSON(n, c.budget, rec); err == nil {
		for _, s := range rec.spans {
			byPath[s.path] = s.line
		}
	}
	for _, e := range errs {
		line := n.Line
		for p := e.Path; p != ""; p = parentPath(p) {
			if l, ok := byPath[p]; ok {
				line = l
				break
			}
		}
		c.errorf(line, disp, e.Path, "%s", e.Message)
	}
}
