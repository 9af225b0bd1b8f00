package conformance

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

type staticLogs map[string]string

func (s staticLogs) Logs(ns, pod string, _ time.Time) ([]byte, bool) {
	l, ok := s[ns+"/"+pod]
	return []byte(l), ok
}

func newTestAPIServer(t *testing.T, logs PodLogs) (*APIServer, client.Client) {
	t.Helper()
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	a := StartAPIServer(NewStore(s), logs)
	t.Cleanup(a.Close)
	c, err := client.New(a.RESTConfig(), a.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

func TestAPIServerGeneration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, c := newTestAPIServer(t, nil)

	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gw"},
		Spec: gwv1.GatewaySpec{GatewayClassName: "egctl", Listeners: []gwv1.Listener{
			{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
		}},
	}
	if err := c.Create(ctx, gw); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Store.Changed():
	default:
		t.Fatal("create did not signal a change")
	}
	get := func() *gwv1.Gateway {
		t.Helper()
		out := &gwv1.Gateway{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "gw"}, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if g := get(); g.Generation != 1 || g.CreationTimestamp.IsZero() || g.UID == "" {
		t.Fatalf("after create: generation %d, creationTimestamp %v, uid %q; want 1, set, set", g.Generation, g.CreationTimestamp, g.UID)
	}

	// A spec change through a merge patch bumps the generation.
	cur := get()
	mut := cur.DeepCopy()
	mut.Spec.Listeners[0].Port = 8080
	if err := c.Patch(ctx, mut, client.MergeFrom(cur)); err != nil {
		t.Fatal(err)
	}
	if g := get(); g.Generation != 2 || g.Spec.Listeners[0].Port != 8080 {
		t.Fatalf("after spec patch: generation %d port %d; want 2 8080", g.Generation, g.Spec.Listeners[0].Port)
	}

	// A label change does not.
	cur = get()
	cur.Labels = map[string]string{"a": "b"}
	if err := c.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if g := get(); g.Generation != 2 || g.Labels["a"] != "b" {
		t.Fatalf("after label update: generation %d labels %v; want 2 a=b", g.Generation, g.Labels)
	}

	// Status goes through the subresource only and leaves the generation.
	cur = get()
	cur.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 2, LastTransitionTime: metav1.Now()}}
	if err := c.Status().Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	g := get()
	if g.Generation != 2 || len(g.Status.Conditions) != 1 {
		t.Fatalf("after status update: generation %d conditions %v", g.Generation, g.Status.Conditions)
	}
	// ... and a spec update cannot overwrite it.
	g.Status.Conditions = nil
	g.Spec.Listeners[0].Port = 9090
	if err := c.Update(ctx, g); err != nil {
		t.Fatal(err)
	}
	if g := get(); g.Generation != 3 || len(g.Status.Conditions) != 1 {
		t.Fatalf("after spec update: generation %d conditions %d; want 3 and status kept", g.Generation, len(g.Status.Conditions))
	}

	if err := c.Delete(ctx, get()); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "gw"}, &gwv1.Gateway{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after delete: %v, want NotFound", err)
	}
}

func TestAPIServerListAndLogs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, c := newTestAPIServer(t, staticLogs{"ns/p1": "hello\nworld\n"})
	for _, p := range []struct{ name, app string }{{"p1", "x"}, {"p2", "y"}} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: p.name, Labels: map[string]string{"app": p.app}}}
		if err := c.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace("ns"), client.MatchingLabels{"app": "x"}); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Name != "p1" {
		t.Fatalf("label selector app=x listed %d pods", len(pods.Items))
	}
	if err := c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p1"}}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v, want AlreadyExists", err)
	}

	cs, err := kubernetes.NewForConfig(a.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cs.CoreV1().Pods("ns").GetLogs("p1", &corev1.PodLogOptions{Container: "p1", SinceTime: &metav1.Time{Time: time.Now()}}).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(b), "world") {
		t.Fatalf("logs = %q", b)
	}
	if _, err := cs.CoreV1().Pods("ns").GetLogs("nope", &corev1.PodLogOptions{}).DoRaw(ctx); !apierrors.IsNotFound(err) {
		t.Fatalf("logs of a missing pod: %v, want NotFound", err)
	}
}

func TestAPIServerAppliesCRDDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir, err := CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	crds, err := LoadCRDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, c := newTestAPIServer(t, nil)
	a.Store.SetCRDs(crds)

	r := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc"}}}}}},
		},
	}
	if err := c.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	got := &gwv1.HTTPRoute{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "r"}, got); err != nil {
		t.Fatal(err)
	}
	pr := got.Spec.ParentRefs[0]
	if pr.Group == nil || *pr.Group != gwv1.GroupName || pr.Kind == nil || *pr.Kind != "Gateway" {
		t.Fatalf("parentRef defaults not applied: %+v", pr)
	}
	m := got.Spec.Rules[0].Matches
	if len(m) != 1 || m[0].Path == nil || *m[0].Path.Type != gwv1.PathMatchPathPrefix || *m[0].Path.Value != "/" {
		t.Fatalf("rule match default not applied: %+v", m)
	}
	br := got.Spec.Rules[0].BackendRefs[0]
	if br.Weight == nil || *br.Weight != 1 || br.Kind == nil || *br.Kind != "Service" {
		t.Fatalf("backendRef defaults not applied: %+v", br)
	}

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "s"}, svc); err != nil {
		t.Fatal(err)
	}
	if p := svc.Spec.Ports[0]; p.Protocol != corev1.ProtocolTCP || p.TargetPort.IntVal != 8080 {
		t.Fatalf("Service port defaults not applied: %+v", p)
	}
}
