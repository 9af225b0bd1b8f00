package validate

import (
	"bytes"
	"sort"
	"strconv"
	"sync"

	celgo "github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// CEL rules are evaluated by the API server's own validator (cel.go), but
// only when their outcome is not already known. A rule's outcome depends
// only on the parts of its value it reads: "!(has(self.cors) && self.type
// != 'CORS')" reads whether cors is set and what type is, nothing else.
// reads computes, from a rule's syntax tree, a conservative description of
// what the rules of one schema node can read; projection (cel.go) encodes
// exactly that part of a value, and equal encodings give equal outcomes.
// Ten thousand routes whose filters differ only in a header value then
// evaluate the filter rules once.
//
// Soundness rests on one invariant: every way an expression can reach data
// under self goes through a path this analysis tracks (field selection,
// indexing, the iteration variable of a known macro); any other use of a
// tracked value (a comparison, a function argument, a list literal, a
// macro this file does not know...) marks the whole value at that path as
// read. Anything the analysis cannot follow marks self as read in full, so
// the cache key becomes the whole value. TestReadsSound checks the
// invariant against the reference validator.

// readNode says what is read of the value at one path.
type readNode struct {
	sch    *structuralschema.Structural // nil when unknown
	full   bool                         // the whole value
	length bool                         // its size (lists, maps)
	keys   bool                         // its key set (objects, maps)
	fields map[string]*readNode
	names  []string  // sorted keys of fields, set by finish
	elem   *readNode // every element (lists) or member (objects)
}

func (r *readNode) field(name string) *readNode {
	if r.fields == nil {
		r.fields = map[string]*readNode{}
	}
	c := r.fields[name]
	if c == nil {
		c = &readNode{}
		if r.sch != nil {
			if p, ok := r.sch.Properties[name]; ok {
				c.sch = &p
			} else if r.sch.AdditionalProperties != nil {
				c.sch = r.sch.AdditionalProperties.Structural
			}
		}
		r.fields[name] = c
	}
	return c
}

// element is every element of a list or every member of a map/object.
func (r *readNode) element() *readNode {
	if r.elem == nil {
		r.elem = &readNode{}
		if r.sch != nil {
			switch {
			case r.sch.Items != nil:
				r.elem.sch = r.sch.Items
			case r.sch.AdditionalProperties != nil:
				r.elem.sch = r.sch.AdditionalProperties.Structural
			}
		}
	}
	return r.elem
}

func (r *readNode) typ() string {
	if r.sch == nil {
		return ""
	}
	return r.sch.Type
}

// finish sorts field names for a stable encoding and prunes what a full
// read already covers.
func (r *readNode) finish() {
	if r.full {
		r.fields, r.elem = nil, nil
		return
	}
	r.names = r.names[:0]
	for k, c := range r.fields {
		c.finish()
		r.names = append(r.names, k)
	}
	sort.Strings(r.names)
	if r.elem != nil {
		r.elem.finish()
	}
}

// abstract is what the analysis knows about an expression's value.
type abstract struct {
	path *readNode // the expression is the value at this path under self
	// filtered: the expression is a list of some elements of the list at
	// this path (X.filter(...)); only its size is free to read.
	filtered *readNode
}

// reads analyses rules (and message expressions) of one node. It returns
// nil when self must be read in full.
type analyzer struct {
	env   *celgo.Env
	root  *readNode
	vars  map[string]*readNode
	whole bool // give up: self is read in full
}

// parseEnv parses rules for the analysis. Macros are kept as calls so that
// all(), exists(), filter()... are seen as written, not as the
// comprehensions they expand to. Made on first use: egctl commands that
// validate nothing should not pay for it.
var parseEnv = sync.OnceValue(func() *celgo.Env {
	env, err := celgo.NewEnv(celgo.ClearMacros(), celgo.OptionalTypes())
	if err != nil {
		panic(err)
	}
	return env
})

func analyzeReads(sch *structuralschema.Structural, exprs []string) *readNode {
	a := &analyzer{env: parseEnv(), root: &readNode{sch: sch}, vars: map[string]*readNode{}}
	for _, src := range exprs {
		if src == "" {
			continue
		}
		ast, iss := a.env.Parse(src)
		if iss != nil && iss.Err() != nil {
			return nil
		}
		a.value(ast.NativeRep().Expr())
		if a.whole {
			return nil
		}
	}
	a.root.finish()
	return a.root
}

// value analyses e where its value is used as a whole.
func (a *analyzer) value(e celast.Expr) {
	a.use(a.expr(e))
}

// use marks a tracked value as read in full.
func (a *analyzer) use(v abstract) {
	if v.path != nil {
		v.path.full = true
	}
	if v.filtered != nil {
		v.filtered.full = true
	}
}

func (a *analyzer) expr(e celast.Expr) abstract {
	if a.whole {
		return abstract{}
	}
	switch e.Kind() {
	case celast.LiteralKind:
		return abstract{}
	case celast.IdentKind:
		name := e.AsIdent()
		if r, ok := a.vars[name]; ok {
			return abstract{path: r} // nil for a variable holding no path
		}
		if name == "self" {
			return abstract{path: a.root}
		}
		// oldSelf (never set on create), a type name, or a variable of a
		// macro this analysis does not know, whose source is an argument
		// that is then read in full.
		return abstract{}
	case celast.SelectKind:
		sel := e.AsSelect()
		op := a.expr(sel.Operand())
		if op.path == nil {
			a.use(op)
			return abstract{}
		}
		c := op.path.field(unescapeField(sel.FieldName()))
		if sel.IsTestOnly() {
			return abstract{} // presence: c exists in the tree, nothing more
		}
		return abstract{path: c}
	case celast.CallKind:
		return a.call(e.AsCall())
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			a.value(el)
		}
		return abstract{}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			if en.Kind() != celast.MapEntryKind {
				a.whole = true
				return abstract{}
			}
			a.value(en.AsMapEntry().Key())
			a.value(en.AsMapEntry().Value())
		}
		return abstract{}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			if f.Kind() != celast.StructFieldKind {
				a.whole = true
				return abstract{}
			}
			a.value(f.AsStructField().Value())
		}
		return abstract{}
	}
	// Comprehensions cannot appear without macros; anything else is new.
	a.whole = true
	return abstract{}
}

func unescapeField(name string) string {
	if u, ok := apiservercel.Unescape(name); ok {
		return u
	}
	return name
}

// iterMacros bind a variable to each element of their target.
var iterMacros = map[string]bool{"all": true, "exists": true, "exists_one": true, "filter": true, "map": true}

func (a *analyzer) call(c celast.CallExpr) abstract {
	fn, args := c.FunctionName(), c.Args()
	switch {
	case fn == "has" && !c.IsMemberFunction() && len(args) == 1 && args[0].Kind() == celast.SelectKind:
		sel := args[0].AsSelect()
		op := a.expr(sel.Operand())
		if op.path == nil {
			a.use(op)
			return abstract{}
		}
		op.path.field(unescapeField(sel.FieldName()))
		return abstract{}

	case fn == "size" && (c.IsMemberFunction() && len(args) == 0 || !c.IsMemberFunction() && len(args) == 1):
		x := c.Target()
		if !c.IsMemberFunction() {
			x = args[0]
		}
		v := a.expr(x)
		switch {
		case v.path != nil && (v.path.typ() == "array" || v.path.typ() == "object"):
			v.path.length = true
		case v.path != nil:
			v.path.full = true // a string's length: read the string
		}
		// The size of a filtered list depends only on what the filter's
		// predicate read, which is already marked.
		return abstract{}

	case (fn == "_[_]" || fn == "_[?_]") && len(args) == 2:
		op := a.expr(args[0])
		if op.path == nil {
			a.use(op)
			a.value(args[1])
			return abstract{}
		}
		idx := args[1]
		if op.path.typ() == "object" && idx.Kind() == celast.LiteralKind {
			if s, ok := idx.AsLiteral().(types.String); ok {
				return abstract{path: op.path.field(string(s))}
			}
		}
		a.value(idx)
		switch op.path.typ() {
		case "array", "object":
			return abstract{path: op.path.element()}
		}
		op.path.full = true
		return abstract{}

	case c.IsMemberFunction() && iterMacros[fn] && len(args) >= 2 && args[0].Kind() == celast.IdentKind:
		target := a.expr(c.Target())
		v := args[0].AsIdent()
		var bound *readNode
		twoVar := len(args) == 3 && args[1].Kind() == celast.IdentKind && fn != "map" && fn != "filter"
		switch {
		case twoVar:
			a.use(target) // all(k, v, ...) and friends: keep it simple
		case target.path != nil && target.path.typ() == "array":
			bound = target.path.element()
		case target.path != nil && target.path.typ() == "object":
			target.path.keys = true // iterating a map yields its keys
		default:
			a.use(target)
		}
		saved, had := a.vars[v]
		a.vars[v] = bound
		var saved2 *readNode
		var had2 bool
		v2 := ""
		if twoVar {
			v2 = args[1].AsIdent()
			saved2, had2 = a.vars[v2]
			a.vars[v2] = nil
		}
		body := args[1:]
		if twoVar {
			body = args[2:]
		}
		for _, b := range body {
			a.value(b)
		}
		if had {
			a.vars[v] = saved
		} else {
			delete(a.vars, v)
		}
		if twoVar {
			if had2 {
				a.vars[v2] = saved2
			} else {
				delete(a.vars, v2)
			}
		}
		if fn == "filter" && target.path != nil && bound != nil {
			return abstract{filtered: target.path}
		}
		return abstract{}
	}
	if c.IsMemberFunction() {
		a.value(c.Target())
	}
	for _, x := range args {
		a.value(x)
	}
	return abstract{}
}

// project appends to out an encoding of what r reads of v (nil: absent).
func (t *jtree) project(out []byte, r *readNode, v *jnode) []byte {
	if v == nil {
		return append(out, 'A')
	}
	if r.full {
		raw := t.raw(v)
		out = append(out, 'F')
		out = strconv.AppendInt(out, int64(len(raw)), 10)
		out = append(out, ':')
		return append(out, raw...)
	}
	switch v.kind {
	case jNull:
		return append(out, 'Z')
	case jObject:
		out = append(out, 'O')
		if r.length || r.keys || r.elem != nil {
			out = strconv.AppendInt(out, int64(v.count), 10)
			out = append(out, ':')
		}
		if r.keys || r.elem != nil {
			for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
				c := &t.nodes[ci]
				k := t.buf[c.keyStart:c.keyEnd]
				out = strconv.AppendInt(out, int64(len(k)), 10)
				out = append(out, ':')
				out = append(out, k...)
				if r.elem != nil {
					out = t.project(out, r.elem, c)
				}
			}
		}
		for _, name := range r.names {
			out = t.project(out, r.fields[name], t.child(v, name))
		}
		return out
	case jArray:
		if len(r.names) > 0 || r.keys {
			// fields of a list: the schema is not what the rule
			// expects; fall back to the whole value
			return t.project(out, &readNode{full: true}, v)
		}
		out = append(out, 'L')
		out = strconv.AppendInt(out, int64(v.count), 10)
		out = append(out, ':')
		if r.elem != nil {
			for ci := v.first; ci >= 0; ci = t.nodes[ci].next {
				out = t.project(out, r.elem, &t.nodes[ci])
			}
		}
		return out
	}
	if len(r.names) > 0 || r.elem != nil || r.length || r.keys {
		return t.project(out, &readNode{full: true}, v)
	}
	// A scalar whose presence alone is read. Its type still matters to an
	// evaluation of a value the schema check already refused (CEL fails
	// on a fraction where the schema says integer), so it is kept.
	out = append(out, 'P', v.kind)
	if v.kind == jNumber && bytes.ContainsAny(t.raw(v), ".eE") {
		out = append(out, '.')
	}
	return out
}
