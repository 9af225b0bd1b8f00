package xds

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// envoyGatewayJSON is how Envoy Gateway's egctl prints a message in
// `x translate -o json`: protojson, read into Go values, json.Marshal.
func envoyGatewayJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every dump egctl's golden inputs give, and the odd values, print as
// Envoy Gateway prints them, byte for byte; indented, as json.Indent
// indents that.
func TestWriteJSONMatchesEnvoyGateway(t *testing.T) {
	for name, r := range dumpViewCases(t) {
		for _, secrets := range []bool{false, true} {
			v, err := NewDumpView(r, nil, []string{"all"}, secrets)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := v.WriteJSON(&got); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			dump, err := v.Proto()
			if err != nil {
				t.Fatal(err)
			}
			want := envoyGatewayJSON(t, dump)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s (secrets %v): WriteJSON differs from Envoy Gateway's JSON at byte %d:\n got %.200s\nwant %.200s",
					name, secrets, firstDiff(got.Bytes(), want), got.Bytes()[max(0, firstDiff(got.Bytes(), want)-80):], want[max(0, firstDiff(got.Bytes(), want)-80):])
				continue
			}
			var ind bytes.Buffer
			ji := NewJSONIndenter(&ind, "  ", "\t")
			// Written in small pieces: the indenter keeps its state
			// across writes.
			for b := got.Bytes(); len(b) > 0; b = b[min(len(b), 7):] {
				if _, err := ji.Write(b[:min(len(b), 7)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := ji.Flush(); err != nil {
				t.Fatal(err)
			}
			var wantInd bytes.Buffer
			if err := json.Indent(&wantInd, want, "  ", "\t"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ind.Bytes(), wantInd.Bytes()) {
				t.Errorf("%s: indented JSON differs from json.Indent's at byte %d", name, firstDiff(ind.Bytes(), wantInd.Bytes()))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The values whose spelling differs between protojson, encoding/json and a
// naive writer.
func TestAppendJSONValues(t *testing.T) {
	st, err := structpb.NewStruct(map[string]any{
		"html": "<a href=\"x\">&</a>", "ls": "a\u2028b\u2029c", "ctl": "\x00\x01\b\f\n\r\t\x1f\x7f",
		"n": 1.5, "big": 1e21, "bigger": 1e22, "tiny": 1e-7, "small": 0.000001, "neg": -0.0, "int": 12345678901234.0,
		"list": []any{nil, true, "ü", []any{}, map[string]any{}}, "Upper": 1.0, "_u": 2.0, "@at": 3.0,
	})
	if err != nil {
		t.Fatal(err)
	}
	wk := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	msgs := []proto.Message{
		st,
		&corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"z": st, "a": {}}, TypedFilterMetadata: map[string]*anypb.Any{
			"dur": wk(durationpb.New(-1500)), "str": wk(wrapperspb.String("<x>")), "u64": wk(wrapperspb.UInt64(math.MaxUint64)),
			"f": wk(wrapperspb.Float(0.1)), "d": wk(wrapperspb.Double(1e-300)), "b": wk(wrapperspb.Bytes([]byte{0, 0xff})),
			"ts": wk(timestamppb.New(timestamppb.Now().AsTime().Truncate(1000))), "st": wk(st),
			"route": wk(&routev3.Route{Name: "r", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}}),
		}},
		&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}, RuntimeFraction: &corev3.RuntimeFractionalPercent{
			DefaultValue: &typev3.FractionalPercent{Numerator: 7, Denominator: typev3.FractionalPercent_MILLION}, RuntimeKey: "k"}},
		&routev3.Route{Name: "e", Match: &routev3.RouteMatch{}, Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 4294967295}}},
		&corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_HeaderAppendAction(99)},
		&routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{{Name: "a", Weight: wrapperspb.UInt32(0)}}},
	}
	for i, m := range msgs {
		got, err := AppendJSON(nil, m)
		if err != nil {
			t.Fatalf("%d %T: %v", i, m, err)
		}
		if want := envoyGatewayJSON(t, m); !bytes.Equal(got, want) {
			t.Errorf("%d %T:\n got %s\nwant %s", i, m, got, want)
		}
	}
	if _, err := AppendJSON(nil, &routev3.Route{Name: "\xff"}); err == nil {
		t.Error("invalid UTF-8 in a string field printed; protojson refuses it")
	}
}

// One type prints as Envoy Gateway prints it: the section's Any by itself.
func TestSingleSectionMatchesEnvoyGateway(t *testing.T) {
	for name, r := range dumpViewCases(t) {
		for _, typ := range []string{DumpRoute, DumpCluster, DumpListener, DumpEndpoint} {
			v, err := NewDumpView(r, nil, []string{typ}, false)
			if err != nil {
				t.Fatal(err)
			}
			one, err := v.SingleSection()
			if err != nil {
				t.Fatalf("%s %s: %v", name, typ, err)
			}
			var got bytes.Buffer
			if err := one.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			dump, err := v.Proto()
			if err != nil {
				t.Fatal(err)
			}
			if want := envoyGatewayJSON(t, dump.GetConfigs()[0]); !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s %s: differs at byte %d", name, typ, firstDiff(got.Bytes(), want))
			}
			var y bytes.Buffer
			if err := WriteYAMLDumpViews(&y, "xds", map[string]*DumpView{"ns/gw": one}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(y.Bytes(), []byte("  ns/gw:\n    '@type': type.googleapis.com/envoy.admin.v3.")) {
				t.Errorf("%s %s: YAML does not hold the section under the Gateway:\n%.200s", name, typ, y.Bytes())
			}
		}
	}
	v, err := NewDumpView(dumpViewCases(t)["big"], nil, []string{DumpAll}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.SingleSection(); err == nil {
		t.Error("a dump of every type made a single section")
	}
}
