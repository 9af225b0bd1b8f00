package difftest

import (
	"context"
	"net"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/egctl/egctl/xds"
)

// ADS is a go-control-plane ADS server on loopback, serving snapshots to
// proxies by node id. It stops when the test ends.
type ADS struct {
	Port      int
	snapshots cache.SnapshotCache
	ctx       context.Context
}

// StartADS starts the server.
func StartADS(t testing.TB) *ADS {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &ADS{snapshots: cache.NewSnapshotCache(true, cache.IDHash{}, nil), ctx: ctx}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, a.snapshots, nil))
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		cancel()
	})
	a.Port = lis.Addr().(*net.TCPAddr).Port
	return a
}

// Push serves r to the proxy whose node id is r.Name, checked for
// consistency (every RDS and EDS name present).
func (a *ADS) Push(t testing.TB, r *xds.Resources, version string) {
	t.Helper()
	snap, err := xds.Snapshot(r, version)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.snapshots.SetSnapshot(a.ctx, r.Name, snap); err != nil {
		t.Fatal(err)
	}
}

// PushRaw serves resources as given, without any check: for feeding a
// proxy configuration it will reject.
func (a *ADS) PushRaw(t testing.TB, node, version string, res map[resource.Type][]types.Resource) {
	t.Helper()
	snap, err := cache.NewSnapshot(version, res)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.snapshots.SetSnapshot(a.ctx, node, snap); err != nil {
		t.Fatal(err)
	}
}

// DynamicBootstrap is egctl's ADS bootstrap for node pointing at a.
func (a *ADS) DynamicBootstrap(t testing.TB, node string, adminPort int) []byte {
	t.Helper()
	bs, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{
		NodeID: node, XDSHost: "127.0.0.1", XDSPort: uint32(a.Port),
		AdminAddress: "127.0.0.1", AdminPort: uint32(adminPort),
	})
	if err != nil {
		t.Fatal(err)
	}
	return Marshal(t, bs)
}
