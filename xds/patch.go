package xds

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/ohler55/ojg/jp"
	"github.com/ohler55/ojg/oj"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
)

// EnvoyPatchPolicy: the proxy's JSON patches, applied last, to the finished
// resources, so every output (config dump, snapshot, static bootstrap)
// carries them. A resource is patched as protojson prints it with proto
// field names (what Envoy Gateway patches), then read back and validated.
//
// Each policy applies as a whole or not at all: when one of its patches
// fails (a bad path, a failed "test", a result Envoy would reject, a
// resource the proxy lacks) none of its changes are kept and the policy's
// PatchResult says why. Envoy Gateway skips only the failing patch and keeps
// the rest, which leaves a proxy configured half the way the policy meant.
func init() {
	register(&feature{
		name: "envoypatchpolicy",
		finish: func(b *builder, p *ir.Proxy) error {
			for _, ep := range p.Patches {
				b.res.PatchResults = append(b.res.PatchResults, b.applyPolicy(p.Name, ep))
			}
			return nil
		},
	})
}

type resKey struct{ typ, name string }

func (k resKey) String() string { return k.typ + "/" + k.name }

// staged is one resource a policy is changing: its JSON while patches
// apply, the message when it is read back.
type staged struct {
	doc    []byte
	old    proto.Message // nil for a resource the policy adds
	parsed proto.Message
}

var (
	patchMarshal   = protojson.MarshalOptions{UseProtoNames: true}
	patchUnmarshal = protojson.UnmarshalOptions{}
)

// applyPolicy applies one policy's patches to b.res, all or none.
func (b *builder) applyPolicy(proxy string, ep *ir.EnvoyPatch) ir.PatchResult {
	res := ir.PatchResult{Policy: ep.Policy, Proxy: proxy}
	work := map[resKey]*staged{}
	var order []resKey
	fail := func(i int, format string, args ...any) {
		res.Errors = append(res.Errors, fmt.Sprintf("jsonPatches[%d]: ", i)+fmt.Sprintf(format, args...))
	}
	for i, p := range ep.Patches {
		if err := checkOp(&p); err != nil {
			fail(i, "%v", err)
			continue
		}
		if _, ok := newResource(p.Type); !ok {
			fail(i, "type %q is not a resource type a patch can change (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, Secret)", p.Type)
			continue
		}
		if p.Op == "add" && p.Path == "" && p.JSONPath == "" {
			// A whole new resource.
			m, _ := newResource(p.Type)
			if err := patchUnmarshal.Unmarshal(p.Value, m); err != nil {
				fail(i, "the value is not a %s: %v", shortType(p.Type), err)
				continue
			}
			k := resKey{p.Type, resourceName(m)}
			if k.name == "" {
				fail(i, "the %s added has no name", shortType(p.Type))
				continue
			}
			if _, exists := work[k]; exists || b.findResource(k) != nil {
				fail(i, "%s %q already exists; patch it instead of adding it", shortType(p.Type), k.name)
				continue
			}
			doc, _ := patchMarshal.Marshal(m)
			work[k] = &staged{doc: doc}
			order = append(order, k)
			res.Applied++
			continue
		}
		k := resKey{p.Type, p.Name}
		st := work[k]
		if st == nil {
			old := b.findResource(k)
			if old == nil {
				res.NotFound = append(res.NotFound, k.String())
				continue
			}
			doc, err := patchMarshal.Marshal(old)
			if err != nil {
				fail(i, "%s %q: %v", shortType(p.Type), p.Name, err)
				continue
			}
			st = &staged{doc: doc, old: old}
			work[k] = st
			order = append(order, k)
		}
		doc, n, err := applyOp(st.doc, &p)
		if err != nil {
			fail(i, "%s %q: %v", shortType(p.Type), p.Name, err)
			continue
		}
		st.doc = doc
		res.Applied += n
	}
	if len(res.Errors) > 0 || (len(res.NotFound) > 0 && !ep.Shared) {
		res.Applied = 0
		return res
	}
	// Read every changed resource back and check it as Envoy would.
	for _, k := range order {
		st := work[k]
		m, _ := newResource(k.typ)
		if err := patchUnmarshal.Unmarshal(st.doc, m); err != nil {
			// protojson picks a space or a no-break space after "proto:"
			// from the binary's hash, on purpose; the output must not move.
			res.Errors = append(res.Errors, fmt.Sprintf("%s %q after patching: %s", shortType(k.typ), k.name, strings.ReplaceAll(err.Error(), "\u00a0", " ")))
			continue
		}
		if err := m.(validator).ValidateAll(); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s %q after patching is invalid: %v", shortType(k.typ), k.name, err))
			continue
		}
		if n := resourceName(m); n != k.name && b.findResource(resKey{k.typ, n}) != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s %q renamed to %q, which another %s has", shortType(k.typ), k.name, n, shortType(k.typ)))
			continue
		}
		st.parsed = m
	}
	if len(res.Errors) > 0 {
		res.Applied = 0
		return res
	}
	for _, k := range order {
		b.commitResource(work[k].old, work[k].parsed)
	}
	return res
}

// checkOp enforces RFC 6902's fields per operation, as Envoy Gateway does.
func checkOp(p *ir.JSONPatch) error {
	if !p.HasPath && p.JSONPath == "" {
		return errors.New("a patch operation must specify a path or jsonPath")
	}
	switch p.Op {
	case "add", "replace", "test":
		if p.Value == nil {
			return fmt.Errorf("the %s operation requires a value", p.Op)
		}
		if p.HasFrom {
			return fmt.Errorf("the %s operation doesn't support a from attribute", p.Op)
		}
	case "remove":
		if p.HasFrom || p.Value != nil {
			return errors.New("value and from can't be specified with the remove operation")
		}
	case "move", "copy":
		if !p.HasFrom {
			return fmt.Errorf("the %s operation requires a valid from attribute", p.Op)
		}
		if p.Value != nil {
			return fmt.Errorf("the %s operation doesn't support a value attribute", p.Op)
		}
	default:
		return fmt.Errorf("unsupported JSONPatch operation %q", p.Op)
	}
	return nil
}

// applyOp applies one operation at its path, or at every location its
// jsonPath selects (path then appended), and counts the locations.
func applyOp(doc []byte, p *ir.JSONPatch) ([]byte, int, error) {
	paths := []string{p.Path}
	if p.JSONPath != "" {
		var err error
		if paths, err = jsonPathPointers(doc, p.JSONPath, p.Path); err != nil {
			return nil, 0, err
		}
	}
	opts := jsonpatch.NewApplyOptions()
	// Envoy Gateway creates missing parents on add; keep its behaviour.
	opts.EnsurePathExistsOnAdd = true
	for _, path := range paths {
		op := jsonpatch.Operation{"op": raw(p.Op), "path": raw(path)}
		if p.HasFrom {
			op["from"] = raw(p.From)
		}
		if p.Value != nil {
			v := json.RawMessage(append([]byte(nil), p.Value...))
			op["value"] = &v
		}
		out, err := jsonpatch.Patch{op}.ApplyWithOptions(doc, opts)
		if err != nil {
			return nil, 0, fmt.Errorf("op=%s path=%s: %v", p.Op, path, err)
		}
		doc = out
	}
	return doc, len(paths), nil
}

func raw(s string) *json.RawMessage {
	b, _ := json.Marshal(s)
	m := json.RawMessage(b)
	return &m
}

// jsonPathPointers turns a JSONPath (RFC 9535) into the JSON pointers of
// the locations it selects in doc, each followed by path. Selecting
// nothing is an error: a patch that changes nothing was meant to change
// something.
func jsonPathPointers(doc []byte, expr, path string) ([]string, error) {
	data, err := oj.Parse(doc)
	if err != nil {
		return nil, err
	}
	x, err := jp.ParseString(expr)
	if err != nil {
		return nil, fmt.Errorf("jsonPath %q: %v", expr, err)
	}
	if len(x) == 1 {
		if _, root := x[0].(jp.Root); root {
			return nil, fmt.Errorf("jsonPath %q selects the whole resource; use path", expr)
		}
	}
	var out []string
	for _, loc := range x.Locate(data, 0) {
		var sb strings.Builder
		for _, f := range loc {
			switch v := f.(type) {
			case jp.Root, jp.Bracket:
			case jp.Child:
				sb.WriteByte('/')
				sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(string(v)))
			case jp.Nth:
				sb.WriteByte('/')
				sb.WriteString(strconv.Itoa(int(v)))
			default:
				return nil, fmt.Errorf("jsonPath %q: cannot turn %T into a JSON pointer", expr, f)
			}
		}
		p := sb.String()
		if path != "" {
			p = strings.TrimSuffix(p, "/") + "/" + strings.TrimPrefix(path, "/")
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("jsonPath %q selects nothing; to add a field that does not exist yet, use path", expr)
	}
	return out, nil
}

func newResource(typ string) (proto.Message, bool) {
	switch typ {
	case ir.TypeListener:
		return &listenerv3.Listener{}, true
	case ir.TypeRouteConfig:
		return &routev3.RouteConfiguration{}, true
	case ir.TypeCluster:
		return &clusterv3.Cluster{}, true
	case ir.TypeEndpoints:
		return &endpointv3.ClusterLoadAssignment{}, true
	case ir.TypeSecret:
		return &tlsv3.Secret{}, true
	}
	return nil, false
}

func shortType(typ string) string {
	return typ[strings.LastIndexByte(typ, '.')+1:]
}

func resourceName(m proto.Message) string {
	switch r := m.(type) {
	case *listenerv3.Listener:
		return r.GetName()
	case *routev3.RouteConfiguration:
		return r.GetName()
	case *clusterv3.Cluster:
		return r.GetName()
	case *endpointv3.ClusterLoadAssignment:
		return r.GetClusterName()
	case *tlsv3.Secret:
		return r.GetName()
	}
	return ""
}

// findResource finds a finished resource by type and name.
func (b *builder) findResource(k resKey) proto.Message {
	r := b.res
	switch k.typ {
	case ir.TypeListener:
		for _, l := range r.Listeners {
			if l.GetName() == k.name {
				return l
			}
		}
	case ir.TypeRouteConfig:
		for _, rc := range r.Routes {
			if rc.GetName() == k.name {
				return rc
			}
		}
	case ir.TypeCluster:
		for _, c := range r.Clusters {
			if c.GetName() == k.name {
				return c
			}
		}
	case ir.TypeEndpoints:
		for _, e := range r.Endpoints {
			if e.GetClusterName() == k.name {
				return e
			}
		}
	case ir.TypeSecret:
		for _, s := range r.Secrets {
			if s.GetName() == k.name {
				return s
			}
		}
	}
	return nil
}

// commitResource puts m in place of old (or adds it). The old message may
// share parts with other resources (builder caches), so it is replaced,
// never changed in place.
func (b *builder) commitResource(old, m proto.Message) {
	r := b.res
	switch v := m.(type) {
	case *listenerv3.Listener:
		r.Listeners = replaceOrAdd(r.Listeners, old, v)
	case *routev3.RouteConfiguration:
		r.Routes = replaceOrAdd(r.Routes, old, v)
	case *clusterv3.Cluster:
		r.Clusters = replaceOrAdd(r.Clusters, old, v)
	case *endpointv3.ClusterLoadAssignment:
		r.Endpoints = replaceOrAdd(r.Endpoints, old, v)
	case *tlsv3.Secret:
		r.Secrets = replaceOrAdd(r.Secrets, old, v)
	}
}

func replaceOrAdd[T proto.Message](list []T, old proto.Message, m T) []T {
	if old != nil {
		for i, x := range list {
			if proto.Message(x) == old {
				list[i] = m
				return list
			}
		}
	}
	return append(list, m)
}

// PatchResults collects the EnvoyPatchPolicy results of every proxy, for
// translate.Result.RecordPatchResults.
func PatchResults(all []*Resources) []ir.PatchResult {
	var out []ir.PatchResult
	for _, r := range all {
		out = append(out, r.PatchResults...)
	}
	return out
}
