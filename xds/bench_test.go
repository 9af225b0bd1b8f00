package xds

import (
	"fmt"
	"testing"

	"github.com/egctl/egctl/ir"
)

// bigConfig is one proxy with n routes spread over 100 virtual hosts, each
// route with its own two-backend destination and header filters.
func bigConfig(n int) *ir.Config {
	l := &ir.HTTPListener{Name: "default/eg/http", Address: "0.0.0.0", Port: 10080}
	hosts := 100
	for h := 0; h < hosts; h++ {
		host := fmt.Sprintf("h%d.example.com", h)
		l.VirtualHosts = append(l.VirtualHosts, &ir.VirtualHost{Name: "default/eg/http/" + host, Domains: []string{host},
			Metadata: &ir.Metadata{Kind: "Gateway", Namespace: "default", Name: "eg", SectionName: "http"}})
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("httproute/default/r%d/rule/0", i)
		md := &ir.Metadata{Kind: "HTTPRoute", Namespace: "default", Name: fmt.Sprintf("r%d", i)}
		rt := &ir.HTTPRoute{
			Name:     name + "/match/0/host",
			Metadata: md,
			Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: fmt.Sprintf("/r%d", i),
				Headers: []ir.StringMatch{{Name: "x-env", Value: "prod"}}},
			RequestHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "x-route", Value: name}}},
			Destination: &ir.RouteDestination{Name: name, Metadata: md, Backends: []*ir.Backend{
				ipBackend(name+"/backend/0", 90, 3000, 3001),
				ipBackend(name+"/backend/1", 10, 4000),
			}},
		}
		vh := l.VirtualHosts[i%hosts]
		vh.Routes = append(vh.Routes, rt)
	}
	return &ir.Config{Proxies: []*ir.Proxy{{Name: "default/eg", Namespace: "default", Gateway: "eg", HTTP: []*ir.HTTPListener{l}}}}
}

func BenchmarkTranslate(b *testing.B) {
	cfg := bigConfig(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Translate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalYAML(b *testing.B) {
	res, err := Translate(bigConfig(10000))
	if err != nil {
		b.Fatal(err)
	}
	dump, err := ConfigDump(res[0], nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := Marshal(dump, "yaml")
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	res, err := Translate(bigConfig(10000))
	if err != nil {
		b.Fatal(err)
	}
	dump, err := ConfigDump(res[0], nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(dump, "json"); err != nil {
			b.Fatal(err)
		}
	}
}
