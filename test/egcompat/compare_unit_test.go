package egcompat

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/egctl/egctl/ir"
)

// The differential test is only as good as its comparison: these check
// that a real difference is reported and a harmless one is not.
func TestDiffConds(t *testing.T) {
	eg := []metav1.Condition{{Type: "Accepted", Status: "True", Reason: "Accepted"}}
	same := []metav1.Condition{{Type: "Accepted", Status: "True", Reason: "Accepted"},
		{Type: "Conflicted", Status: "False", Reason: "NoConflicts"}}
	if d := diffConds("x", eg, same); len(d) != 0 {
		t.Fatalf("extra condition in its normal state reported: %v", d)
	}
	bad := []metav1.Condition{{Type: "Accepted", Status: "False", Reason: "UnsupportedValue"},
		{Type: "Conflicted", Status: "True", Reason: "HostnameConflict"}}
	d := diffConds("x", eg, bad)
	if len(d) != 2 || !strings.Contains(d[0], "Accepted EG=True/Accepted egctl=False/UnsupportedValue") ||
		!strings.Contains(d[1], "Conflicted EG=absent egctl=True/HostnameConflict") {
		t.Fatalf("got %q", d)
	}
}

func TestCompareIROrder(t *testing.T) {
	eg := map[string]*egXdsIR{"ns/gw": {HTTP: []egHTTPListener{{Name: "ns/gw/http", Routes: []egHTTPRoute{
		{Name: "a", Hostname: "*", Destination: &egDestination{Name: "c"}},
		{Name: "b", Hostname: "*", Destination: &egDestination{Name: "c"}},
	}}}}}
	route := func(n string) *ir.HTTPRoute {
		return &ir.HTTPRoute{Name: n, Destination: &ir.RouteDestination{Name: "c"}}
	}
	ours := func(names ...string) *ir.Config {
		vh := &ir.VirtualHost{Domains: []string{"*"}}
		for _, n := range names {
			vh.Routes = append(vh.Routes, route(n))
		}
		return &ir.Config{Proxies: []*ir.Proxy{{Name: "ns/gw", HTTP: []*ir.HTTPListener{{Name: "ns/gw/http", VirtualHosts: []*ir.VirtualHost{vh}}}}}}
	}
	if d := compareIR(eg, ours("a", "b")); len(d) != 0 {
		t.Fatalf("identical IR reported: %v", d)
	}
	if d := compareIR(eg, ours("b", "a")); len(d) != 1 || !strings.Contains(d[0], "route order") {
		t.Fatalf("swapped order: got %q", d)
	}
	if d := compareIR(eg, ours("a")); len(d) != 1 || !strings.Contains(d[0], "route b missing in egctl") {
		t.Fatalf("missing route: got %q", d)
	}
}
