package conformance

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestAddressPoolStatic(t *testing.T) {
	usable := UsableAddresses[0]
	p := newAddressPool()
	if err := p.claim("ns/a", usable); err != nil {
		t.Fatalf("usable address refused: %v", err)
	}
	if ip, _ := p.lookup("ns/a"); ip != usable {
		t.Fatalf("ns/a holds %q, want %s", ip, usable)
	}
	if err := p.claim("ns/a", usable); err != nil {
		t.Fatalf("claiming its own address again: %v", err)
	}
	if err := p.claim("ns/b", usable); err == nil || !strings.Contains(err.Error(), "in use by Gateway ns/a") {
		t.Fatalf("second claim of %s: %v, want in use", usable, err)
	}
	if err := p.claim("ns/b", UnusableAddresses[0]); err == nil || !strings.Contains(err.Error(), "not an address of this host") {
		t.Fatalf("unusable address: %v", err)
	}
	// Dynamic allocation never hands out a static address, and a proxy that
	// stops asking for one gets a dynamic one and frees it.
	for i := 0; i < 300; i++ {
		if ip := p.get(time.Duration(i).String()); ip == usable {
			t.Fatalf("dynamic allocation handed out the static %s", ip)
		}
	}
	if ip := p.get("ns/a"); ip == usable || !strings.HasPrefix(ip, "127.0.") {
		t.Fatalf("ns/a without a request: %q", ip)
	}
	if err := p.claim("ns/c", usable); err != nil {
		t.Fatalf("freed static address not reusable: %v", err)
	}
}

func TestRequestedIP(t *testing.T) {
	ip, host := gwv1.IPAddressType, gwv1.HostnameAddressType
	for _, c := range []struct {
		addrs []gwv1.GatewaySpecAddress
		want  string
	}{
		{nil, ""},
		{[]gwv1.GatewaySpecAddress{{Type: &ip}}, ""},
		{[]gwv1.GatewaySpecAddress{{Value: "127.0.255.1"}}, "127.0.255.1"},
		{[]gwv1.GatewaySpecAddress{{Type: &host, Value: "x.example"}, {Type: &ip, Value: "192.0.2.1"}}, "192.0.2.1"},
	} {
		if got := requestedIP(&gwv1.Gateway{Spec: gwv1.GatewaySpec{Addresses: c.addrs}}); got != c.want {
			t.Errorf("%v: %q, want %q", c.addrs, got, c.want)
		}
	}
}

func TestRefuseAddress(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	conds := func() []metav1.Condition {
		return []metav1.Condition{cond("Accepted", metav1.ConditionTrue, t0), cond("Programmed", metav1.ConditionTrue, t0)}
	}
	gw := &gwv1.Gateway{Status: gwv1.GatewayStatus{Conditions: conds(), Listeners: []gwv1.ListenerStatus{{Name: "http", Conditions: conds()}}}}
	gw.Generation = 3
	gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Value: "127.0.0.9"}}
	refuseAddress(gw, "spec.addresses: 192.0.2.1 is not usable", t0.Add(time.Hour))
	var got *metav1.Condition
	for i, c := range gw.Status.Conditions {
		if c.Type == "Programmed" {
			got = &gw.Status.Conditions[i]
		}
		if c.Type == "Accepted" && c.Status != metav1.ConditionTrue {
			t.Errorf("Accepted changed: %+v", c)
		}
	}
	if got == nil || got.Status != metav1.ConditionFalse || got.Reason != "AddressNotUsable" || got.ObservedGeneration != 3 {
		t.Fatalf("Programmed = %+v, want False/AddressNotUsable at generation 3", got)
	}
	for _, c := range gw.Status.Listeners[0].Conditions {
		if c.Type == "Programmed" && (c.Status != metav1.ConditionFalse || c.Reason != "Pending") {
			t.Errorf("listener Programmed = %+v", c)
		}
	}
	if len(gw.Status.Addresses) != 0 {
		t.Errorf("refused Gateway keeps status.addresses %v", gw.Status.Addresses)
	}
}
