package xds

import (
	"bytes"
	"fmt"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"
)

// Messages and Anys shared by many routes are written once per render
// and copied after, by every writer: the document must be what go-yaml
// writes, for every way of cutting it into units.
func TestSharedTextAcrossUnits(t *testing.T) {
	perRoute, err := anypb.New(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{}})
	if err != nil {
		t.Fatal(err)
	}
	retry := &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(3), PerTryTimeout: durationpb.New(2e9)}
	rc := &routev3.RouteConfiguration{Name: "rc"}
	for v := range 30 {
		vh := &routev3.VirtualHost{Name: fmt.Sprintf("vh-%d", v), Domains: []string{fmt.Sprintf("h%d.example.com", v)}}
		// The same Any at another indent, on a virtual host.
		vh.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.rbac": perRoute}
		for r := range 10 {
			own, err := anypb.New(&rbacv3.RBACPerRoute{}) // equal bytes, its own pointer
			if err != nil {
				t.Fatal(err)
			}
			vh.Routes = append(vh.Routes, &routev3.Route{
				Name:  fmt.Sprintf("r-%d-%d", v, r),
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"},
					RetryPolicy:      retry,
				}},
				TypedPerFilterConfig: map[string]*anypb.Any{"envoy.filters.http.rbac": perRoute, "own": own},
			})
		}
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
	}
	raw, err := protojson.Marshal(rc)
	if err != nil {
		t.Fatal(err)
	}
	want := must(yaml.JSONToYAML(raw))
	defer func(s int) { splitSize = s }(splitSize)
	for _, size := range []int{0, 300, 2000, 16 << 10} {
		splitSize = size
		for range 3 {
			var got bytes.Buffer
			if err := WriteYAML(&got, rc); err != nil {
				t.Fatal(err)
			}
			diffLines(t, "shared", size, got.Bytes(), want)
		}
	}
}

// textCache keeps a text from the second sighting on, and no more than
// its budget.
func TestTextCache(t *testing.T) {
	k := msgTextKey{msg: &routev3.RetryPolicy{}, indent: 4}
	var c textCache
	if _, hit, again := c.get(k); hit || again {
		t.Fatalf("first sighting: hit %v again %v", hit, again)
	}
	c2 := textCache{}
	c2.get(k)
	if _, hit, again := c2.get(k); hit || !again {
		t.Fatalf("second sighting: hit %v again %v, want a miss met before", hit, again)
	}
	c2.put(k, anyText{text: []byte("\nx"), col: 1})
	if got, hit, _ := c2.get(k); !hit || string(got.text) != "\nx" || got.col != 1 {
		t.Fatalf("third sighting: %+v hit %v", got, hit)
	}
	other := msgTextKey{msg: k.msg, indent: 6}
	if _, hit, again := c2.get(other); hit || again {
		t.Fatalf("another indent is another text: hit %v again %v", hit, again)
	}
	var full textCache
	full.bytes = maxSharedText
	full.get(k)
	full.get(k)
	full.put(k, anyText{text: []byte("\nx")})
	if _, hit, _ := full.get(k); hit {
		t.Fatal("a full cache kept more")
	}
	var nilCache *textCache
	if _, hit, again := nilCache.get(k); hit || again {
		t.Fatal("a nil cache keeps nothing")
	}
	nilCache.put(k, anyText{})
}
