package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/validate"
)

// loadedObj is one decoded object waiting to be merged into the Set.
type loadedObj struct {
	key       resource.Key
	origin    resource.Origin
	info      *kindInfo
	obj       object
	fileIndex int
}

type unitResult struct {
	objs  []loadedObj
	warns []Warning
	errs  []*Error
}

// docCtx carries what decoding one document needs.
type docCtx struct {
	src     *source
	ns      string // default namespace
	lineOff int    // lines before the chunk the nodes were parsed from
	budget  int
	res     *unitResult
	// sess validates decoded objects (validate.go); one per goroutine.
	sess *validate.Session
}

func (c *docCtx) origin(line int) resource.Origin {
	if line > 0 {
		line += c.lineOff
	}
	if c.src.remap != nil {
		return c.src.remap(line)
	}
	return resource.Origin{File: c.src.name, Line: line}
}

// notKubernetes skips a document that is no Kubernetes object at all, in a
// file a directory walk found: the directory holds other YAML too (a Helm
// values.yaml, a CI configuration). It reports false for a file named on
// the command line, where such a document is an error.
func (c *docCtx) notKubernetes(line int, what string) bool {
	if !c.src.walked {
		return false
	}
	hint := "exclude such files with --exclude GLOB"
	switch filepath.Base(c.src.name) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		hint = "a kustomization: build it with -k DIR, or exclude it with --exclude GLOB"
	}
	c.res.warns = append(c.res.warns, Warning{
		Origin:  c.origin(line),
		Message: "skipping " + what + ": not a Kubernetes object (" + hint + ")",
	})
	return true
}

func (c *docCtx) errorf(line int, obj, path, format string, args ...any) {
	c.res.errs = append(c.res.errs, &Error{
		Origin: c.origin(line), Object: obj, Path: path,
		Message: fmt.Sprintf(format, args...), fileIndex: c.src.index,
	})
}

func (u *unit) run(ns string, sess *validate.Session) (res unitResult) {
	c := &docCtx{src: u.src, ns: ns, res: &res, budget: 1<<20 + 16*len(u.src.data), sess: sess}
	defer func() {
		// The YAML library has panicked on hostile input before; one bad
		// file must not take the whole run down.
		if r := recover(); r != nil {
			c.errorf(0, "", "", "internal error while reading this file (please report): %v", r)
		}
	}()
	if u.err != nil {
		res.errs = append(res.errs, u.err)
		return res
	}
	for _, d := range u.docs {
		c.lineOff = 0
		c.document(d)
	}
	var fp *fastParser
	for _, ch := range u.chunks {
		c.lineOff = ch.lineOff
		if ch.single {
			if fp == nil {
				fp = &fastParser{}
			}
			if c.fastDocument(fp, ch.data) {
				continue
			}
			// One document: parse straight from the bytes, without the
			// buffering a streaming decoder sets up.
			var n yaml.Node
			if err := yaml.Unmarshal(ch.data, &n); err != nil {
				c.syntaxError(ch, err)
				continue
			}
			c.document(&n)
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(ch.data))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == io.EOF {
				break
			}
			if err != nil {
				c.syntaxError(ch, err)
				break
			}
			c.document(&n)
		}
	}
	return res
}

func (c *docCtx) document(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root == nil || root.Kind == 0 {
		return
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return // an empty document ("---" followed by nothing or comments)
	}
	if c.src.walked && !hasTypeMeta(root) {
		what := "a mapping without apiVersion and kind"
		if root.Kind != yaml.MappingNode {
			what = describeNode(root)
		}
		if c.notKubernetes(root.Line, what) {
			return
		}
	}
	c.object(root, "", "")
}

// hasTypeMeta reports whether n is a mapping with an apiVersion or a kind
// key: what makes a document meant as a Kubernetes object.
func hasTypeMeta(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolveAlias(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && (k.Value == "apiVersion" || k.Value == "kind") {
			return true
		}
	}
	return false
}

// header is what is read from an object before decoding it.
type header struct {
	apiVersion, kind, name, namespace string
	items                             *yaml.Node
	hasItems                          bool
}

func scalarValue(n *yaml.Node) (string, bool) {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.ShortTag() == "!!null" {
		return "", true
	}
	return n.Value, true
}

func (c *docCtx) readHeader(n *yaml.Node) (header, bool) {
	var h header
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolveAlias(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		switch k.Value {
		case "apiVersion", "kind":
			s, isScalar := scalarValue(v)
			if !isScalar {
				c.errorf(k.Line, "", k.Value, "must be a string")
				ok = false
			}
			if k.Value == "kind" {
				h.kind = s
			} else {
				h.apiVersion = s
			}
		case "items":
			h.hasItems = true
			h.items = resolveAlias(v)
		case "metadata":
			m := resolveAlias(v)
			if m == nil || m.Kind != yaml.MappingNode {
				continue // the strict decode reports the wrong type
			}
			for j := 0; j+1 < len(m.Content); j += 2 {
				mk := resolveAlias(m.Content[j])
				if mk == nil || mk.Kind != yaml.ScalarNode {
					continue
				}
				switch mk.Value {
				case "name":
					h.name, _ = scalarValue(m.Content[j+1])
				case "namespace":
					h.namespace, _ = scalarValue(m.Content[j+1])
				}
			}
		}
	}
	return h, ok
}

func displayName(kind, ns, name string) string {
	if kind == "" {
		return ""
	}
	switch {
	case name == "":
		return kind
	case ns == "":
		return kind + " " + name
	default:
		return kind + " " + ns + "/" + name
	}
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

// object decodes one object (or List) node. defAPIVersion and defKind come
// from an enclosing typed List ("HTTPRouteList" → "HTTPRoute").
func (c *docCtx) object(n *yaml.Node, defAPIVersion, defKind string) {
	if n.Kind != yaml.MappingNode {
		c.errorf(n.Line, "", "", "expected an object (a mapping with apiVersion and kind), found %s", describeNode(n))
		return
	}
	h, ok := c.readHeader(n)
	if !ok {
		return
	}
	if h.apiVersion == "" {
		h.apiVersion = defAPIVersion
	}
	if h.kind == "" {
		h.kind = defKind
	}
	group, version := splitGV(h.apiVersion)
	info := registry[gvk{group, version, h.kind}]

	if info == nil && strings.HasSuffix(h.kind, "List") && (h.hasItems || h.kind == "List") {
		c.list(n, h)
		return
	}

	switch {
	case h.kind == "" && h.apiVersion == "":
		c.errorf(n.Line, "", "", "missing apiVersion and kind")
		return
	case h.kind == "":
		c.errorf(n.Line, "", "", "%s object: missing kind", h.apiVersion)
		return
	case h.apiVersion == "":
		c.errorf(n.Line, displayName(h.kind, h.namespace, h.name), "", "missing apiVersion")
		return
	}

	if info == nil {
		disp := displayName(h.kind, h.namespace, h.name)
		if ownedGroups[group] && !ignoredOwnedKinds[gvk{group, version, h.kind}] {
			msg := fmt.Sprintf("unsupported apiVersion/kind %s %s", h.apiVersion, h.kind)
			if vs := supportedVersions(group, h.kind); len(vs) > 0 {
				msg += "; " + h.kind + " is accepted in " + strings.Join(vs, ", ")
			} else if ks := supportedKinds(group, version); len(ks) > 0 {
				msg += "; " + h.apiVersion + " kinds are " + strings.Join(ks, ", ")
			} else {
				msg += "; unknown version of " + group
			}
			c.errorf(n.Line, disp, "", "%s", msg)
			return
		}
		obj := displayName(h.kind, h.namespace, h.name)
		c.res.warns = append(c.res.warns, Warning{
			Origin:  c.origin(n.Line),
			Message: fmt.Sprintf("skipping %s %s: kind not used by egctl", h.apiVersion, obj),
		})
		return
	}

	ns := h.namespace
	if info.clusterScoped {
		ns = ""
	} else if ns == "" {
		ns = c.ns
	}
	disp := displayName(h.kind, ns, h.name)
	if h.name == "" {
		c.errorf(n.Line, disp, "metadata.name", "missing; every object needs a name")
		return
	}

	data, err := toJSON(n, c.budget, nil)
	if err != nil {
		c.convError(err, disp)
		return
	}
	obj, strict, err := info.decode(data)
	if err != nil || len(strict) > 0 {
		c.decodeErrors(n, info, disp, strict, err)
		return
	}
	obj.SetNamespace(ns)
	if errs := c.validate(info, data, nil, obj); len(errs) > 0 {
		c.validationErrors(n, disp, errs)
		return
	}
	obj.SetGroupVersionKind(gvkOf(info))
	c.res.objs = append(c.res.objs, loadedObj{
		key:       resource.Key{Group: group, Kind: h.kind, Namespace: ns, Name: h.name},
		origin:    c.origin(n.Line),
		info:      info,
		obj:       obj,
		fileIndex: c.src.index,
	})
}

func (c *docCtx) list(n *yaml.Node, h header) {
	if !h.hasItems || h.items == nil || (h.items.Kind == yaml.ScalarNode && h.items.ShortTag() == "!!null") {
		return // an empty list
	}
	if h.items.Kind != yaml.SequenceNode {
		c.errorf(h.items.Line, h.kind, "items", "expected a list, found %s", describeNode(h.items))
		return
	}
	var defAPIVersion, defKind string
	if h.kind != "List" {
		defAPIVersion, defKind = h.apiVersion, strings.TrimSuffix(h.kind, "List")
	}
	items := h.items.Content
	workers := runtime.GOMAXPROCS(0)
	if len(items) < parallelItems || workers < 2 {
		c.items(items, defAPIVersion, defKind)
		return
	}
	// A big List (kubectl get -o yaml) is one document, so the file-level
	// parallelism does not help; decode its items in parallel instead.
	parts := make([]unitResult, workers)
	var wg sync.WaitGroup
	per := (len(items) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := min(w*per, len(items)), min((w+1)*per, len(items))
		sub := *c
		sub.res = &parts[w]
		if c.sess != nil {
			sub.sess = validate.NewSession()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					sub.errorf(0, "", "", "internal error while reading this file (please report): %v", r)
				}
			}()
			sub.items(items[lo:hi], defAPIVersion, defKind)
		}()
	}
	wg.Wait()
	for i := range parts {
		c.res.objs = append(c.res.objs, parts[i].objs...)
		c.res.warns = append(c.res.warns, parts[i].warns...)
		c.res.errs = append(c.res.errs, parts[i].errs...)
	}
}

// parallelItems is the List size from which items are decoded in parallel.
const parallelItems = 256

func (c *docCtx) items(items []*yaml.Node, defAPIVersion, defKind string) {
	for _, it := range items {
		it = resolveAlias(it)
		if it == nil {
			continue
		}
		c.object(it, defAPIVersion, defKind)
	}
}

func (c *docCtx) convError(err error, disp string) {
	var ce *convError
	if errors.As(err, &ce) {
		c.errorf(ce.line, disp, ce.path, "%s", ce.msg)
		return
	}
	c.errorf(0, disp, "", "%s", err.Error())
}
