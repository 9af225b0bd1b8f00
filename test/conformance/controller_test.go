package conformance

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func gatewayWith(conds ...metav1.Condition) *gwv1.Gateway {
	return &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gw"},
		Status: gwv1.GatewayStatus{
			Conditions: conds,
			Listeners:  []gwv1.ListenerStatus{{Name: "http", Conditions: conds}},
		},
	}
}

func cond(typ string, st metav1.ConditionStatus, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: st, Reason: typ, LastTransitionTime: metav1.NewTime(at)}
}

func TestMergeStatusKeepsTransitionTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)

	// Same conditions, later time: nothing to write, and the old time stays.
	old := gatewayWith(cond("Accepted", metav1.ConditionTrue, t0))
	cur := gatewayWith(cond("Accepted", metav1.ConditionTrue, t1))
	changed, err := mergeStatus(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Fatal("an unchanged condition with a new timestamp counted as a change")
	}

	// A status flip is a transition: written, with the new time.
	cur = gatewayWith(cond("Accepted", metav1.ConditionFalse, t1))
	changed, err = mergeStatus(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatal("a status flip was not a change")
	}
	if got := cur.Status.Listeners[0].Conditions[0].LastTransitionTime.Time; !got.Equal(t1) {
		t.Fatalf("flipped listener condition time = %v, want %v", got, t1)
	}

	// A new condition next to an unchanged one: written; the unchanged one
	// keeps its time.
	cur = gatewayWith(cond("Accepted", metav1.ConditionTrue, t1), cond("Programmed", metav1.ConditionTrue, t1))
	changed, err = mergeStatus(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatal("an added condition was not a change")
	}
	if got := cur.Status.Conditions[0].LastTransitionTime.Time; !got.Equal(t0) {
		t.Fatalf("unchanged condition time = %v, want %v kept", got, t0)
	}
}

func TestAddressPool(t *testing.T) {
	p := newAddressPool()
	a, b := p.get("ns/a"), p.get("ns/b")
	if a != "127.0.0.2" || b != "127.0.0.3" || p.get("ns/a") != a {
		t.Fatalf("addresses a=%s b=%s; want 127.0.0.2, 127.0.0.3, stable", a, b)
	}
	p.releaseAllBut(map[string]bool{"ns/b": true})
	if _, ok := p.lookup("ns/a"); ok {
		t.Fatal("released proxy still has an address")
	}
	if c := p.get("ns/c"); c != a {
		t.Fatalf("freed address not reused: got %s, want %s", c, a)
	}
	seen := map[string]bool{b: true, a: true}
	for i := 0; i < 300; i++ {
		ip := p.get(time.Duration(i).String())
		if seen[ip] {
			t.Fatalf("address %s handed out twice", ip)
		}
		seen[ip] = true
	}
}
