// Package conformance runs the official Gateway API conformance suite
// against egctl's translator and real Envoy processes, with no cluster.
//
// The suite talks to "Kubernetes" through a REST config: it builds a new
// controller-runtime client and clientset from it for every test. So the API
// server is simulated twice over: a controller-runtime fake client holds the
// objects (the Store, which adds the generation bump a real API server does),
// and a small HTTP handler on loopback serves the REST verbs the suite uses
// from that Store.
package conformance

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// NewScheme registers every kind the suite or the harness reads or writes.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		gwv1.Install,
		apiextensionsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// clusterScoped lists the cluster-scoped kinds the suite touches; every
// other kind is namespaced.
var clusterScoped = map[schema.GroupKind]bool{
	{Kind: "Namespace"}:                           true,
	{Kind: "Node"}:                                true,
	{Kind: "PersistentVolume"}:                    true,
	{Group: gwv1.GroupName, Kind: "GatewayClass"}: true,
	{Group: apiextensionsv1.GroupName, Kind: "CustomResourceDefinition"}: true,
}

// NewRESTMapper maps every kind of s to its resource, so neither the
// suite's clients nor the handler need a discovery endpoint.
func NewRESTMapper(s *runtime.Scheme) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for gvk := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		scope := meta.RESTScopeNamespace
		if clusterScoped[gvk.GroupKind()] {
			scope = meta.RESTScopeRoot
		}
		m.Add(gvk, scope)
	}
	return m
}

// gatewayAPIStatusKinds have a status subresource: a spec write cannot change
// their status and a status write cannot change their spec.
func gatewayAPIStatusKinds() []client.Object {
	return []client.Object{
		&gwv1.GatewayClass{}, &gwv1.Gateway{}, &gwv1.ListenerSet{}, &gwv1.HTTPRoute{}, &gwv1.GRPCRoute{},
		&gwv1.TLSRoute{}, &gwv1.TCPRoute{}, &gwv1.UDPRoute{}, &gwv1.BackendTLSPolicy{},
	}
}

// Store is the object store behind the simulated API server: a fake client
// plus what a real API server adds on writes — metadata.generation starts
// at 1 and goes up by one on every change outside metadata and status,
// creationTimestamp and uid are set on create — and a change signal.
type Store struct {
	client.Client // the fake; reads go straight to it
	scheme        *runtime.Scheme

	mu       sync.Mutex // serialises read-modify-write sequences
	changed  chan struct{}
	defaults *defaulter
}

// SetCRDs makes the Store fill the schema defaults of these CRDs on every
// write, as the API server does for custom resources.
func (s *Store) SetCRDs(crds []*apiextensionsv1.CustomResourceDefinition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaults = newDefaulter(crds)
}

func (s *Store) applyDefaults(obj client.Object) error {
	gvk, err := gvkOf(s.scheme, obj)
	if err != nil {
		return err
	}
	return s.defaults.apply(gvk, obj)
}

// NewStore returns an empty Store over a fake client.
func NewStore(s *runtime.Scheme) *Store {
	c := fake.NewClientBuilder().
		WithScheme(s).
		WithRESTMapper(NewRESTMapper(s)).
		WithStatusSubresource(gatewayAPIStatusKinds()...).
		Build()
	return &Store{Client: c, scheme: s, changed: make(chan struct{}, 1)}
}

// Changed receives a value after any write that can change what the
// controller computes (every write except status writes). Writes coalesce.
func (s *Store) Changed() <-chan struct{} { return s.changed }

func (s *Store) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *Store) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.applyDefaults(obj); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	obj.SetGeneration(1)
	obj.SetCreationTimestamp(metav1.NewTime(time.Now().UTC().Truncate(time.Second)))
	if obj.GetUID() == "" {
		obj.SetUID(uuid.NewUUID())
	}
	if err := s.Client.Create(ctx, obj, opts...); err != nil {
		return err
	}
	s.notify()
	return nil
}

func (s *Store) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.current(ctx, obj)
	if err != nil {
		return err
	}
	if err := s.applyDefaults(obj); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	gen := cur.GetGeneration()
	ch, err := s.specChanged(cur, obj)
	if err != nil {
		return err
	}
	if ch {
		gen++
	}
	obj.SetGeneration(gen)
	obj.SetCreationTimestamp(cur.GetCreationTimestamp())
	obj.SetUID(cur.GetUID())
	if err := s.Client.Update(ctx, obj, opts...); err != nil {
		return err
	}
	s.notify()
	return nil
}

func (s *Store) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.current(ctx, obj)
	if err != nil {
		return err
	}
	if err := s.Client.Patch(ctx, obj, patch, opts...); err != nil {
		return err
	}
	// The fake applies the patch; defaults and the generation are settled
	// afterwards in a second write, still under the lock so nobody sees the
	// gap.
	patched := obj.DeepCopyObject()
	if err := s.applyDefaults(obj); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	ch, err := s.specChanged(cur, obj)
	if err != nil {
		return err
	}
	want := cur.GetGeneration()
	if ch {
		want++
	}
	if obj.GetGeneration() != want || !reflect.DeepEqual(patched, obj) {
		obj.SetGeneration(want)
		if err := s.Client.Update(ctx, obj); err != nil {
			return err
		}
	}
	s.notify()
	return nil
}

func (s *Store) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Client.Delete(ctx, obj, opts...); err != nil {
		return err
	}
	s.notify()
	return nil
}

// current reads the stored version of obj into a new object of its type.
func (s *Store) current(ctx context.Context, obj client.Object) (client.Object, error) {
	gvk, err := gvkOf(s.scheme, obj)
	if err != nil {
		return nil, err
	}
	n, err := s.scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	cur, ok := n.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", gvk)
	}
	if err := s.Client.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
		return nil, err
	}
	return cur, nil
}

// specChanged compares everything but metadata and status, which is what a
// real API server bumps metadata.generation for.
func (s *Store) specChanged(a, b client.Object) (bool, error) {
	strip := func(o client.Object) (map[string]any, error) {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"metadata", "status", "apiVersion", "kind"} {
			delete(m, k)
		}
		return m, nil
	}
	ma, err := strip(a)
	if err != nil {
		return false, err
	}
	mb, err := strip(b)
	if err != nil {
		return false, err
	}
	return !reflect.DeepEqual(ma, mb), nil
}

func gvkOf(s *runtime.Scheme, obj runtime.Object) (schema.GroupVersionKind, error) {
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" && gvk.Version != "" {
		return gvk, nil
	}
	gvks, _, err := s.ObjectKinds(obj)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return gvks[0], nil
}
