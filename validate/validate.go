// Package validate checks objects the way the Kubernetes API server would
// when they are created, so that what a cluster would refuse is refused
// offline too, before it is translated into Envoy configuration.
//
// For the Gateway API (v1.6.3, experimental channel, a superset of
// standard) and Envoy Gateway (v1.9.1) kinds, that is the CRDs' OpenAPI
// schemas (types, enums, patterns, formats, bounds, required fields,
// list-type maps and sets, allOf/anyOf/oneOf/not) and their CEL rules
// (x-kubernetes-validations), evaluated on the object with the schema's
// defaults applied. The schemas are generated from the modules go.mod pins
// (crds/, `go generate ./validate/`; a test fails when they are stale).
// For every kind, metadata follows the API server's ObjectMeta rules
// (names, namespaces, labels, annotations); for the core kinds egctl reads
// (Service, EndpointSlice, Secret, ConfigMap, Namespace), the fields egctl
// uses follow their built-in validation (core.go). On top of that, egctl's
// own rule on control characters (text.go).
//
// What is not done, because nothing the API server offers covers it on
// create of a single object: admission webhooks and validating admission
// policies, ratcheting, and rules that compare with an older version
// (transition rules are skipped on create, as the API server skips them).
//
// Validation is fast because it is lazy: a kind's schema is loaded and
// prepared the first time an object of that kind is seen, each CEL rule
// is compiled the first time a value reaches it, and the outcome of a
// node's rules is cached by what the rules can read (reads.go). A Session
// holds the caches; use one per goroutine.
package validate

import (
	"fmt"

	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Object is one decoded object.
type Object struct {
	Group, Version, Kind string
	ClusterScoped        bool
	// JSON is the object as the loader decoded it.
	JSON []byte
	// Doc, when set, is JSON already parsed (the loader decodes from it);
	// it saves parsing the text a second time.
	Doc *Doc
	// Typed is the strictly decoded object (a pointer to an API type);
	// its metadata is checked, and core kinds are checked on it.
	Typed any
}

// Session validates objects one after the other; it is not safe for
// concurrent use. Sessions share compiled schemas and rules.
type Session struct {
	tree   *jtree // own, or the Doc of the object being validated
	own    jtree
	path   []pathSeg
	errs   []FieldError
	memo   map[string]celResult
	keyBuf []byte
	budget int64

	deferred []deferredCEL

	celHits, celMisses int

	// last is the schema of the kind validated last: objects of a kind
	// mostly come together, and schemaFor builds a key to look it up.
	last struct {
		group, version, kind string
		root                 *node
		err                  error
	}
}

func (s *Session) schema(group, version, kind string) (*node, error) {
	l := &s.last
	if l.root == nil || l.group != group || l.version != version || l.kind != kind {
		root, err := schemaFor(group, version, kind)
		if root == nil {
			return root, err // not kept: cheap to look up again
		}
		l.group, l.version, l.kind, l.root, l.err = group, version, kind, root, err
	}
	return l.root, l.err
}

// NewSession returns an empty Session.
func NewSession() *Session { return &Session{} }

// HasSchema reports whether egctl has a CRD schema for group/version/kind.
func HasSchema(group, version, kind string) bool {
	n, err := schemaFor(group, version, kind)
	return n != nil || err != nil
}

// Validate returns every problem of o, in document order. The strings of
// the result do not alias o.JSON.
func (s *Session) Validate(o Object) []FieldError {
	s.errs = s.errs[:0]
	s.path = s.path[:0]
	s.errs = append(s.errs, metaErrors(o)...)
	if c := coreErrors(o); c != nil {
		s.errs = append(s.errs, c...)
	}
	root, err := s.schema(o.Group, o.Version, o.Kind)
	if err != nil {
		s.errs = append(s.errs, FieldError{Message: fmt.Sprintf("internal error: the embedded schema of %s is unusable: %v", o.Kind, err)})
	}
	if o.Doc != nil && len(o.Doc.t.nodes) > 0 {
		s.tree = &o.Doc.t
	} else {
		s.tree = &s.own
		if err := s.tree.parse(o.JSON); err != nil {
			s.errs = append(s.errs, FieldError{Message: "internal error: validating: " + err.Error()})
			return s.result()
		}
	}
	defer func() { s.tree = nil }() // the Doc belongs to the caller
	if s.tree.ctrl {
		s.controlChars()
	}
	if root != nil {
		s.budget = celconfig.RuntimeCELCostBudget
		s.walk(root, &s.tree.nodes[0])
		s.finishDeferred()
	}
	return s.result()
}

// result copies the errors out of the session's buffers.
func (s *Session) result() []FieldError {
	if len(s.errs) == 0 {
		return nil
	}
	out := make([]FieldError, len(s.errs))
	copy(out, s.errs)
	return out
}

// Stats reports how many CEL evaluations the cache saved, for benchmarks.
func (s *Session) Stats() (celHits, celMisses int) { return s.celHits, s.celMisses }

// controlChars reports every string or key holding a forbidden control
// character (the parse only noticed there is one).
func (s *Session) controlChars() {
	t := s.tree
	var visit func(i int32)
	visit = func(i int32) {
		n := &t.nodes[i]
		switch n.kind {
		case jString:
			if hasForbidden(t.str(n)) {
				s.errorf("must not contain control characters")
			}
		case jObject, jArray:
			idx := 0
			for ci := n.first; ci >= 0; ci = t.nodes[ci].next {
				c := &t.nodes[ci]
				if n.kind == jObject {
					k := t.key(c)
					s.push(k)
					if hasForbidden(k) {
						s.errorf("key must not contain control characters")
					}
				} else {
					s.pushIndex(idx)
				}
				visit(ci)
				s.pop()
				idx++
			}
		}
	}
	visit(0)
}

func hasForbidden(str string) bool {
	for _, r := range str {
		if isForbiddenControl(r) {
			return true
		}
	}
	return false
}
