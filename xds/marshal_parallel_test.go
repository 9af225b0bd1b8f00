package xds

import (
	"bytes"
	"math"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"
)

// oddMessage has the values whose spelling is easy to get wrong: every
// well-known type Envoy configuration uses, numbers of every kind, and
// strings go-yaml quotes, folds or writes as blocks, at several depths.
func oddMessages(t *testing.T) []proto.Message {
	t.Helper()
	st, err := structpb.NewStruct(map[string]any{
		"s": "x", "n": 1.5, "i": float64(3), "big": 1e22, "tiny": 1e-9, "b": true, "null": nil,
		"list": []any{"a", 2.0, map[string]any{"k": "v"}, []any{}}, "empty": map[string]any{},
		"long": strings.Repeat("word ", 30), "multi": "a\nb", "ümlaut": "ü", "3000": "3000",
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same without what sends a unit to go-yaml, so that the direct
	// writer's spelling is what is compared.
	clean, err := structpb.NewStruct(map[string]any{
		"s": "x", "n": 1.5, "i": float64(3), "big": 1e22, "tiny": 1e-9, "neg": -0.25, "b": true, "null": nil,
		"list": []any{"a", 2.0, map[string]any{"k": "v"}, []any{}}, "empty": map[string]any{}, "3000": "3000",
	})
	if err != nil {
		t.Fatal(err)
	}
	dur, _ := anypb.New(durationpb.New(1500))
	body := strings.Repeat("long body with spaces ", 10)
	routes := []*routev3.Route{}
	for i, s := range []string{"plain", "yes", "1:20", "2001-12-14", "0x1F", "it's", "ü", "a\nb", body, "", "*.x", "123",
		// Line breaks: literal blocks the direct writer spells, then the
		// shapes it leaves to go-yaml (indicators, empty and spaced lines).
		"a\nb\n", "%REQ(:METHOD)% %REQ(:PATH)%\n", "- x\n# y\n'z': \"w\"\n", "---\n...\n",
		"a\nb\n\n", "\nb\n", " a\nb\n", "a \nb\n", "a\n b\n", "a\n\nb\n", "a\tb\n", "ü\n", "a\r\nb\n", "\n"} {
		routes = append(routes, &routev3.Route{
			Name:  s,
			Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/" + s}},
			Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
				Status: uint32(200 + i), Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}}},
			Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"m": st}},
		})
	}
	rc, err := anypb.New(&routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{
		{Name: "vh", Domains: []string{"*"}, Routes: routes},
		{Name: "empty"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cl := &clusterv3.Cluster{
		Name:           "c",
		Metadata:       &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"clean": clean}},
		ConnectTimeout: durationpb.New(-1500000),
		LbPolicy:       clusterv3.Cluster_LbPolicy(99), // unknown enum number
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"dur": dur, "empty": {},
		},
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(7),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LoadBalancingWeight: wrapperspb.UInt32(1),
			LbEndpoints:         []*endpointv3.LbEndpoint{{LoadBalancingWeight: wrapperspb.UInt32(3)}},
		}}},
		CommonLbConfig:            &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: 0.1}},
		DnsRefreshRate:            &durationpb.Duration{Seconds: 1, Nanos: 20000},
		MaxRequestsPerConnection:  wrapperspb.UInt32(0),
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{TcpKeepalive: &corev3.TcpKeepalive{KeepaliveTime: wrapperspb.UInt32(math.MaxUint32)}},
	}
	return []proto.Message{cl, rc}
}

// Marshal(m, "yaml") and WriteYAMLMessages must give the bytes of
// JSONToYAML(protojson) for every way of cutting the message into units.
func TestParallelYAMLMatchesJSONToYAML(t *testing.T) {
	odd := oddMessages(t)
	msgs := map[string]proto.Message{"odd cluster": odd[0], "odd routes": odd[1]}
	for _, in := range goldenCases(t) {
		res, err := Translate(loadIR(t, in))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			dyn, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000})
			if err != nil {
				t.Fatal(err)
			}
			dump, err := ConfigDumpWithSecrets(r, dyn, []string{"all"})
			if err != nil {
				t.Fatal(err)
			}
			msgs[in+"/"+r.Name] = dump
		}
	}
	res, err := Translate(bigConfig(300))
	if err != nil {
		t.Fatal(err)
	}
	big, err := ConfigDump(res[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs["big"] = big

	defer func(s int) { splitSize = s }(splitSize)
	for _, size := range []int{0, 200, 1000, 4000, 16 << 10} {
		splitSize = size
		for name, m := range msgs {
			raw, err := protojson.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := must(yaml.JSONToYAML(raw))
			got, err := Marshal(m, "yaml")
			if err != nil {
				t.Fatalf("%s split %d: %v", name, size, err)
			}
			diffLines(t, name, size, got, want)

			var doc bytes.Buffer
			if err := WriteYAMLMessages(&doc, "xds", map[string]proto.Message{"default/eg": m, "a/b": m}); err != nil {
				t.Fatalf("%s split %d: %v", name, size, err)
			}
			wantDoc := must(yaml.JSONToYAML([]byte(`{"xds":{"default/eg":` + string(raw) + `,"a/b":` + string(raw) + `}}`)))
			diffLines(t, name+" (document)", size, doc.Bytes(), wantDoc)
		}
	}
}

func diffLines(t *testing.T, name string, size int, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for n := 0; n < len(gl) && n < len(wl); n++ {
		if gl[n] != wl[n] {
			t.Fatalf("%s split %d line %d:\n got %q\nwant %q", name, size, n+1, gl[n], wl[n])
		}
	}
	t.Fatalf("%s split %d: %d lines, want %d", name, size, len(gl), len(wl))
}

// A Gateway name go-yaml writes as a complex key ("? ...") cannot be cut
// into units: the document is written whole, with the same bytes.
func TestWriteYAMLMessagesLongName(t *testing.T) {
	m := oddMessages(t)[0]
	long := "ns/" + strings.Repeat("g", 200)
	var got bytes.Buffer
	if err := WriteYAMLMessages(&got, "xds", map[string]proto.Message{long: m, "a/b": m}); err != nil {
		t.Fatal(err)
	}
	raw, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := must(yaml.JSONToYAML([]byte(`{"xds":{"` + long + `":` + string(raw) + `,"a/b":` + string(raw) + `}}`)))
	diffLines(t, "long name", splitSize, got.Bytes(), want)
}
