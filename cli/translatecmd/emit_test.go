package translatecmd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/xds"
)

// writeSections must print the bytes that converting the whole document
// at once gives, as Envoy Gateway's egctl converts it: json.Marshal with the
// dumps read into Go maps (compact, keys sorted), json.Indent of that with
// --pretty, or sigs.k8s.io/yaml.JSONToYAML.
func TestWriteSectionsMatchesWholeDocument(t *testing.T) {
	long := strings.Repeat("a message with spaces ", 8)
	rc := func(name string) *xds.DumpView {
		r := &xds.Resources{Name: name, Routes: []*routev3.RouteConfiguration{{Name: name, VirtualHosts: []*routev3.VirtualHost{
			{Name: "<vh&>", Domains: []string{"*", "ü.example"}},
			{Name: long, Domains: []string{"x"}},
		}}}}
		v, err := xds.NewDumpView(r, nil, []string{"all"}, false)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	status := json.RawMessage(`[{"metadata":{"name":"r<1>&"},"status":{"message":"` + long + `","n":1.5,"empty":{},"list":[]}}]`)
	cases := map[string][]section{
		"nothing":   nil,
		"no dumps":  {{key: "gateways", json: status}, {key: "xds", dumps: map[string]*xds.DumpView{}}},
		"one dump":  {{key: "xds", dumps: map[string]*xds.DumpView{"default/eg": rc("a")}}},
		"two dumps": {{key: "gateways", json: status}, {key: "httpRoutes", json: status}, {key: "xds", dumps: map[string]*xds.DumpView{"ns/b": rc("b"), "ns/a": rc("a")}}, {key: "xdsIR", json: json.RawMessage(`{"ns/a":{"x":"<y>"}}`)}},
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
				for n, v := range s.dumps {
					m, err := v.Proto()
					if err != nil {
						t.Fatal(err)
					}
					raw, err := protojson.Marshal(m)
					if err != nil {
						t.Fatal(err)
					}
					var tree any
					if err := json.Unmarshal(raw, &tree); err != nil {
						t.Fatal(err)
					}
					if byName[n], err = json.Marshal(tree); err != nil {
						t.Fatal(err)
					}
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
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, whole, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			wantYAML, err := yaml.JSONToYAML(whole)
			if err != nil {
				t.Fatal(err)
			}
			for format, want := range map[string][]byte{"json": append(whole, '\n'), "json-pretty": pretty.Bytes(), "yaml": wantYAML} {
				var got bytes.Buffer
				if err := writeSections(&got, sections, strings.TrimSuffix(format, "-pretty"), strings.HasSuffix(format, "-pretty")); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs:\n got %q\nwant %q", format, got.String(), want)
				}
			}
		})
	}
}
