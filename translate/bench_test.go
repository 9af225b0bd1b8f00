package translate

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// genSet builds n HTTPRoutes over 20 namespaces, each with two rules: a
// prefix+header match split 90/10 across two Services with a header filter,
// and an exact match.
func genSet(n int) *resource.Set {
	const namespaces = 20
	set := &resource.Set{
		GatewayClasses: []*gwv1.GatewayClass{{
			ObjectMeta: metav1.ObjectMeta{Name: "eg"},
			Spec:       gwv1.GatewayClassSpec{ControllerName: DefaultControllerName},
		}},
	}
	all := gwv1.NamespacesFromAll
	set.Gateways = append(set.Gateways, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "infra"},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "eg",
			Listeners: []gwv1.Listener{{
				Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}},
			}},
		},
	})
	ready := true
	for i := 0; i < namespaces; i++ {
		ns := fmt.Sprintf("ns-%d", i)
		for _, svc := range []string{"a", "b"} {
			set.Services = append(set.Services, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns},
				Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
			})
			set.EndpointSlices = append(set.EndpointSlices, &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{Name: svc + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
				Ports:      []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(8080))}},
				Endpoints: []discoveryv1.Endpoint{
					{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
					{Addresses: []string{"10.0.0.2"}},
				},
			})
		}
	}
	prefix, exact := gwv1.PathMatchPathPrefix, gwv1.PathMatchExact
	gwNS := gwv1.Namespace("infra")
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns-%d", i%namespaces)
		set.HTTPRoutes = append(set.HTTPRoutes, &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("route-%d", i), Namespace: ns,
				CreationTimestamp: metav1.NewTime(time.Unix(int64(i%97), 0)),
			},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
				Hostnames:       []gwv1.Hostname{gwv1.Hostname(fmt.Sprintf("h%d.example.com", i%500))},
				Rules: []gwv1.HTTPRouteRule{
					{
						Matches: []gwv1.HTTPRouteMatch{{
							Path:    &gwv1.HTTPPathMatch{Type: &prefix, Value: ptrTo(fmt.Sprintf("/api/%d", i))},
							Headers: []gwv1.HTTPHeaderMatch{{Name: "x-version", Value: "v2"}},
						}},
						Filters: []gwv1.HTTPRouteFilter{{
							Type:                  gwv1.HTTPRouteFilterRequestHeaderModifier,
							RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "x-route", Value: "r"}}},
						}},
						BackendRefs: []gwv1.HTTPBackendRef{
							{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "a", Port: ptrTo(gwv1.PortNumber(80))}, Weight: ptrTo(int32(90))}},
							{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "b", Port: ptrTo(gwv1.PortNumber(80))}, Weight: ptrTo(int32(10))}},
						},
					},
					{
						Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &exact, Value: ptrTo(fmt.Sprintf("/exact/%d", i))}}},
						BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "a", Port: ptrTo(gwv1.PortNumber(80))}}}},
					},
				},
			},
		})
	}
	return set
}

func TestGeneratedSet(t *testing.T) {
	res, err := Translate(genSet(1000), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems[:1])
	}
	l := res.IR.Proxies[0].HTTP[0]
	routes := 0
	for _, v := range l.VirtualHosts {
		routes += len(v.Routes)
	}
	if len(l.VirtualHosts) != 500 || routes != 2000 {
		t.Fatalf("vhosts = %d, routes = %d", len(l.VirtualHosts), routes)
	}
	if got := res.Status.Gateways[0].Status.Listeners[0].AttachedRoutes; got != 1000 {
		t.Fatalf("attachedRoutes = %d", got)
	}
}

func BenchmarkTranslate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		set := genSet(n)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Translate(set, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
