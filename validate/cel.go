package validate

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// celNode is the x-kubernetes-validations of one schema node. The rules
// are compiled the first time a value reaches the node, by the API
// server's own CEL validator, built for this node alone: a copy of the
// node's schema whose descendants carry no rules (they have their own
// celNode). Evaluating rules that way costs about 10 µs each; the cache
// of the Session (keyed by what the rules can read, reads.go) makes most
// evaluations unnecessary.
type celNode struct {
	n *node
	// state is celIdle, celCompiling or celReady; done is closed when
	// ready. A Session that finds another one compiling the rules does
	// not wait: it checks the rest of the object (compiling other nodes'
	// rules meanwhile, on another core) and comes back at the end.
	state atomic.Int32
	once  sync.Once
	done  chan struct{}
	id    uint64
	val   *cel.Validator
	sch   *structuralschema.Structural
	reads *readNode // nil: rules read the whole value
}

var celIDs atomic.Uint64

func (c *celNode) compile() {
	c.id = celIDs.Add(1)
	var exprs []string
	for _, r := range c.n.s.XValidations {
		exprs = append(exprs, r.Rule, r.MessageExpression)
	}
	c.reads = analyzeReads(c.n.s, exprs)
	c.sch = ruleSchema(c.n.s, c.reads, true)
	c.val = cel.NewValidator(c.sch, c.n.resourceRoot, celconfig.PerCallLimit)
}

// ruleSchema is the schema the rules of one node are compiled against: a
// copy of the node's, without the rules of its descendants (they have
// their own celNode) and without the properties the rules do not read.
// Compiling builds a CEL type for the whole schema it is given; for the
// rules on spec.rules of an HTTPRoute that is nearly the whole CRD, and
// cutting it to what the rules read makes compiling several times faster.
// r nil, or a full or key-set read, keeps the subtree whole.
func ruleSchema(s *structuralschema.Structural, r *readNode, top bool) *structuralschema.Structural {
	if s == nil {
		return nil
	}
	out := *s // shallow: only what is replaced below is copied
	if !top {
		out.XValidations = nil
	}
	if out.ValueValidation != nil && len(out.ValueValidation.AllOf) > 0 {
		vv := *out.ValueValidation
		vv.AllOf = append([]structuralschema.NestedValueValidation(nil), vv.AllOf...)
		for i := range vv.AllOf {
			vv.AllOf[i].XValidations = nil
		}
		out.ValueValidation = &vv
	}
	whole := r == nil || r.full || r.keys
	if len(s.Properties) > 0 {
		out.Properties = make(map[string]structuralschema.Structural, len(s.Properties))
		for k, p := range s.Properties {
			var cr *readNode
			if !whole {
				cr = r.fields[k]
				if cr == nil {
					continue // never read: left out of the CEL type
				}
			}
			out.Properties[k] = *ruleSchema(&p, cr, false)
		}
	}
	var childReads *readNode // nil: keep whole
	if !whole {
		childReads = r.elem
		if childReads == nil {
			childReads = &readNode{} // read only through its size, if at all
		}
	}
	if s.Items != nil {
		out.Items = ruleSchema(s.Items, childReads, false)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		ar := childReads
		if !whole && len(r.fields) > 0 {
			ar = nil // members read by name: keep them whole
		}
		out.AdditionalProperties = &structuralschema.StructuralOrBool{
			Structural: ruleSchema(s.AdditionalProperties.Structural, ar, false),
			Bool:       s.AdditionalProperties.Bool,
		}
	}
	return &out
}

// celResult is a cached outcome: errors relative to the node, and the
// cost the evaluation took from the object's budget.
type celResult struct {
	errs []FieldError
	cost int64
}

const (
	celIdle int32 = iota
	celCompiling
	celReady
)

// ready compiles the rules if nobody has, and reports whether they are
// ready; false means another goroutine is compiling them.
func (c *celNode) ready() bool {
	switch c.state.Load() {
	case celReady:
		return true
	case celIdle:
		if c.state.CompareAndSwap(celIdle, celCompiling) {
			c.once.Do(c.compile)
			c.state.Store(celReady)
			close(c.done)
			return true
		}
	}
	return false
}

// deferredCEL is a node whose rules were being compiled by another
// Session when the walk reached it.
type deferredCEL struct {
	n    *node
	v    int32 // index in the tree
	path []pathSeg
}

func (s *Session) checkCEL(n *node, v *jnode) {
	c := n.cel
	if !c.ready() {
		s.deferred = append(s.deferred, deferredCEL{n: n, v: int32(s.tree.index(v)), path: append([]pathSeg(nil), s.path...)})
		return
	}
	if c.val == nil {
		return
	}
	if s.budget <= 0 {
		return // already reported for this object
	}
	key := s.keyBuf[:0]
	key = appendUint(key, c.id)
	if c.reads == nil {
		key = s.tree.project(key, &readNode{full: true}, v)
	} else {
		key = s.tree.project(key, c.reads, v)
	}
	s.keyBuf = key
	res, ok := s.memo[string(key)]
	if !ok {
		res = s.evalCEL(n, v)
		if s.memo == nil {
			s.memo = map[string]celResult{}
		}
		s.memo[string(key)] = res
		s.celMisses++
	} else {
		s.celHits++
	}
	s.budget -= res.cost
	if s.budget < 0 {
		s.errorf("validation failed due to running out of cost budget, no further validation rules will be run")
		return
	}
	if len(res.errs) == 0 {
		return
	}
	base := s.pathString()
	for _, e := range res.errs {
		p := base
		switch {
		case e.Path == "":
		case base == "":
			p = strings.TrimPrefix(e.Path, ".")
		default:
			p = base + e.Path
		}
		s.errs = append(s.errs, FieldError{Path: p, Message: e.Message})
	}
}

// finishDeferred waits for the rules the walk skipped and checks them.
func (s *Session) finishDeferred() {
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		s.deferred = s.deferred[1:]
		<-d.n.cel.done
		s.path = append(s.path[:0], d.path...)
		s.checkCEL(d.n, &s.tree.nodes[d.v])
	}
	s.deferred = s.deferred[:0]
}

func appendUint(b []byte, x uint64) []byte {
	for i := 0; i < 8; i++ {
		b = append(b, byte(x>>(8*i)))
	}
	return b
}

// celRoot anchors the paths of the reference validator's errors so they
// can be made relative to the node.
const celRoot = "$"

func (s *Session) evalCEL(n *node, v *jnode) celResult {
	x, err := s.decode(n, v)
	if err != nil {
		return celResult{errs: []FieldError{{Message: "cannot decode for CEL validation: " + err.Error()}}}
	}
	errs, remaining := n.cel.val.Validate(context.Background(), field.NewPath(celRoot), n.cel.sch, x, nil, celconfig.RuntimeCELCostBudget)
	res := celResult{cost: celconfig.RuntimeCELCostBudget - remaining}
	if remaining < 0 {
		res.cost = celconfig.RuntimeCELCostBudget
	}
	for _, e := range errs {
		res.errs = append(res.errs, FieldError{Path: relPath(e.Field), Message: celMessage(e)})
	}
	return res
}

// relPath turns "$.a[0].b" into ".a[0].b" and "$" into "".
func relPath(p string) string {
	p = strings.TrimPrefix(p, celRoot)
	// The reference validator renders map keys as [key]; the loader's
	// paths (and their line lookup) use .key.
	if strings.Contains(p, "[") {
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			if p[i] == '[' {
				j := strings.IndexByte(p[i:], ']')
				if j > 0 && !isDigits(p[i+1:i+j]) {
					b.WriteByte('.')
					b.WriteString(p[i+1 : i+j])
					i += j
					continue
				}
			}
			b.WriteByte(p[i])
		}
		p = b.String()
	}
	return p
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// celMessage is the rule's message without the offending value (which
// the API server prints, and which may be anything, a token included).
func celMessage(e *field.Error) string {
	switch e.Type {
	case field.ErrorTypeInvalid:
		return e.Detail
	case field.ErrorTypeRequired:
		return strings.TrimSuffix("Required value: "+e.Detail, ": ")
	case field.ErrorTypeForbidden:
		return strings.TrimSuffix("Forbidden: "+e.Detail, ": ")
	case field.ErrorTypeDuplicate:
		return strings.TrimSuffix("Duplicate value: "+e.Detail, ": ")
	case field.ErrorTypeInternal:
		return "internal error: " + e.Detail
	}
	return e.Type.String() + ": " + e.Detail
}
