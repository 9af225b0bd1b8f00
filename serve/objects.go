package serve

import (
	"encoding/json"
	"fmt"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// Objects is what /status/objects answers: the status the translator wrote
// for every object of one compilation, and its problems, so that `egctl x
// status --serve` prints what `egctl x status -f` prints for the same
// files. It is built when asked: a recompile only keeps the translation's
// status shells (translate.Options.SkipStatus), which it computes anyway.
type Objects struct {
	// Compilation is "latest" (the files as they are, applied or held
	// back), or "applied" when the latest did not compile.
	Compilation string    `json:"compilation"`
	At          time.Time `json:"at"`
	// Objects are the objects of every kind with a status, in input order.
	Objects []ObjectEntry `json:"objects"`
	// Problems are the compilation's problems, those no status carries
	// too (a parentRef to nothing, a Gateway of a missing class).
	Problems []ProblemEntry `json:"problems,omitempty"`
}

// ObjectEntry is one object: its name, where it was read, its status as
// the API writes it, and a route's parentRefs (a route no parent accepted
// has an empty status; its parentRefs say what it asked for).
type ObjectEntry struct {
	Group      string                 `json:"group"`
	Kind       string                 `json:"kind"`
	Namespace  string                 `json:"namespace,omitempty"`
	Name       string                 `json:"name"`
	File       string                 `json:"file,omitempty"`
	Line       int                    `json:"line,omitempty"`
	ParentRefs []gwv1.ParentReference `json:"parentRefs,omitempty"`
	Status     json.RawMessage        `json:"status"`
}

// ProblemEntry is a translate.Problem.
type ProblemEntry struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Condition string `json:"condition,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message"`
	Parent    string `json:"parent,omitempty"`
}

// statusKind is one kind with a status: how to list its objects' parts
// and how to build an object back from them.
type statusKind struct {
	group, kind string
	each        func(s *resource.Set, f func(meta *metav1.ObjectMeta, refs *[]gwv1.ParentReference, status any))
	add         func(s *resource.Set, meta metav1.ObjectMeta, refs []gwv1.ParentReference, status json.RawMessage) error
}

// kindOf makes a statusKind from the set's slice of the kind and a function
// naming an object's metadata, parentRefs (nil when the kind has none) and
// status.
func kindOf[T any](group, kind string, list func(*resource.Set) *[]*T, parts func(*T) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any)) statusKind {
	return statusKind{
		group: group, kind: kind,
		each: func(s *resource.Set, f func(*metav1.ObjectMeta, *[]gwv1.ParentReference, any)) {
			for _, o := range *list(s) {
				if o != nil {
					f(parts(o))
				}
			}
		},
		add: func(s *resource.Set, meta metav1.ObjectMeta, refs []gwv1.ParentReference, status json.RawMessage) error {
			o := new(T)
			m, r, st := parts(o)
			*m = meta
			if r != nil {
				*r = refs
			}
			if err := json.Unmarshal(status, st); err != nil {
				return fmt.Errorf("%s %s/%s: status: %w", kind, meta.Namespace, meta.Name, err)
			}
			l := list(s)
			*l = append(*l, o)
			return nil
		},
	}
}

const (
	gwGroup = resource.GroupGatewayAPI
	egGroup = resource.GroupEnvoyGateway
)

// statusKinds are the kinds whose status the translator writes.
var statusKinds = []statusKind{
	kindOf(gwGroup, "GatewayClass", func(s *resource.Set) *[]*gwv1.GatewayClass { return &s.GatewayClasses },
		func(o *gwv1.GatewayClass) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(gwGroup, "Gateway", func(s *resource.Set) *[]*gwv1.Gateway { return &s.Gateways },
		func(o *gwv1.Gateway) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(gwGroup, "ListenerSet", func(s *resource.Set) *[]*gwv1.ListenerSet { return &s.ListenerSets },
		func(o *gwv1.ListenerSet) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(gwGroup, "HTTPRoute", func(s *resource.Set) *[]*gwv1.HTTPRoute { return &s.HTTPRoutes },
		func(o *gwv1.HTTPRoute) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, &o.Spec.ParentRefs, &o.Status
		}),
	kindOf(gwGroup, "GRPCRoute", func(s *resource.Set) *[]*gwv1.GRPCRoute { return &s.GRPCRoutes },
		func(o *gwv1.GRPCRoute) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, &o.Spec.ParentRefs, &o.Status
		}),
	kindOf(gwGroup, "TLSRoute", func(s *resource.Set) *[]*gwv1.TLSRoute { return &s.TLSRoutes },
		func(o *gwv1.TLSRoute) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, &o.Spec.ParentRefs, &o.Status
		}),
	kindOf(gwGroup, "TCPRoute", func(s *resource.Set) *[]*gwv1.TCPRoute { return &s.TCPRoutes },
		func(o *gwv1.TCPRoute) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, &o.Spec.ParentRefs, &o.Status
		}),
	kindOf(gwGroup, "UDPRoute", func(s *resource.Set) *[]*gwv1.UDPRoute { return &s.UDPRoutes },
		func(o *gwv1.UDPRoute) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, &o.Spec.ParentRefs, &o.Status
		}),
	kindOf(gwGroup, "BackendTLSPolicy", func(s *resource.Set) *[]*gwv1.BackendTLSPolicy { return &s.BackendTLSPolicies },
		func(o *gwv1.BackendTLSPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "Backend", func(s *resource.Set) *[]*egv1a1.Backend { return &s.Backends },
		func(o *egv1a1.Backend) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "EnvoyProxy", func(s *resource.Set) *[]*egv1a1.EnvoyProxy { return &s.EnvoyProxies },
		func(o *egv1a1.EnvoyProxy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "ClientTrafficPolicy", func(s *resource.Set) *[]*egv1a1.ClientTrafficPolicy { return &s.ClientTrafficPolicies },
		func(o *egv1a1.ClientTrafficPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "BackendTrafficPolicy", func(s *resource.Set) *[]*egv1a1.BackendTrafficPolicy { return &s.BackendTrafficPolicies },
		func(o *egv1a1.BackendTrafficPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "SecurityPolicy", func(s *resource.Set) *[]*egv1a1.SecurityPolicy { return &s.SecurityPolicies },
		func(o *egv1a1.SecurityPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "EnvoyExtensionPolicy", func(s *resource.Set) *[]*egv1a1.EnvoyExtensionPolicy { return &s.EnvoyExtensionPolicies },
		func(o *egv1a1.EnvoyExtensionPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
	kindOf(egGroup, "EnvoyPatchPolicy", func(s *resource.Set) *[]*egv1a1.EnvoyPatchPolicy { return &s.EnvoyPatchPolicies },
		func(o *egv1a1.EnvoyPatchPolicy) (*metav1.ObjectMeta, *[]gwv1.ParentReference, any) {
			return &o.ObjectMeta, nil, &o.Status
		}),
}

// objectsOf lists set's objects of every kind with a status.
func objectsOf(set *resource.Set, problems []translate.Problem) (*Objects, error) {
	out := &Objects{Objects: []ObjectEntry{}}
	var err error
	for _, k := range statusKinds {
		k.each(set, func(meta *metav1.ObjectMeta, refs *[]gwv1.ParentReference, status any) {
			if err != nil {
				return
			}
			b, e := json.Marshal(status)
			if e != nil {
				err = fmt.Errorf("%s %s/%s: %w", k.kind, meta.Namespace, meta.Name, e)
				return
			}
			o := set.Origin(resource.Key{Group: k.group, Kind: k.kind, Namespace: meta.Namespace, Name: meta.Name})
			e2 := ObjectEntry{Group: k.group, Kind: k.kind, Namespace: meta.Namespace, Name: meta.Name, File: o.File, Line: o.Line, Status: b}
			if refs != nil {
				e2.ParentRefs = *refs
			}
			out.Objects = append(out.Objects, e2)
		})
	}
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, ProblemEntry{
			Group: p.Key.Group, Kind: p.Key.Kind, Namespace: p.Key.Namespace, Name: p.Key.Name,
			File: p.Origin.File, Line: p.Origin.Line,
			Condition: p.Condition, Reason: p.Reason, Message: p.Message, Parent: p.Parent,
		})
	}
	return out, nil
}

// Set builds back the objects (name, parentRefs, status, origin) and the
// problems, for the code that prints a translation's statuses.
func (o *Objects) Set() (*resource.Set, []translate.Problem, error) {
	set := &resource.Set{}
	byKind := map[string]statusKind{}
	for _, k := range statusKinds {
		byKind[k.kind] = k
	}
	for _, e := range o.Objects {
		k, ok := byKind[e.Kind]
		if !ok {
			return nil, nil, fmt.Errorf("unknown kind %q", e.Kind)
		}
		if err := k.add(set, metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name}, e.ParentRefs, e.Status); err != nil {
			return nil, nil, err
		}
		if e.File != "" {
			set.SetOrigin(resource.Key{Group: e.Group, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name}, resource.Origin{File: e.File, Line: e.Line})
		}
	}
	problems := make([]translate.Problem, 0, len(o.Problems))
	for _, p := range o.Problems {
		problems = append(problems, translate.Problem{
			Key:    resource.Key{Group: p.Group, Kind: p.Kind, Namespace: p.Namespace, Name: p.Name},
			Origin: resource.Origin{File: p.File, Line: p.Line}, Condition: p.Condition,
			Reason: p.Reason, Message: p.Message, Parent: p.Parent,
		})
	}
	return set, problems, nil
}
