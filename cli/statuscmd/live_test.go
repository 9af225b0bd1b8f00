package statuscmd

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/diff/difftest"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// backend is a loopback HTTP server the test can stop.
func backend(t *testing.T) (port int, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })}
	go func() { _ = srv.Serve(l) }()
	stop = func() { _ = srv.Close() }
	t.Cleanup(stop)
	return l.Addr().(*net.TCPAddr).Port, stop
}

// manifests writes the diff tests' gateway with the given ports.
func manifests(t *testing.T, src string, listener, api, web int) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"port: 18080", fmt.Sprintf("port: %d", listener),
		"port: 13001", fmt.Sprintf("port: %d", api),
		"port: 13002", fmt.Sprintf("port: %d", web),
	).Replace(string(b))
	p := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, []byte(s)
}

// poll runs status until cond holds or the deadline passes.
func poll(t *testing.T, what string, cond func(Report) bool, args ...string) (result, Report) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := runStatus(t, append(args, "-o", "json")...)
		var rep Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("-o json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		if cond(rep) {
			return r, rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s; last:\n%s%s", what, r.stdout, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func cluster(rep Report, name string) ClusterHealth {
	for _, c := range rep.Proxies[0].Clusters {
		if c.Name == name {
			return c
		}
	}
	return ClusterHealth{Name: name, Total: -1}
}

// A proxy with active health checks (added to egctl's bootstrap by hand:
// egctl's output has none yet) shows a cluster going unhealthy when its
// backend stops, and the hand edit shows as drift from the manifests.
func TestLiveHealthAndDrift(t *testing.T) {
	apiPort, _ := backend(t)
	webPort, stopWeb := backend(t)
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	path, src := manifests(t, "../diffcmd/testdata/gateway.yaml", listenerPort, apiPort, webPort)

	bs := difftest.StaticBootstrap(t, src, adminPort)
	for _, c := range bs.GetStaticResources().GetClusters() {
		c.HealthChecks = []*corev3.HealthCheck{{
			Timeout:            durationpb.New(time.Second),
			Interval:           durationpb.New(200 * time.Millisecond),
			NoTrafficInterval:  durationpb.New(200 * time.Millisecond),
			UnhealthyThreshold: wrapperspb.UInt32(1),
			HealthyThreshold:   wrapperspb.UInt32(1),
			HealthChecker:      &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}},
		}}
	}
	envoy := difftest.Start(t, difftest.Marshal(t, bs), fmt.Sprintf("127.0.0.1:%d", adminPort))

	const api, web = "httproute/default/shop/rule/0", "httproute/default/shop/rule/1"
	healthy := func(rep Report) bool {
		return len(rep.Proxies) == 1 && cluster(rep, api).Healthy == 1 && cluster(rep, web).Healthy == 1
	}
	r, rep := poll(t, "both clusters healthy", healthy, "--admin", envoy.AdminAddr)
	if r.code != 0 {
		t.Fatalf("healthy proxy: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	p := rep.Proxies[0]
	if p.State != "LIVE" || !strings.HasPrefix(p.Version, "1.") || p.ListenersActive != 1 || p.Node != "default/eg" || !p.StaticBootstrap || p.RejectedUpdates != 0 || p.ConfigLastUpdated != nil {
		t.Errorf("proxy status: %+v", p)
	}

	stopWeb()
	unhealthy := func(rep Report) bool {
		return len(rep.Proxies) == 1 && cluster(rep, web).Healthy == 0 && cluster(rep, web).Total == 1
	}
	r, rep = poll(t, "web cluster unhealthy", unhealthy, "--admin", envoy.AdminAddr)
	if r.code != 1 {
		t.Errorf("unhealthy host: code %d, want 1", r.code)
	}
	if c := cluster(rep, web); len(c.Unhealthy) != 1 || !strings.Contains(c.Unhealthy[0], "failed_active_health_check") {
		t.Errorf("web cluster: %+v", c)
	}
	if c := cluster(rep, api); c.Healthy != 1 {
		t.Errorf("api cluster should stay healthy: %+v", c)
	}

	// The table, and drift: the health checks are not in the manifests.
	r = runStatus(t, "-f", path, "--admin", envoy.AdminAddr)
	for _, want := range []string{
		"Proxy " + envoy.AdminAddr,
		"State:            LIVE",
		"Listeners:        1 active, 0 warming, 0 draining",
		"Hosts:            1/2 healthy",
		"Config updated:   never (static bootstrap)",
		"Drift:            2 resource(s) differ from default/eg: changed cluster " + api + "; changed cluster " + web,
		"failed_active_health_check",
	} {
		if !strings.Contains(squeeze(r.stdout), squeeze(want)) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 1 {
		t.Errorf("code %d, want 1", r.code)
	}
}

// A proxy running exactly what the manifests compile to is in sync.
func TestLiveInSync(t *testing.T) {
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	path, src := manifests(t, "../diffcmd/testdata/gateway.yaml", listenerPort, 13001, 13002)
	envoy := difftest.Start(t, difftest.Marshal(t, difftest.StaticBootstrap(t, src, adminPort)), fmt.Sprintf("127.0.0.1:%d", adminPort))

	r := runStatus(t, "-f", path, "--admin", envoy.AdminAddr, "-o", "json")
	var rep Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Proxies) != 1 || rep.Proxies[0].Drift == nil || !rep.Proxies[0].Drift.InSync || rep.Proxies[0].Drift.Gateway != "default/eg" {
		t.Fatalf("drift: %+v\n%s", rep.Proxies, r.stderr)
	}
	if len(rep.Objects) != 6 {
		t.Errorf("objects: %d rows, want 6", len(rep.Objects))
	}
}

// squeeze collapses runs of blanks, so checks do not depend on column widths.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// A proxy fed over ADS: its config update time shows, and an update it
// rejects is counted (and it keeps serving the previous configuration, so
// it is still in sync with the manifests it was first given).
func TestLiveADSRejectedUpdate(t *testing.T) {
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	path, src := manifests(t, "../diffcmd/testdata/gateway.yaml", listenerPort, 13001, 13002)
	res := compileSrc(t, src)

	ads := difftest.StartADS(t)
	ads.Push(t, res, "1")
	envoy := difftest.Start(t, ads.DynamicBootstrap(t, "default/eg", adminPort), fmt.Sprintf("127.0.0.1:%d", adminPort))

	r, rep := poll(t, "config received", func(rep Report) bool {
		return len(rep.Proxies) == 1 && rep.Proxies[0].ListenersActive == 1 && rep.Proxies[0].Drift != nil && rep.Proxies[0].Drift.InSync
	}, "-f", path, "--admin", envoy.AdminAddr)
	p := rep.Proxies[0]
	if r.code != 0 || p.StaticBootstrap || p.ConfigLastUpdated == nil || time.Since(*p.ConfigLastUpdated) > time.Minute || p.RejectedUpdates != 0 {
		t.Fatalf("code %d, proxy %+v\n%s", r.code, p, r.stderr)
	}
	// The bootstrap's own xds_cluster is a cluster of the proxy: listed.
	if c := cluster(rep, "xds_cluster"); c.Total != 1 {
		t.Errorf("xds_cluster: %+v", c)
	}

	// A listener whose HTTP filter Envoy does not know: LDS update rejected.
	bad := proto.Clone(res.Listeners[0]).(*listenerv3.Listener)
	hcm := &hcmv3.HttpConnectionManager{}
	if err := bad.GetDefaultFilterChain().GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	bogus, _ := anypb.New(&emptypb.Empty{})
	hcm.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "egctl.test.bogus", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: bogus}}}, hcm.HttpFilters...)
	a, _ := anypb.New(hcm)
	bad.GetDefaultFilterChain().GetFilters()[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
	resources := map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: {bad},
		resourcev3.RouteType:    {res.Routes[0]},
		resourcev3.ClusterType:  {res.Clusters[0], res.Clusters[1]},
		resourcev3.EndpointType: {res.Endpoints[0], res.Endpoints[1]},
	}
	ads.PushRaw(t, "default/eg", "2", resources)

	r, rep = poll(t, "update rejected", func(rep Report) bool {
		return len(rep.Proxies) == 1 && rep.Proxies[0].RejectedUpdates > 0
	}, "-f", path, "--admin", envoy.AdminAddr)
	p = rep.Proxies[0]
	if r.code != 1 || p.Rejected["listener_manager.lds.update_rejected"] == 0 {
		t.Errorf("code %d, rejected %v", r.code, p.Rejected)
	}
	if p.Drift == nil || !p.Drift.InSync {
		t.Errorf("the proxy keeps its previous listener, which matches the manifests: %+v", p.Drift)
	}
	r = runStatus(t, "--admin", envoy.AdminAddr)
	if !regexp.MustCompile(`Rejected updates: [1-9][0-9]* \(listener_manager\.lds\.update_rejected=[1-9][0-9]*\)`).MatchString(squeeze(r.stdout)) {
		t.Errorf("table:\n%s", r.stdout)
	}
}

func compileSrc(t *testing.T, src []byte) *xds.Resources {
	t.Helper()
	set, _, err := manifest.LoadBytes("m.yaml", src, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := translate.Translate(set, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := xds.Translate(tr.IR)
	if err != nil || len(all) != 1 {
		t.Fatalf("%v, %d proxies", err, len(all))
	}
	return all[0]
}

// Envoy reports an EDS host that fails its health check as UNHEALTHY in
// its endpoint dump: that is health, shown as such, never as drift.
func TestLiveADSHealthIsNotDrift(t *testing.T) {
	apiPort, _ := backend(t)
	webPort, stopWeb := backend(t)
	listenerPort, adminPort := difftest.FreePort(t), difftest.FreePort(t)
	path, src := manifests(t, "../diffcmd/testdata/gateway.yaml", listenerPort, apiPort, webPort)
	res := compileSrc(t, src)
	ads := difftest.StartADS(t)
	var clusters []types.Resource
	for _, c := range res.Clusters {
		c = proto.Clone(c).(*clusterv3.Cluster)
		c.HealthChecks = []*corev3.HealthCheck{{
			Timeout:            durationpb.New(time.Second),
			Interval:           durationpb.New(200 * time.Millisecond),
			NoTrafficInterval:  durationpb.New(200 * time.Millisecond),
			UnhealthyThreshold: wrapperspb.UInt32(1),
			HealthyThreshold:   wrapperspb.UInt32(1),
			HealthChecker:      &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}},
		}}
		clusters = append(clusters, c)
	}
	ads.PushRaw(t, "default/eg", "1", map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: {res.Listeners[0]},
		resourcev3.RouteType:    {res.Routes[0]},
		resourcev3.ClusterType:  clusters,
		resourcev3.EndpointType: {res.Endpoints[0], res.Endpoints[1]},
	})
	envoy := difftest.Start(t, ads.DynamicBootstrap(t, "default/eg", adminPort), fmt.Sprintf("127.0.0.1:%d", adminPort))
	const web = "httproute/default/shop/rule/1"
	poll(t, "web healthy", func(rep Report) bool {
		return len(rep.Proxies) == 1 && cluster(rep, web).Healthy == 1
	}, "--admin", envoy.AdminAddr)
	stopWeb()
	_, rep := poll(t, "web unhealthy", func(rep Report) bool {
		return len(rep.Proxies) == 1 && cluster(rep, web).Total == 1 && cluster(rep, web).Healthy == 0
	}, "-f", path, "--admin", envoy.AdminAddr)
	d := rep.Proxies[0].Drift
	want := []string{"changed cluster httproute/default/shop/rule/0", "changed cluster " + web}
	if d == nil || d.Error != "" || strings.Join(d.Resources, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift should be the hand-added health checks only, no endpoint: %+v", d)
	}
}

// With several Gateways and a proxy whose node id names none of them,
// drift needs --gateway.
func TestLiveDriftNeedsGateway(t *testing.T) {
	adminPort, listenerPort := difftest.FreePort(t), difftest.FreePort(t)
	_, src := manifests(t, "../diffcmd/testdata/gateway.yaml", listenerPort, 13001, 13002)
	bs := difftest.StaticBootstrap(t, src, adminPort)
	bs.Node.Id, bs.Node.Cluster = "envoy-pod-1", "envoy-pod-1"
	envoy := difftest.Start(t, difftest.Marshal(t, bs), fmt.Sprintf("127.0.0.1:%d", adminPort))
	two, _ := manifests(t, "../diffcmd/testdata/two-gateways.yaml", listenerPort, 13001, 13002)

	r := runStatus(t, "-f", two, "--admin", envoy.AdminAddr, "-o", "json")
	var rep Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if d := rep.Proxies[0].Drift; r.code != 1 || d == nil || !strings.Contains(d.Error, "node id envoy-pod-1") || !strings.Contains(d.Error, "--gateway") {
		t.Fatalf("code %d, drift %+v", r.code, d)
	}
	r = runStatus(t, "-f", two, "--admin", envoy.AdminAddr, "--gateway", "default/eg", "-o", "json")
	rep = Report{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if d := rep.Proxies[0].Drift; r.code != 0 || d == nil || d.Error != "" || d.Gateway != "default/eg" || !d.InSync {
		t.Fatalf("with --gateway: %+v", d)
	}
}
