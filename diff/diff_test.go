package diff

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/xds"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diff -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden; got:\n%s", path, got)
	}
}

func compare(t *testing.T, a, b *Snapshot, o Options) *Result {
	t.Helper()
	r, err := Compare(Side{"default/eg": a}, Side{"default/eg": b}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func find(r *Result, typ, name string) *Entry {
	for i := range r.Entries {
		if r.Entries[i].Type == typ && r.Entries[i].Name == name {
			return &r.Entries[i]
		}
	}
	return nil
}

func TestGolden(t *testing.T) {
	r := compare(t, oldSnapshot(t), newSnapshot(t), Options{})
	ro := RenderOptions{OldLabel: "before.yaml", NewLabel: "after.yaml"}
	var text, js, md bytes.Buffer
	if err := WriteText(&text, r, ro); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r, ro); err != nil {
		t.Fatal(err)
	}
	golden(t, "golden/diff.txt", text.Bytes())
	golden(t, "golden/diff.json", js.Bytes())
	golden(t, "golden/diff.md", md.Bytes())

	var entries []Entry
	if err := json.Unmarshal(js.Bytes(), &entries); err != nil {
		t.Fatalf("-o json is not a JSON list of entries: %v", err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, string(e.Change)+" "+e.Type+" "+e.Name)
	}
	want := []string{
		"changed listener default/eg/http",
		"changed route default/eg/http",
		"added cluster httproute/default/static/rule/0",
		"removed cluster httproute/default/web/rule/0",
		"changed endpoint httproute/default/api/rule/0",
		"added endpoint httproute/default/static/rule/0",
		"removed endpoint httproute/default/web/rule/0",
		"changed secret default/tls",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoDifferences(t *testing.T) {
	r := compare(t, oldSnapshot(t), oldSnapshot(t), Options{})
	if !r.Empty() {
		t.Fatalf("identical snapshots differ: %+v", r.Entries)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(js.String()) != "[]" {
		t.Errorf("-o json of no difference = %q, want []", js.String())
	}
	if got := r.Summary(); got != "No differences: 1 proxy, 7 resources compared." {
		t.Errorf("summary %q", got)
	}
}

func TestRouteOrderMatters(t *testing.T) {
	a := oldSnapshot(t)
	b := oldSnapshot(t)
	vh := b.Routes[0].VirtualHosts[0]
	vh.Routes[0], vh.Routes[1] = vh.Routes[1], vh.Routes[0]
	r := compare(t, a, b, Options{})
	e := find(r, TypeRoute, "default/eg/http")
	if e == nil || e.Change != Changed || len(r.Entries) != 1 {
		t.Fatalf("route order change not reported as one changed route: %+v", r.Entries)
	}
	if !strings.Contains(e.Diff, "-  - match:") && !strings.Contains(e.Diff, "+  - match:") {
		t.Errorf("diff does not show moved routes:\n%s", e.Diff)
	}
}

func TestFilterOrderMatters(t *testing.T) {
	a := &Snapshot{Listeners: []*listenerv3.Listener{listener(t, "l", 1, "envoy.filters.http.cors", "envoy.filters.http.fault")}}
	b := &Snapshot{Listeners: []*listenerv3.Listener{listener(t, "l", 1, "envoy.filters.http.fault", "envoy.filters.http.cors")}}
	if r := compare(t, a, b, Options{}); len(r.Entries) != 1 {
		t.Fatalf("HTTP filter order change not reported: %+v", r.Entries)
	}
}

func TestResourceOrderIgnored(t *testing.T) {
	a := oldSnapshot(t)
	b := oldSnapshot(t)
	slices.Reverse(b.Clusters)
	slices.Reverse(b.Endpoints)
	slices.Reverse(b.Routes[0].VirtualHosts)
	b.Listeners = append(b.Listeners, listener(t, "default/eg/https", 10443))
	a.Listeners = append([]*listenerv3.Listener{listener(t, "default/eg/https", 10443)}, a.Listeners...)
	// Filter chains with distinct names are matched by their match
	// criteria, not by position.
	chains := func(names ...string) *listenerv3.Listener {
		l := &listenerv3.Listener{Name: "tls"}
		for _, n := range names {
			l.FilterChains = append(l.FilterChains, &listenerv3.FilterChain{Name: n, FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{n}}})
		}
		return l
	}
	a.Listeners = append(a.Listeners, chains("a.example.com", "b.example.com"))
	b.Listeners = append(b.Listeners, chains("b.example.com", "a.example.com"))
	if r := compare(t, a, b, Options{}); !r.Empty() {
		t.Fatalf("order-only change reported: %+v", r.Entries)
	}
}

func TestVolatileDumpFieldsIgnored(t *testing.T) {
	// The same resources dumped twice with other versions and times.
	s := oldSnapshot(t)
	d1 := dynamicDump(t, s, "v1", 1000)
	d2 := dynamicDump(t, s, "v2", 2000)
	a, _, err := FromConfigDump(d1)
	if err != nil {
		t.Fatal(err)
	}
	b, info, err := FromConfigDump(d2)
	if err != nil {
		t.Fatal(err)
	}
	if r := compare(t, a, b, Options{}); !r.Empty() {
		t.Fatalf("version/time change reported: %+v", r.Entries)
	}
	if info.LastUpdated.Unix() != 2000 || info.NodeID != "default/eg" {
		t.Errorf("info = %+v", info)
	}
	if a.Static || len(a.Clusters) != 2 || len(a.Endpoints) != 2 {
		t.Errorf("dynamic dump read as static=%v with %d clusters, %d endpoints; the bootstrap's xds_cluster must not count", a.Static, len(a.Clusters), len(a.Endpoints))
	}
}

// dynamicDump is what a proxy on egctl's dynamic bootstrap would report.
func dynamicDump(t *testing.T, s *Snapshot, version string, at int64) *adminv3.ConfigDump {
	t.Helper()
	boot, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{NodeID: "default/eg", XDSHost: "127.0.0.1", XDSPort: 18000})
	if err != nil {
		t.Fatal(err)
	}
	ts := timestamppb.New(timestampAt(at))
	ld := &adminv3.ListenersConfigDump{VersionInfo: version}
	for _, l := range s.Listeners {
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.GetName(), ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: version, Listener: mustAny(t, l), LastUpdated: ts},
		})
	}
	cd := &adminv3.ClustersConfigDump{VersionInfo: version}
	for _, c := range boot.GetStaticResources().GetClusters() {
		cd.StaticClusters = append(cd.StaticClusters, &adminv3.ClustersConfigDump_StaticCluster{Cluster: mustAny(t, c), LastUpdated: ts})
	}
	for _, c := range s.Clusters {
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: version, Cluster: mustAny(t, c), LastUpdated: ts})
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range s.Routes {
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{VersionInfo: version, RouteConfig: mustAny(t, r), LastUpdated: ts})
	}
	ed := &adminv3.EndpointsConfigDump{}
	for _, e := range s.Endpoints {
		ed.DynamicEndpointConfigs = append(ed.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{VersionInfo: version, EndpointConfig: mustAny(t, e), LastUpdated: ts})
	}
	sd := &adminv3.SecretsConfigDump{}
	for _, x := range s.Secrets {
		sd.DynamicActiveSecrets = append(sd.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{Name: x.GetName(), VersionInfo: version, Secret: mustAny(t, x), LastUpdated: ts})
	}
	return &adminv3.ConfigDump{Configs: []*anypb.Any{
		mustAny(t, &adminv3.BootstrapConfigDump{Bootstrap: boot, LastUpdated: ts}),
		mustAny(t, cd), mustAny(t, ld), mustAny(t, rd), mustAny(t, ed), mustAny(t, sd),
	}}
}

func TestStaticBootstrapDump(t *testing.T) {
	// A proxy started from egctl's static bootstrap: everything is in
	// static_resources; its dump compared with the dynamic form of the same
	// resources, once that is put in static form, is empty.
	s := oldSnapshot(t)
	// EDS clusters need an assignment and listeners their route config for
	// the static form; the fixture has both.
	static, err := s.ToStatic("default/eg")
	if err != nil {
		t.Fatal(err)
	}
	if !static.Static || len(static.Routes) != 0 || len(static.Endpoints) != 0 {
		t.Fatalf("ToStatic: %+v", static)
	}
	boot := &bootstrapv3.Bootstrap{
		Node:            &corev3.Node{Id: "default/eg"},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Listeners: static.Listeners, Clusters: static.Clusters, Secrets: static.Secrets},
		Admin:           &bootstrapv3.Admin{},
	}
	ld := &adminv3.ListenersConfigDump{}
	for _, l := range static.Listeners {
		ld.StaticListeners = append(ld.StaticListeners, &adminv3.ListenersConfigDump_StaticListener{Listener: mustAny(t, l)})
	}
	cd := &adminv3.ClustersConfigDump{}
	for _, c := range static.Clusters {
		cd.StaticClusters = append(cd.StaticClusters, &adminv3.ClustersConfigDump_StaticCluster{Cluster: mustAny(t, c)})
	}
	sd := &adminv3.SecretsConfigDump{}
	for _, x := range static.Secrets {
		// Envoy redacts private keys in its dump.
		red := tlsSecret(x.GetName(), testCert, "")
		red.GetTlsCertificate().PrivateKey = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "[redacted]"}}
		sd.StaticSecrets = append(sd.StaticSecrets, &adminv3.SecretsConfigDump_StaticSecret{Name: x.GetName(), Secret: mustAny(t, red)})
	}
	dump := &adminv3.ConfigDump{Configs: []*anypb.Any{mustAny(t, &adminv3.BootstrapConfigDump{Bootstrap: boot}), mustAny(t, ld), mustAny(t, cd), mustAny(t, sd)}}
	live, info, err := FromConfigDump(dump)
	if err != nil {
		t.Fatal(err)
	}
	if !live.Static || info.NodeID != "default/eg" {
		t.Fatalf("static bootstrap dump not recognised: static=%v info=%+v", live.Static, info)
	}
	if r := compare(t, static, live, Options{}); !r.Empty() {
		t.Fatalf("static dump differs from the static form of its source: %+v", r.Entries)
	}
	// Envoy's own redaction cannot hide a real change of the certificate.
	other := oldSnapshot(t)
	other.Secrets[0] = tlsSecret("default/tls", "-----BEGIN CERTIFICATE-----\nOTHER\n-----END CERTIFICATE-----\n", testKeyOld)
	otherStatic, err := other.ToStatic("default/eg")
	if err != nil {
		t.Fatal(err)
	}
	if r := compare(t, otherStatic, live, Options{}); find(r, TypeSecret, "default/tls") == nil {
		t.Errorf("certificate change hidden by redaction")
	}
}

func TestRedaction(t *testing.T) {
	r := compare(t, oldSnapshot(t), newSnapshot(t), Options{})
	e := find(r, TypeSecret, "default/tls")
	if e == nil {
		t.Fatal("rotated key not reported")
	}
	var all bytes.Buffer
	_ = WriteJSON(&all, r)
	for _, secret := range []string{"OLDSECRETKEYMATERIAL", "NEWSECRETKEYMATERIAL", b64("OLDSECRET"), b64(testKeyOld)} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("output leaks %q", secret)
		}
	}
	if !strings.Contains(e.Diff, "[redacted sha256:") {
		t.Errorf("redacted diff has no fingerprint:\n%s", e.Diff)
	}

	shown := compare(t, oldSnapshot(t), newSnapshot(t), Options{ShowSecrets: true})
	if e := find(shown, TypeSecret, "default/tls"); e == nil || !strings.Contains(e.Diff, b64(testKeyOld)) {
		t.Errorf("--show-secrets does not show the key")
	}

	// Secret material inlined in a listener's TLS context is redacted too,
	// and an added resource is redacted like a changed one.
	l := &listenerv3.Listener{Name: "tls", FilterChains: []*listenerv3.FilterChain{{
		TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{
			TypedConfig: mustAny(t, &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsCertificates: []*tlsv3.TlsCertificate{tlsSecret("", testCert, testKeyOld).GetTlsCertificate()},
			}}),
		}},
	}}}
	added := compare(t, &Snapshot{}, &Snapshot{Listeners: []*listenerv3.Listener{l}}, Options{})
	if len(added.Entries) != 1 || strings.Contains(added.Entries[0].Diff, b64(testKeyOld)) || !strings.Contains(added.Entries[0].Diff, "[redacted") {
		t.Errorf("inline TLS key not redacted: %+v", added.Entries)
	}
}

func b64(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	_ = enc.Encode([]byte(s))
	return strings.Trim(strings.TrimSpace(buf.String()), `"`)
}

func TestProxyOnOneSide(t *testing.T) {
	r, err := Compare(Side{"default/eg": oldSnapshot(t)}, Side{"default/other": &Snapshot{Clusters: []*clusterv3.Cluster{cluster("c")}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var removed, added int
	for _, e := range r.Entries {
		switch {
		case e.Proxy == "default/eg" && e.Change == Removed:
			removed++
		case e.Proxy == "default/other" && e.Change == Added:
			added++
		default:
			t.Errorf("unexpected entry %+v", e)
		}
	}
	if removed != 7 || added != 1 {
		t.Errorf("removed %d, added %d; want 7 and 1", removed, added)
	}
}

func TestDuplicateNamesKept(t *testing.T) {
	a := &Snapshot{Routes: []*routev3.RouteConfiguration{{Name: "r"}, {Name: "r", VirtualHosts: []*routev3.VirtualHost{vhost("v", "*")}}}}
	b := &Snapshot{Routes: []*routev3.RouteConfiguration{{Name: "r"}}}
	r := compare(t, a, b, Options{})
	if e := find(r, TypeRoute, "r (duplicate 2)"); e == nil || e.Change != Removed {
		t.Errorf("duplicate not reported: %+v", r.Entries)
	}
}

// Envoy rebuilds the endpoints it reports from its host sets: the default
// overprovisioning factor and HEALTHY appear, locality metadata goes.
func TestReportedEndpoints(t *testing.T) {
	sent := oldSnapshot(t)
	sent.Endpoints[0].Endpoints[0].Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"envoy-gateway": {}}}
	reported := oldSnapshot(t)
	for _, cla := range reported.Endpoints {
		cla.Policy = &endpointv3.ClusterLoadAssignment_Policy{OverprovisioningFactor: wrapperspb.UInt32(140)}
		for _, l := range cla.Endpoints {
			for _, e := range l.LbEndpoints {
				e.HealthStatus = corev3.HealthStatus_HEALTHY
				e.GetEndpoint().HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{}
			}
		}
	}
	live, _, err := FromConfigDump(dynamicDump(t, reported, "1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if !live.ReportedEndpoints {
		t.Fatal("a dump with endpoints is not marked as reported")
	}
	if r := compare(t, sent, live, Options{}); !r.Empty() {
		t.Fatalf("reported endpoints differ from those sent: %+v", r.Entries)
	}
	// A host failing its health checks is health, not configuration; a
	// factor that is not the default is configuration.
	reported.Endpoints[0].Endpoints[0].LbEndpoints[0].HealthStatus = corev3.HealthStatus_UNHEALTHY
	reported.Endpoints[1].Policy.OverprovisioningFactor = wrapperspb.UInt32(200)
	live, _, _ = FromConfigDump(dynamicDump(t, reported, "1", 1))
	if r := compare(t, sent, live, Options{}); len(r.Entries) != 1 || r.Entries[0].Name != "httproute/default/web/rule/0" {
		t.Fatalf("want only the factor reported: %+v", r.Entries)
	}
	// Without a reported side, metadata counts.
	if r := compare(t, sent, oldSnapshot(t), Options{}); len(r.Entries) != 1 {
		t.Fatalf("locality metadata change between two sent assignments not reported: %+v", r.Entries)
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	r := compare(t, oldSnapshot(t), newSnapshot(t), Options{})
	var plain, colored bytes.Buffer
	_ = WriteText(&plain, r, RenderOptions{})
	_ = WriteText(&colored, r, RenderOptions{Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes without Color")
	}
	for _, want := range []string{"\x1b[31m-      prefix: /v1\x1b[0m", "\x1b[32m+      - name: envoy.filters.http.cors\x1b[0m"} {
		if !strings.Contains(colored.String(), want) {
			t.Errorf("coloured output lacks %q", want)
		}
	}
}

func TestContextLines(t *testing.T) {
	r := compare(t, oldSnapshot(t), newSnapshot(t), Options{Context: -1})
	e := find(r, TypeEndpoint, "httproute/default/api/rule/0")
	if e == nil || e.Diff != "@@ -8 +8 @@\n-          portValue: 3000\n+          portValue: 3005\n" {
		t.Errorf("zero context: %+v", e)
	}
}

func TestMarkdownLimit(t *testing.T) {
	r := compare(t, oldSnapshot(t), newSnapshot(t), Options{})
	var full, capped bytes.Buffer
	_ = WriteMarkdown(&full, r, RenderOptions{})
	_ = WriteMarkdown(&capped, r, RenderOptions{MarkdownLimit: 1500})
	if capped.Len() > 1500 || !strings.Contains(capped.String(), "more resources differ and are not shown") {
		t.Errorf("capped markdown (%d bytes):\n%s", capped.Len(), capped.String())
	}
	if strings.Contains(full.String(), "not shown") {
		t.Errorf("small output capped")
	}
}
