package validate

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"

	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
)

//go:embed crds/*.json
var crdFiles embed.FS

// crdFile mirrors crdgen.File (kept apart so the generator, and with it
// Envoy Gateway's embedded CRDs, stay out of the binary).
type crdFile struct {
	Group    string `json:"group"`
	Kind     string `json:"kind"`
	Scope    string `json:"scope"`
	Source   string `json:"source"`
	Versions []struct {
		Name   string                    `json:"name"`
		Schema *apiextv1.JSONSchemaProps `json:"schema"`
	} `json:"versions"`
}

// crdEntry is one embedded CRD, loaded the first time an object of its
// kind is validated.
type crdEntry struct {
	file string
	once sync.Once
	// versions by name; err when the schema could not be loaded (a bug
	// in the generated data, reported on every object of the kind).
	versions map[string]*node
	source   string
	err      error
}

var headRE = regexp.MustCompile(`^\{"group":"([^"]+)","kind":"([^"]+)"`)

var (
	crdIndexOnce sync.Once
	crdIndex     map[string]*crdEntry // "group/Kind"
)

func loadIndex() {
	crdIndex = map[string]*crdEntry{}
	ents, err := crdFiles.ReadDir("crds")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	for _, e := range ents {
		data, err := crdFiles.ReadFile("crds/" + e.Name())
		if err != nil {
			panic(err)
		}
		// The group and kind are the first two keys (crdgen writes them
		// so); decoding the whole file here would parse every schema.
		var group, kind string
		if m := headRE.FindSubmatch(data[:min(len(data), 512)]); m != nil {
			group, kind = string(m[1]), string(m[2])
		} else {
			var f crdFile
			if err := json.Unmarshal(data, &f); err != nil {
				panic(fmt.Sprintf("validate: embedded %s: %v", e.Name(), err))
			}
			group, kind = f.Group, f.Kind
		}
		crdIndex[group+"/"+kind] = &crdEntry{file: "crds/" + e.Name()}
	}
}

// schemaFor returns the root node of group/version/kind's schema, nil when
// no CRD of egctl's defines that kind and version.
func schemaFor(group, version, kind string) (*node, error) {
	crdIndexOnce.Do(loadIndex)
	e := crdIndex[group+"/"+kind]
	if e == nil {
		return nil, nil
	}
	e.once.Do(e.load)
	if e.err != nil {
		return nil, e.err
	}
	return e.versions[version], nil
}

func (e *crdEntry) load() {
	data, err := crdFiles.ReadFile(e.file)
	if err != nil {
		e.err = err
		return
	}
	var f crdFile
	if err := json.Unmarshal(data, &f); err != nil {
		e.err = fmt.Errorf("embedded %s: %w", e.file, err)
		return
	}
	e.source = f.Source
	e.versions = map[string]*node{}
	for _, v := range f.Versions {
		var internal apiext.JSONSchemaProps
		if err := apiextv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema, &internal, nil); err != nil {
			e.err = fmt.Errorf("%s %s: %w", e.file, v.Name, err)
			return
		}
		s, err := structuralschema.NewStructural(&internal)
		if err != nil {
			e.err = fmt.Errorf("%s %s: %w", e.file, v.Name, err)
			return
		}
		root := build(s, f.Kind, "")
		root.resourceRoot = true
		e.versions[v.Name] = root
	}
}

// node is one schema node, prepared for the walk.
type node struct {
	s        *structuralschema.Structural
	typ      string
	nullable bool
	intOrStr bool
	preserve bool // x-kubernetes-preserve-unknown-fields
	props    map[string]*node
	// propList holds props when they are few: comparing names is faster
	// than hashing them (prop).
	propList []namedNode
	addl     *node // additionalProperties' schema
	items    *node
	// required lists the required properties that have no default: a
	// default fills the others before validation, as the API server does.
	required []string
	vv       *structuralschema.ValueValidation
	enum     []any
	pattern  *lazyRegexp
	listType string
	mapKeys  []string
	// mapKeyDefaults are the JSON of the defaults of list-map key fields.
	mapKeyDefaults map[string][]byte
	// nested: vv has allOf, anyOf, oneOf or not, evaluated on the decoded
	// (and defaulted) value.
	nested bool
	// lineBreaks: strings here may hold CR and LF (see text.go).
	lineBreaks bool
	// cel holds the x-kubernetes-validations of this node, compiled on
	// first use (cel.go).
	cel          *celNode
	resourceRoot bool
	// path is the schema path ("spec.rules[*].matches"), for messages
	// about the schema itself.
	path string
	// hasDefault: this property has a default in its parent's schema.
	hasDefault bool
}

type lazyRegexp struct {
	src  string
	fast func(string) bool // patterns.go; nil: use regexp
	once sync.Once
	re   *regexp.Regexp
	err  error
}

// match reports whether s matches; err when the pattern does not compile.
func (l *lazyRegexp) match(s string) (bool, error) {
	if l.fast != nil {
		return l.fast(s), nil
	}
	re, err := l.get()
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

func (l *lazyRegexp) get() (*regexp.Regexp, error) {
	l.once.Do(func() { l.re, l.err = regexp.Compile(l.src) })
	return l.re, l.err
}

type namedNode struct {
	name string
	n    *node
}

// prop returns the schema of property k, nil when there is none.
func (n *node) prop(k string) *node {
	if n.propList == nil {
		return n.props[k]
	}
	for i := range n.propList {
		if len(n.propList[i].name) == len(k) && n.propList[i].name == k {
			return n.propList[i].n
		}
	}
	return nil
}

// build prepares s and everything below it.
func build(s *structuralschema.Structural, kind, path string) *node {
	n := &node{
		s: s, typ: s.Type, nullable: s.Nullable, intOrStr: s.XIntOrString,
		preserve: s.XPreserveUnknownFields, vv: s.ValueValidation, path: path,
		mapKeys: s.XListMapKeys, hasDefault: s.Default.Object != nil,
	}
	if s.XListType != nil {
		n.listType = *s.XListType
	}
	n.lineBreaks = lineBreaksAllowed(kind, path)
	if vv := s.ValueValidation; vv != nil {
		for _, e := range vv.Enum {
			n.enum = append(n.enum, e.Object)
		}
		if vv.Pattern != "" {
			n.pattern = &lazyRegexp{src: vv.Pattern, fast: fastPatterns[vv.Pattern]}
		}
		n.nested = len(vv.AllOf) > 0 || len(vv.AnyOf) > 0 || len(vv.OneOf) > 0 || vv.Not != nil
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*node, len(s.Properties))
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := s.Properties[k]
			n.props[k] = build(&p, kind, joinPath(path, k))
			if len(keys) <= 16 {
				n.propList = append(n.propList, namedNode{k, n.props[k]})
			}
		}
		if vv := s.ValueValidation; vv != nil {
			for _, r := range vv.Required {
				if c := n.props[r]; c == nil || !c.hasDefault {
					n.required = append(n.required, r)
				}
			}
		}
	} else if vv := s.ValueValidation; vv != nil {
		n.required = vv.Required
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		n.addl = build(s.AdditionalProperties.Structural, kind, path+"[*]")
	}
	if s.Items != nil {
		n.items = build(s.Items, kind, path+"[*]")
		if n.listType == "map" && len(n.mapKeys) > 0 {
			for _, k := range n.mapKeys {
				if p, ok := s.Items.Properties[k]; ok && p.Default.Object != nil {
					if b, err := json.Marshal(p.Default.Object); err == nil {
						if n.mapKeyDefaults == nil {
							n.mapKeyDefaults = map[string][]byte{}
						}
						n.mapKeyDefaults[k] = b
					}
				}
			}
		}
	}
	if len(s.XValidations) > 0 {
		n.cel = &celNode{n: n, done: make(chan struct{})}
	}
	return n
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
