package translate

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
)

// TestSkipStatus checks that SkipStatus changes nothing but how much of
// the input is copied: the same IR, Problems, Warnings and statuses on
// every CLI golden input (which cover every kind with a status), and the
// caller's objects, including statuses already present in the input, left
// untouched. egctl x serve shows the statuses of SkipStatus translations
// as `egctl x status -f` shows full ones.
func TestSkipStatus(t *testing.T) {
	ins, err := filepath.Glob("../testdata/translate/in/*.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	ins = append(ins, "testdata/golden/basic.in.yaml", "testdata/golden/mixed.in.yaml")
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			set, _, err := manifest.LoadBytes(in, data, manifest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			addStaleStatuses(set)
			before := copySet(set)

			full, err := Translate(set, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fast, err := Translate(set, Options{SkipStatus: true})
			if err != nil {
				t.Fatal(err)
			}
			if fast.Status == nil || full.Status == nil {
				t.Fatal("Result.Status is nil")
			}
			if !reflect.DeepEqual(full.Status, fast.Status) {
				t.Error("SkipStatus changes the statuses (or the objects)")
			}
			if !reflect.DeepEqual(full.IR, fast.IR) {
				t.Error("SkipStatus changes the IR")
			}
			if !reflect.DeepEqual(full.Problems, fast.Problems) {
				t.Errorf("SkipStatus changes Problems:\n got %v\nwant %v", fast.Problems, full.Problems)
			}
			if !reflect.DeepEqual(full.Warnings, fast.Warnings) {
				t.Errorf("SkipStatus changes Warnings:\n got %v\nwant %v", fast.Warnings, full.Warnings)
			}
			if !reflect.DeepEqual(set, before) {
				t.Error("Translate modified its input")
			}
		})
	}
}

// addStaleStatuses gives routes and Gateways a status as read back from a
// cluster: one parent of ours (to be replaced) and one of another
// controller (to be kept), so that writing new statuses would show in the
// input if it shared anything with it.
func addStaleStatuses(set *resource.Set) {
	cond := []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "stale"}}
	parents := func() []gwv1.RouteParentStatus {
		return []gwv1.RouteParentStatus{
			{ParentRef: gwv1.ParentReference{Name: "eg"}, ControllerName: DefaultControllerName, Conditions: cond},
			{ParentRef: gwv1.ParentReference{Name: "other"}, ControllerName: "example.com/other", Conditions: cond},
		}
	}
	for _, r := range set.HTTPRoutes {
		r.Status.Parents = parents()
	}
	for _, r := range set.GRPCRoutes {
		r.Status.Parents = parents()
	}
	for _, r := range set.TCPRoutes {
		r.Status.Parents = parents()
	}
	for _, g := range set.Gateways {
		g.Status.Conditions = append([]metav1.Condition(nil), cond...)
		g.Status.Listeners = []gwv1.ListenerStatus{{Name: "stale", Conditions: cond}}
	}
}
