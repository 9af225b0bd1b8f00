package translate

import (
	"reflect"
	"testing"
)

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener, route, want string
		ok                    bool
	}{
		{"", "foo.example.com", "foo.example.com", true},
		{"", "*.example.com", "*.example.com", true},
		{"foo.example.com", "", "foo.example.com", true},
		{"foo.example.com", "foo.example.com", "foo.example.com", true},
		{"foo.example.com", "bar.example.com", "", false},
		{"foo.example.com", "*.example.com", "foo.example.com", true},
		{"*.example.com", "foo.example.com", "foo.example.com", true},
		{"*.example.com", "a.b.example.com", "a.b.example.com", true},
		{"*.example.com", "*.foo.example.com", "*.foo.example.com", true},
		{"*.foo.example.com", "*.example.com", "*.foo.example.com", true},
		{"*.example.com", "*.example.com", "*.example.com", true},
		{"*.example.com", "example.com", "", false},
		{"example.com", "*.example.com", "", false},
		{"*.example.com", "foo.example.net", "", false},
		{"*.example.com", "*.example.net", "", false},
		{"foo.example.com", "*.bar.example.com", "", false},
	}
	for _, tt := range tests {
		got, ok := intersect(tt.listener, tt.route)
		if got != tt.want || ok != tt.ok {
			t.Errorf("intersect(%q, %q) = %q, %v; want %q, %v", tt.listener, tt.route, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRouteHostnames(t *testing.T) {
	got, ok := routeHostnames("*.example.com", []string{"FOO.example.com", "x.org", "foo.example.com", "*.b.example.com"})
	if !ok || !reflect.DeepEqual(got, []string{"foo.example.com", "*.b.example.com"}) {
		t.Fatalf("got %v %v", got, ok)
	}
	if _, ok := routeHostnames("a.example.com", []string{"b.example.com"}); ok {
		t.Fatal("disjoint hostnames intersected")
	}
	if got, _ := routeHostnames("", nil); !reflect.DeepEqual(got, []string{""}) {
		t.Fatalf("no hostnames on either side = %v, want catch-all", got)
	}
}

func TestMoreSpecific(t *testing.T) {
	order := []string{"a.example.com", "*.foo.example.com", "*.example.com", ""}
	for i := range order {
		for j := range order {
			if got := moreSpecific(order[i], order[j]); got != (i < j) {
				t.Errorf("moreSpecific(%q, %q) = %v", order[i], order[j], got)
			}
		}
	}
}
