package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/admin/admintest"
)

// TestRealEnvoy runs every call against Envoy 1.40 serving the admintest
// bootstrap.
func TestRealEnvoy(t *testing.T) {
	e := admintest.Start(t, "127.0.0.1:9")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := admin.New(e.AdminAddr, admin.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	if s, err := c.Ready(ctx); err != nil || s != "LIVE" {
		t.Fatalf("ready: %q %v", s, err)
	}
	si, err := c.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(si.GetVersion(), "/1.40.") {
		t.Errorf("version %q", si.GetVersion())
	}

	d, err := c.ConfigDump(ctx, "", "", true)
	if err != nil {
		t.Fatalf("config dump: %v", err) // also fails on a PartialError: every type must be known
	}
	types := map[string]bool{}
	for _, a := range d.GetConfigs() {
		types[a.GetTypeUrl()[strings.LastIndexByte(a.GetTypeUrl(), '/')+1:]] = true
	}
	for _, want := range []string{"envoy.admin.v3.BootstrapConfigDump", "envoy.admin.v3.ListenersConfigDump", "envoy.admin.v3.EndpointsConfigDump", "envoy.admin.v3.SecretsConfigDump"} {
		if !types[want] {
			t.Errorf("dump lacks %s (has %v)", want, types)
		}
	}

	// resource= returns the listener itself, one Any per resource.
	ld, err := c.ConfigDump(ctx, "static_listeners", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ld.GetConfigs()) != 1 {
		t.Fatalf("%d static listeners", len(ld.GetConfigs()))
	}
	var sl adminv3.ListenersConfigDump_StaticListener
	if err := ld.GetConfigs()[0].UnmarshalTo(&sl); err != nil {
		t.Fatal(err)
	}
	var l listenerv3.Listener
	if err := sl.GetListener().UnmarshalTo(&l); err != nil || l.GetName() != admintest.ListenerName {
		t.Errorf("listener %q %v", l.GetName(), err)
	}

	ls, err := c.Listeners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ls.GetListenerStatuses(); len(got) != 1 || got[0].GetName() != admintest.ListenerName {
		t.Errorf("listeners %v", got)
	}

	cl, err := c.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := admin.Health(cl)
	if len(h) != 1 || h[0].Cluster != admintest.ClusterName || h[0].Address != "127.0.0.1:9" || !h[0].Healthy {
		t.Errorf("health %+v", h)
	}

	st, err := c.Stats(ctx, `^cluster\.`+admintest.ClusterName+`\.upstream_cx_total$`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Values["cluster."+admintest.ClusterName+".upstream_cx_total"]; !ok || len(st.Values) != 1 {
		t.Errorf("stats %v", st.Values)
	}

	res := admin.Each(ctx, []string{e.AdminAddr}, nil, func(ctx context.Context, c *admin.Client) (*adminv3.ServerInfo, error) {
		return c.ServerInfo(ctx)
	})
	if r := res[e.AdminAddr]; r.Err != nil || r.Value.GetState() != adminv3.ServerInfo_LIVE {
		t.Errorf("each: %+v", r)
	}
}
