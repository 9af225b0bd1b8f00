package xds

import (
	"fmt"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"
)

// nestedMaps is a route whose map fields and Structs hold maps and Structs
// of their own, some with more keys than the writer sorts in place, so that
// the entries of an outer map stay put while inner ones are pushed on the
// writer's scratch stacks and cut back.
func nestedMaps(t *testing.T, keys int) *routev3.Route {
	t.Helper()
	inner := map[string]any{}
	for i := range keys {
		inner[fmt.Sprintf("k%d", keys-i)] = map[string]any{"z": i, "a10": "x", "a9": []any{"y", map[string]any{"b": true, "a": "n"}}}
	}
	st, err := structpb.NewStruct(map[string]any{"outer": inner, "1": "one", "b": "two"})
	if err != nil {
		t.Fatal(err)
	}
	perFilter := map[string]*anypb.Any{}
	for i := range keys {
		fm := map[string]*structpb.Struct{}
		for j := range keys {
			fm[fmt.Sprintf("f%02d", j)] = st
		}
		a, err := anypb.New(&clusterv3.Cluster{Name: fmt.Sprintf("c%d", i), Metadata: &corev3.Metadata{FilterMetadata: fm}})
		if err != nil {
			t.Fatal(err)
		}
		perFilter[fmt.Sprintf("filter.%d", i)] = a
	}
	return &routev3.Route{
		Name:                 "r",
		Match:                &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Metadata:             &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"m": st, "a": st}},
		TypedPerFilterConfig: perFilter,
	}
}

func wantYAML(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return must(yaml.JSONToYAML(raw))
}

func TestNestedMapsMatchJSONToYAML(t *testing.T) {
	for _, keys := range []int{1, 3, 12, 13, 20} {
		m := nestedMaps(t, keys)
		got, err := Marshal(m, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		diffLines(t, fmt.Sprintf("nested maps, %d keys", keys), splitSize, got, wantYAML(t, m))
	}
}

// Sizes cached by an earlier proto.Size go stale when the message grows
// afterwards; they may only change how the writer cuts the message, never
// the bytes it writes.
func TestStaleSizeCacheSameBytes(t *testing.T) {
	rc := &routev3.RouteConfiguration{Name: "rc"}
	for i := range 5 {
		rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{Name: fmt.Sprintf("vh%d", i), Domains: []string{"*"}})
	}
	_ = proto.Size(rc) // caches small sizes in rc and its hosts
	for i, vh := range rc.VirtualHosts {
		for j := range 200 {
			vh.Routes = append(vh.Routes, &routev3.Route{
				Name:  fmt.Sprintf("r%d-%d", i, j),
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: fmt.Sprintf("/p%d", j)}},
			})
		}
	}
	defer func(s int) { splitSize = s }(splitSize)
	for _, size := range []int{0, 1000, 16 << 10} {
		splitSize = size
		got, err := Marshal(rc, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		diffLines(t, "stale sizes", size, got, wantYAML(t, rc))
	}
}

func TestSmallSortsMatchSortYAMLKeys(t *testing.T) {
	keys := []string{"b", "a10", "a9", "A", "_x", "1", "01", "10", "2", "a", "z", "Zz", "a-b", "a_b"}
	for n := 0; n <= len(keys); n++ {
		want := append([]string(nil), keys[:n]...)
		sortYAMLKeys(want)
		got := append([]string(nil), keys[:n]...)
		sortStructKeys(got)
		kvs := make([]mapEntry, n)
		for i, k := range keys[:n] {
			kvs[i].k = k
		}
		sortMapEntries(kvs)
		for i := range want {
			if got[i] != want[i] || kvs[i].k != want[i] {
				t.Fatalf("%d keys: sortStructKeys %q, sortMapEntries key %d %q; want %q", n, got, i, kvs[i].k, want)
			}
		}
	}
}
