package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/xds"
)

// DataPlane runs one Envoy per proxy, all fed over ADS by one
// go-control-plane server on 127.0.0.1. A new configuration is a new
// snapshot: Envoy applies it without a restart.
type DataPlane struct {
	envoyBin string
	dir      string
	logf     func(string, ...any)

	cache   cachev3.SnapshotCache
	grpc    *grpc.Server
	xdsPort int

	mu      sync.Mutex
	envoys  map[string]*envoyProc
	last    map[string]*xds.Resources
	version int
	// Errors seen applying configuration, by proxy, for the report.
	errors map[string]string

	// nacks are configurations an Envoy rejected: always an xds bug.
	nackMu  sync.Mutex
	streams map[int64]string // ADS stream → node id (sent only once)
	nacks   map[string]int
}

type envoyProc struct {
	proc      *process
	adminPort int
}

// StartDataPlane starts the xDS server. Envoys start on the first Apply
// that names their proxy.
func StartDataPlane(envoyBin, dir string, logf func(string, ...any)) (*DataPlane, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &DataPlane{
		envoyBin: envoyBin, dir: dir, logf: logf,
		cache:   cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil),
		grpc:    grpc.NewServer(),
		xdsPort: l.Addr().(*net.TCPAddr).Port,
		envoys:  map[string]*envoyProc{},
		last:    map[string]*xds.Resources{},
		errors:  map[string]string{},
		streams: map[int64]string{},
		nacks:   map[string]int{},
	}
	cb := serverv3.CallbackFuncs{StreamRequestFunc: d.onRequest}
	srv := serverv3.NewServer(context.Background(), d.cache, cb)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(d.grpc, srv)
	go func() { _ = d.grpc.Serve(l) }()
	return d, nil
}

// onRequest records NACKs: a request carrying error_detail says the Envoy
// rejected the previous response.
func (d *DataPlane) onRequest(stream int64, req *discoverygrpc.DiscoveryRequest) error {
	d.nackMu.Lock()
	defer d.nackMu.Unlock()
	if id := req.GetNode().GetId(); id != "" {
		d.streams[stream] = id
	}
	if e := req.GetErrorDetail(); e != nil {
		msg := fmt.Sprintf("Envoy of %s rejected %s: %s", d.streams[stream], req.GetTypeUrl(), e.GetMessage())
		if d.nacks[msg] == 0 {
			d.logf("dataplane: %s", msg)
		}
		d.nacks[msg]++
	}
	return nil
}

// NACKs returns every distinct rejection Envoy reported, with its count.
func (d *DataPlane) NACKs() map[string]int {
	d.nackMu.Lock()
	defer d.nackMu.Unlock()
	out := make(map[string]int, len(d.nacks))
	for k, v := range d.nacks {
		out[k] = v
	}
	return out
}

// XDSPort is the port of the ADS server on 127.0.0.1.
func (d *DataPlane) XDSPort() int { return d.xdsPort }

// Apply pushes cfg: a snapshot per proxy whose resources changed, an Envoy
// started for each new proxy, Envoys of vanished proxies stopped. A proxy
// whose xDS cannot be built keeps its previous configuration; the error is
// returned (and kept for Errors) but the other proxies are still applied.
func (d *DataPlane) Apply(ctx context.Context, cfg *ir.Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []string
	seen := map[string]bool{}
	for _, p := range cfg.Proxies {
		seen[p.Name] = true
		rs, err := xds.Translate(&ir.Config{Proxies: []*ir.Proxy{p}})
		if err != nil {
			d.errors[p.Name] = err.Error()
			errs = append(errs, err.Error())
			continue
		}
		delete(d.errors, p.Name)
		r := rs[0]
		if !sameResources(d.last[p.Name], r) {
			d.version++
			snap, err := xds.Snapshot(r, strconv.Itoa(d.version))
			if err != nil {
				d.errors[p.Name] = err.Error()
				errs = append(errs, err.Error())
				continue
			}
			if err := d.cache.SetSnapshot(ctx, p.Name, snap); err != nil {
				errs = append(errs, fmt.Sprintf("proxy %s: setting snapshot: %v", p.Name, err))
				continue
			}
			d.last[p.Name] = r
		}
		if e := d.envoys[p.Name]; e == nil || e.proc.exited() {
			if e != nil {
				d.logf("dataplane: Envoy of %s exited; restarting. Its output:\n%s", p.Name, e.proc.out.since(time.Time{}))
			}
			e, err := d.startEnvoy(p.Name)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			d.envoys[p.Name] = e
		}
	}
	for name, e := range d.envoys {
		if !seen[name] {
			e.proc.stop()
			delete(d.envoys, name)
			delete(d.last, name)
			delete(d.errors, name)
			d.cache.ClearSnapshot(name)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("dataplane: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Errors returns the current per-proxy errors, sorted.
func (d *DataPlane) Errors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.errors))
	for p, e := range d.errors {
		out = append(out, p+": "+e)
	}
	sort.Strings(out)
	return out
}

// AdminPort returns the admin port of the Envoy serving proxy, 0 if none.
func (d *DataPlane) AdminPort(proxy string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.envoys[proxy]; e != nil {
		return e.adminPort
	}
	return 0
}

// EnvoyOutput returns what the Envoy of proxy wrote so far.
func (d *DataPlane) EnvoyOutput(proxy string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.envoys[proxy]; e != nil {
		return string(e.proc.out.since(time.Time{}))
	}
	return ""
}

// Close stops every Envoy and the xDS server.
func (d *DataPlane) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, e := range d.envoys {
		e.proc.stop()
		delete(d.envoys, name)
	}
	d.grpc.Stop()
}

func (d *DataPlane) startEnvoy(proxy string) (*envoyProc, error) {
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	bs, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{
		NodeID:       proxy,
		NodeCluster:  proxy,
		XDSHost:      "127.0.0.1",
		XDSPort:      uint32(d.xdsPort),
		AdminAddress: "127.0.0.1",
		AdminPort:    uint32(admin),
	})
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", proxy, err)
	}
	js, err := protojson.Marshal(bs)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: bootstrap: %w", proxy, err)
	}
	dir := filepath.Join(d.dir, "envoy", strings.ReplaceAll(proxy, "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		return nil, err
	}
	// A short drain time: a listener replaced by an update must free its
	// port quickly for the next test that binds it.
	args := []string{"-c", path, "--disable-hot-restart", "--concurrency", "1", "-l", "warning", "--drain-time-s", "1"}
	p, err := startProcess(d.envoyBin, args, nil, dir)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", proxy, err)
	}
	return &envoyProc{proc: p, adminPort: admin}, nil
}

// sameResources reports whether two resource sets are equal, so an
// unchanged proxy gets no new snapshot version.
func sameResources(a, b *xds.Resources) bool {
	if a == nil || b == nil {
		return a == b
	}
	eq := func(x, y []proto.Message) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !proto.Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return eq(msgs(a.Listeners), msgs(b.Listeners)) && eq(msgs(a.Routes), msgs(b.Routes)) &&
		eq(msgs(a.Clusters), msgs(b.Clusters)) && eq(msgs(a.Endpoints), msgs(b.Endpoints)) &&
		eq(msgs(a.Secrets), msgs(b.Secrets))
}

func msgs[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}
