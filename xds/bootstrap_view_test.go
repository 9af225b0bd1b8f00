package xds

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// A BootstrapView prints what StaticBootstrap's bootstrap prints, and
// packs into it; InPlace changes nothing in the result.
func TestStaticBootstrapViewMatchesStaticBootstrap(t *testing.T) {
	cases := dumpViewCases(t)
	if len(cases) < 3 {
		t.Fatalf("only %d cases", len(cases))
	}
	// A multi-line secret sends the unit it is in to go-yaml, which must
	// see the connection managers packed: a small bootstrap is one unit.
	for name, r := range cases {
		if name == "big" || name == "odd" || len(r.Listeners) == 0 {
			continue
		}
		withPEM := *r
		withPEM.Secrets = append(append([]*tlsv3.Secret(nil), r.Secrets...), &tlsv3.Secret{Name: "pem", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "cert\nchain"}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "key\nlines"}},
		}}})
		cases[name+"+pem"] = &withPEM
		break
	}
	for name, r := range cases {
		want, err := StaticBootstrap(r, BootstrapOptions{AdminPort: 19001})
		if err != nil {
			// The odd values are not a configuration Envoy runs.
			if _, verr := StaticBootstrapView(r, BootstrapOptions{AdminPort: 19001}); verr == nil || verr.Error() != err.Error() {
				t.Errorf("%s: StaticBootstrap fails with %v, the view with %v", name, err, verr)
			}
			continue
		}
		var wantYAML bytes.Buffer
		if err := WriteYAML(&wantYAML, want); err != nil {
			t.Fatal(err)
		}
		// The copy below is what InPlace may change: r stays intact for
		// the other cases.
		own := cloneResources(r)
		v, err := StaticBootstrapView(own, BootstrapOptions{AdminPort: 19001, InPlace: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got bytes.Buffer
		if err := v.WriteYAML(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), wantYAML.Bytes()) {
			t.Errorf("%s: the view prints differently from StaticBootstrap at byte %d", name, firstDiff(got.Bytes(), wantYAML.Bytes()))
		}
		packed, err := v.Proto()
		if err != nil {
			t.Fatal(err)
		}
		// Compared unpacked: packing maps is not deterministic.
		if a, b := protojson.Format(packed), protojson.Format(want); a != b {
			t.Errorf("%s: the view's Proto differs from StaticBootstrap", name)
		}
		got.Reset()
		if err := v.WriteYAML(&got); err != nil || !bytes.Equal(got.Bytes(), wantYAML.Bytes()) {
			t.Errorf("%s: the view prints differently once packed (%v)", name, err)
		}
	}
}

// A BootstrapView sizes its listeners with the connection managers kept
// aside in them, so that the writer cuts a listener of many routes into
// units as it cuts a route configuration; sized as what proto.Size sees
// (an empty Any), every listener was one unit holding every route.
func TestBootstrapViewSizesStandIns(t *testing.T) {
	res, err := Translate(bigConfig(300))
	if err != nil {
		t.Fatal(err)
	}
	v, err := StaticBootstrapView(res[0], BootstrapOptions{AdminPort: 19001, InPlace: true})
	if err != nil {
		t.Fatal(err)
	}
	ls := v.boot.GetStaticResources().GetListeners()
	sized := make([]int, len(ls))
	for i, l := range ls {
		sized[i] = v.anys.size(l)
	}
	var units []*yamlUnit
	planYAML(v.anys, v.boot, 0, false, true, 0, &units)
	for _, u := range units {
		if len(u.batch) > 0 {
			if _, ok := u.batch[0].(*listenerv3.Listener); ok && sized[0] >= splitSize {
				t.Errorf("a listener of %d bytes went into a batch of small items", sized[0])
			}
		}
	}
	if _, err := v.Proto(); err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		want := proto.Size(l) // packed now
		if sized[i] < want/2 || sized[i] > want*2 {
			t.Errorf("listener %s: sized %d, packed %d bytes", l.GetName(), sized[i], want)
		}
	}
	if len(ls) == 0 || proto.Size(ls[0]) < splitSize {
		t.Fatalf("the test needs a listener above splitSize (%d listeners)", len(ls))
	}
}
