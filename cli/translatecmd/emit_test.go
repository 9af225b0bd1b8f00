package translatecmd

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/xds"
)

// writeSections must print the bytes that converting the whole document
// at once printed before output was streamed: json.Indent of json.Marshal,
// or sigs.k8s.io/yaml.JSONToYAML.
func TestWriteSectionsMatchesWholeDocument(t *testing.T) {
	long := strings.Repeat("a message with spaces ", 8)
	rc := func(name string) proto.Message {
		return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{
			{Name: "<vh&>", Domains: []string{"*", "ü.example"}},
			{Name: long, Domains: []string{"x"}},
		}}
	}
	status := json.RawMessage(`[{"metadata":{"name":"r<1>&"},"status":{"message":"` + long + `","n":1.5,"empty":{},"list":[]}}]`)
	cases := map[string][]section{
		"nothing":   nil,
		"no dumps":  {{key: "gateways", json: status}, {key: "xds", dumps: map[string]proto.Message{}}},
		"one dump":  {{key: "xds", dumps: map[string]proto.Message{"default/eg": rc("a")}}},
		"two dumps": {{key: "gateways", json: status}, {key: "httpRoutes", json: status}, {key: "xds", dumps: map[string]proto.Message{"ns/b": rc("b"), "ns/a": rc("a")}}, {key: "xdsIR", json: json.RawMessage(`{"ns/a":{"x":"<y>"}}`)}},
	}
	for name, sections := range cases {
		t.Run(name, func(t *testing.T) {
			doc := map[string]json.RawMessage{}
			for _, s := range sections {
				if s.dumps == nil {
					doc[s.key] = s.json
					continue
				}
				byName := map[string]json.RawMessage{}
				for n, m := range s.dumps {
					raw, err := protojson.Marshal(m)
					if err != nil {
						t.Fatal(err)
					}
					byName[n] = raw
				}
				b, err := json.Marshal(byName)
				if err != nil {
					t.Fatal(err)
				}
				doc[s.key] = b
			}
			whole, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var wantJSON bytes.Buffer
			if err := json.Indent(&wantJSON, whole, "", "  "); err != nil {
				t.Fatal(err)
			}
			wantJSON.WriteByte('\n')
			wantYAML, err := yaml.JSONToYAML(whole)
			if err != nil {
				t.Fatal(err)
			}
			for format, want := range map[string][]byte{"json": wantJSON.Bytes(), "yaml": wantYAML} {
				var got bytes.Buffer
				if err := writeSections(&got, sections, format); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs:\n got %q\nwant %q", format, got.String(), want)
				}
			}
		})
	}
}

// configDumpParallel must give the dump made in one piece, and make it in
// one piece when the sections do not come apart as expected.
func TestConfigDumpParallel(t *testing.T) {
	r := &xds.Resources{Name: "ns/gw",
		Routes:   []*routev3.RouteConfiguration{{Name: "a"}, {Name: "b"}},
		Clusters: []*clusterv3.Cluster{{Name: "c"}},
	}
	boot := &bootstrapv3.Bootstrap{Node: &corev3.Node{Id: "ns/gw"}}
	want, err := xds.ConfigDump(r, boot, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := configDumpParallel(xds.ConfigDump, r, boot, "all")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("parallel dump differs:\n got %v\nwant %v", got, want)
	}
	// A dump function that ignores the section asked for: every part has
	// every section, so the pieces cannot be assembled.
	var calls atomic.Int32
	ignoring := func(r *xds.Resources, b *bootstrapv3.Bootstrap, _ []string) (*adminv3.ConfigDump, error) {
		calls.Add(1)
		return xds.ConfigDump(r, b, []string{"all"})
	}
	got, err = configDumpParallel(ignoring, r, boot, "all")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("fallback dump differs:\n got %v\nwant %v", got, want)
	}
	if n := int(calls.Load()); n != len(dumpSections)+2 {
		t.Errorf("%d calls, want skeleton + %d sections + the whole", n, len(dumpSections))
	}
}
