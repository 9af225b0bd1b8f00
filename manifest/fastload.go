package manifest

import "github.com/egctl/egctl/resource"

// fastPath switches the fast YAML path on; tests turn it off to compare.
var fastPath = true

// fastDocument loads one single-document chunk through the fast path. It
// reports false, having recorded nothing, when the chunk must go through
// the yaml.v3 path instead: outside the fast subset, a List, a kind that
// is skipped or unknown, or any problem at all (so every message comes
// from the one path that knows how to locate it).
func (c *docCtx) fastDocument(p *fastParser, data []byte) bool {
	if !fastPath || !p.parse(data) {
		return false
	}
	h := &p.hdr
	group, version := splitGV(h.apiVersion)
	info := registry[gvk{group, version, h.kind}]
	if info == nil || h.name == "" {
		return false
	}
	ns := h.namespace
	if info.clusterScoped {
		ns = ""
	} else if ns == "" {
		ns = c.ns
	}
	// The JSON is parsed once, for the decoder and the validator.
	if p.doc.Parse(p.w.buf) != nil {
		return false
	}
	var obj object
	if info.fresh != nil {
		if o := info.fresh(); p.doc.Decode(o) {
			obj = o
		}
	}
	if obj == nil {
		// A kind or an input the fast decoder leaves alone: the strict
		// decoder decides, and the slow path reports what it finds.
		o, strict, err := info.decode(p.w.buf)
		if err != nil || len(strict) > 0 {
			return false
		}
		obj = o
	}
	obj.SetNamespace(ns)
	if len(c.validate(info, p.w.buf, &p.doc, obj)) > 0 {
		return false // the slow path reports, with lines
	}
	obj.SetGroupVersionKind(gvkOf(info))
	c.res.objs = append(c.res.objs, loadedObj{
		key:       resource.Key{Group: group, Kind: h.kind, Namespace: ns, Name: h.name},
		origin:    c.origin(p.line),
		info:      info,
		obj:       obj,
		fileIndex: c.src.index,
	})
	return true
}
