package xds

import (
	"bytes"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// dumpViewCases are Resources to dump: the golden inputs, a big config, and
// one with the values that send units to go-yaml (renderSlow), with secrets.
func dumpViewCases(t *testing.T) map[string]*Resources {
	t.Helper()
	out := map[string]*Resources{}
	for _, in := range goldenCases(t) {
		res, err := Translate(loadIR(t, in))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			out[in+"/"+r.Name] = r
		}
	}
	res, err := Translate(bigConfig(300))
	if err != nil {
		t.Fatal(err)
	}
	out["big"] = res[0]
	odd := oddMessages(t)
	var rc routev3.RouteConfiguration
	if err := odd[1].(*anypb.Any).UnmarshalTo(&rc); err != nil {
		t.Fatal(err)
	}
	out["odd"] = &Resources{
		Name:     "ns/odd",
		Clusters: []*clusterv3.Cluster{odd[0].(*clusterv3.Cluster)},
		Routes:   []*routev3.RouteConfiguration{&rc},
		Secrets: []*tlsv3.Secret{{Name: "s", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "cert\nchain"}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "key"}},
		}}}},
	}
	return out
}

// A DumpView must print (YAML and JSON), and pack into, exactly what ConfigDump gives, for
// every way of cutting it into units, secrets shown or not.
func TestDumpViewMatchesConfigDump(t *testing.T) {
	cases := dumpViewCases(t)
	defer func(s int) { splitSize = s }(splitSize)
	for _, size := range []int{0, 1000, 16 << 10} {
		splitSize = size
		for name, r := range cases {
			boot, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000})
			if err != nil {
				t.Fatal(err)
			}
			for _, show := range []bool{false, true} {
				dumpFn := ConfigDump
				if show {
					dumpFn = ConfigDumpWithSecrets
				}
				for _, types := range [][]string{{"all"}, {"route"}, {"secret", "cluster"}} {
					want, err := dumpFn(r, boot, types)
					if err != nil {
						t.Fatal(err)
					}
					v, err := NewDumpView(r, boot, types, show)
					if err != nil {
						t.Fatal(err)
					}
					packed, err := v.Proto()
					if err != nil {
						t.Fatal(err)
					}
					raw, err := protojson.Marshal(want)
					if err != nil {
						t.Fatal(err)
					}
					// Compared unpacked: packing maps is not deterministic.
					if got, err := protojson.Marshal(packed); err != nil || !bytes.Equal(got, raw) {
						t.Fatalf("%s %v: Proto differs from ConfigDump (%v)", name, types, err)
					}
					var js bytes.Buffer
					if err := v.WriteJSON(&js); err != nil {
						t.Fatal(err)
					}
					diffLines(t, name+" (view JSON)", size, js.Bytes(), envoyGatewayJSON(t, want))
					var got bytes.Buffer
					if err := WriteYAMLDumpViews(&got, "xds", map[string]*DumpView{"default/eg": v, "a/b": v}); err != nil {
						t.Fatalf("%s split %d: %v", name, size, err)
					}
					wantDoc := must(yaml.JSONToYAML([]byte(`{"xds":{"default/eg":` + string(raw) + `,"a/b":` + string(raw) + `}}`)))
					diffLines(t, name+" (view)", size, got.Bytes(), wantDoc)
				}
			}
		}
	}
}

// A long Gateway name makes the document be written whole, through
// protojson, which must see the resources packed.
func TestWriteYAMLDumpViewsLongName(t *testing.T) {
	r := dumpViewCases(t)["odd"]
	v, err := NewDumpView(r, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ConfigDump(r, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := protojson.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	long := "ns/" + strings.Repeat("g", 200)
	var got bytes.Buffer
	if err := WriteYAMLDumpViews(&got, "xds", map[string]*DumpView{long: v}); err != nil {
		t.Fatal(err)
	}
	wantDoc := must(yaml.JSONToYAML([]byte(`{"xds":{"` + long + `":` + string(raw) + `}}`)))
	diffLines(t, "long name", splitSize, got.Bytes(), wantDoc)
}
