package statuscmd

import (
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

func cond(typ string, ok bool, reason string) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: reason + " message"}
}

// Rows for kinds the translator may not fill yet: policy ancestors,
// ListenerSet listeners, a Conflicted condition.
func TestObjectsPoliciesAndListenerSets(t *testing.T) {
	ns := gwv1.Namespace("infra")
	section := gwv1.SectionName("https")
	btp := &egv1a1.BackendTrafficPolicy{}
	btp.Namespace, btp.Name = "default", "timeouts"
	btp.Status.Ancestors = []gwv1.PolicyAncestorStatus{
		{AncestorRef: gwv1.ParentReference{Name: "eg"}, Conditions: []metav1.Condition{cond("Accepted", true, "Accepted")}},
		{AncestorRef: gwv1.ParentReference{Name: "edge", Namespace: &ns, SectionName: &section}, Conditions: []metav1.Condition{cond("Accepted", false, "Invalid")}},
	}
	ls := &gwv1.ListenerSet{}
	ls.Namespace, ls.Name = "default", "extra"
	ls.Status.Conditions = []metav1.Condition{cond("Accepted", true, "Accepted"), cond("Programmed", true, "Programmed")}
	ls.Status.Listeners = []gwv1.ListenerEntryStatus{{Name: "a", Conditions: []metav1.Condition{
		cond("Accepted", true, "Accepted"), cond("Conflicted", true, "HostnameConflict"), cond("ResolvedRefs", true, "ResolvedRefs"),
	}}}
	gr := &gwv1.GRPCRoute{}
	gr.Namespace, gr.Name = "default", "rpc"
	kind := gwv1.Kind("ListenerSet")
	gr.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: gwv1.ParentReference{Kind: &kind, Name: "extra"}, Conditions: []metav1.Condition{cond("Accepted", true, "Accepted"), cond("ResolvedRefs", true, "ResolvedRefs")}}}

	set := &resource.Set{BackendTrafficPolicies: []*egv1a1.BackendTrafficPolicy{btp}, ListenerSets: []*gwv1.ListenerSet{ls}, GRPCRoutes: []*gwv1.GRPCRoute{gr}}
	set.SetOrigin(resource.Key{Group: resource.GroupEnvoyGateway, Kind: "BackendTrafficPolicy", Namespace: "default", Name: "timeouts"}, resource.Origin{File: "p.yaml", Line: 3})
	rows := Objects(set)

	type want struct {
		kind, name, parent, accepted, reason string
		ok                                   bool
	}
	wants := []want{
		{"ListenerSet", "extra", "", "True", "Accepted", true},
		{"Listener", "extra/a", "", "True", "HostnameConflict", false},
		{"GRPCRoute", "rpc", "ListenerSet default/extra", "True", "Accepted", true},
		{"BackendTrafficPolicy", "timeouts", "default/eg", "True", "Accepted", true},
		{"BackendTrafficPolicy", "timeouts", "infra/edge (https)", "False", "Invalid", false},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, w := range wants {
		r := rows[i]
		if r.Kind != w.kind || r.Name != w.name || r.Parent != w.parent || r.Accepted != w.accepted || r.Reason != w.reason || r.OK != w.ok {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if rows[3].Origin != "p.yaml:3" {
		t.Errorf("origin %q", rows[3].Origin)
	}
}

// An EnvoyProxy has a row per GatewayClass or Gateway referencing it; a
// GatewayClass is cluster-scoped and named without a namespace.
func TestObjectsEnvoyProxy(t *testing.T) {
	gc, gw := gwv1.Kind("GatewayClass"), gwv1.Kind("Gateway")
	ns := gwv1.Namespace("apps")
	ep := &egv1a1.EnvoyProxy{}
	ep.Namespace, ep.Name = "infra", "proxy"
	ep.Status.Ancestors = []egv1a1.EnvoyProxyAncestorStatus{
		{AncestorRef: gwv1.ParentReference{Kind: &gc, Name: "eg"}, Conditions: []metav1.Condition{cond("Accepted", true, "Accepted")}},
		{AncestorRef: gwv1.ParentReference{Kind: &gw, Namespace: &ns, Name: "web"}, Conditions: []metav1.Condition{cond("Accepted", false, "InvalidParameters")}},
	}
	rows := Objects(&resource.Set{EnvoyProxies: []*egv1a1.EnvoyProxy{ep}})
	if len(rows) != 2 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if r := rows[0]; r.Kind != "EnvoyProxy" || r.Name != "proxy" || r.Parent != "GatewayClass eg" || !r.OK {
		t.Errorf("row 0 = %+v", r)
	}
	if r := rows[1]; r.Parent != "apps/web" || r.OK || r.Reason != "InvalidParameters" {
		t.Errorf("row 1 = %+v", r)
	}
}
