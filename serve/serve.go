// Package serve is egctl's host mode: it compiles manifests, serves the
// result over ADS (state of the world and delta xDS) to any number of
// Envoys, one snapshot per Gateway, and recompiles when a file changes. A
// change that does not load, does not build, or brings a new problem is
// held back: the proxies keep the last good configuration and the reason is
// logged and shown on /status.
package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/egctl/egctl/manifest"
)

// Options configure a Server.
type Options struct {
	CompileOptions
	// XDSAddress is where the ADS server listens ("127.0.0.1:18000").
	XDSAddress string
	// StatusAddress serves /status, /metrics and /healthz; "" disables it.
	StatusAddress string
	// TLS, when set, makes the xDS channel mutual TLS: the server presents
	// CertFile/KeyFile and requires client certificates signed by CAFile.
	TLS *TLSFiles
	// Debounce is how long the manifests must stay quiet after a change
	// before they are compiled again.
	Debounce time.Duration
	// ApplyWithProblems pushes a change even when it brings new problems
	// (objects not accepted); by default such a change is held back.
	ApplyWithProblems bool
	// Watch recompiles on file changes; false compiles once.
	Watch bool
	// Log receives one line per event; nil discards.
	Log io.Writer
}

// TLSFiles are PEM files for the xDS channel.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// Server is one serve process.
type Server struct {
	o     Options
	cache *fleetCache
	// loads keeps what unchanged manifest files decoded to; reuse what
	// the last compilation built and marshalled (incremental.go). Both
	// belong to the goroutine that compiles.
	loads   *manifest.Cache
	reuse   *reuseState
	fleet   *fleet
	metrics *metrics
	logMu   sync.Mutex

	mu sync.Mutex
	// applied is the compilation the proxies are given; last the latest
	// attempt (which may have been held back), with heldBack its reason.
	applied  *compiled
	last     *compiled
	heldBack []string
	// gateways are the snapshots served, by proxy name: applied's, but for
	// a Gateway whose snapshot an Envoy rejected (nack.go).
	gateways map[string]*proxySnapshot
	// good is, per Gateway, the newest snapshot a proxy of it acknowledged
	// in full, earlier the one good was before; rejected the snapshot an
	// Envoy rejected (nack.go).
	good, earlier map[string]*proxySnapshot
	rejected      map[string]*Rejected

	xdsAddr, statusAddr net.Addr
	ready               chan struct{}
}

// New checks the options and returns a Server; Run starts it.
func New(o Options) (*Server, error) {
	if len(o.Files) == 0 && len(o.Manifest.Kustomize) == 0 {
		return nil, errors.New("no manifests: give files or directories to serve")
	}
	if o.XDSAddress == "" {
		o.XDSAddress = "127.0.0.1:18000"
	}
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &Server{o: o, fleet: newFleet(), metrics: newMetrics(), gateways: map[string]*proxySnapshot{},
		good: map[string]*proxySnapshot{}, earlier: map[string]*proxySnapshot{}, rejected: map[string]*Rejected{}, ready: make(chan struct{})}
	s.cache = newFleetCache()
	s.loads = manifest.NewCache()
	s.fleet.onAck = func(proxy string, d time.Duration, types map[string]string) {
		s.metrics.pushLatency.Observe(d.Seconds())
		s.acknowledged(proxy, types) // nack.go
	}
	s.fleet.onNack = func(proxy, node, typeURL, version, msg string) {
		s.metrics.nacks.Inc()
		s.logf("NACK: proxy %s (node %s) rejected %s version %s: %s", proxy, node, typeURL, version, msg)
		// Not on the stream's goroutine: going back answers watches.
		go s.rejectSnapshot(proxy, node, typeURL, version, msg) // nack.go
	}
	s.fleet.unknown = func(node, cluster string) {
		s.logf("proxy node %s asks for Gateway %q, which the manifests do not define; it gets nothing until they do", node, cluster)
	}
	s.fleet.known = func(cluster string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.gateways[cluster] != nil
	}
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.o.Log, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// XDSAddr and StatusAddr are the bound addresses, once Ready is closed.
func (s *Server) XDSAddr() net.Addr    { return s.xdsAddr }
func (s *Server) StatusAddr() net.Addr { return s.statusAddr }

// Ready is closed once the servers listen and the first compilation is done.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run compiles, serves and (with Watch) recompiles on change until ctx is
// done, then stops gracefully: open streams get a moment to finish.
func (s *Server) Run(ctx context.Context) error {
	grpcOpts := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1 << 20),
		// Envoy keeps ADS streams open for hours; let dead peers go.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second, PermitWithoutStream: true}),
	}
	if s.o.TLS != nil {
		creds, err := serverTLS(s.o.TLS)
		if err != nil {
			return err
		}
		grpcOpts = append(grpcOpts, grpc.Creds(creds))
	}
	lis, err := net.Listen("tcp", s.o.XDSAddress)
	if err != nil {
		return fmt.Errorf("xds address: %w", err)
	}
	s.xdsAddr = lis.Addr()
	gs := grpc.NewServer(grpcOpts...)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, s.cache, s.fleet.callbacks()))

	var hs *http.Server
	if s.o.StatusAddress != "" {
		hl, err := net.Listen("tcp", s.o.StatusAddress)
		if err != nil {
			lis.Close()
			return fmt.Errorf("status address: %w", err)
		}
		s.statusAddr = hl.Addr()
		hs = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(hl) }()
	}

	s.recompile("start")
	var w *watcher
	if s.o.Watch {
		// A kustomization is watched as its directory: bases outside it are
		// not (docs/serve.md).
		paths := append(append([]string(nil), s.o.Files...), s.o.Manifest.Kustomize...)
		w, err = newWatcher(paths, s.o.Debounce, func(f string, a ...any) { s.logf(f, a...) })
		if err != nil {
			lis.Close()
			return err
		}
		defer w.close()
	}

	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	s.logf("serving xDS on %s (state of the world and delta)%s; %s", s.xdsAddr, tlsNote(s.o.TLS), s.summary())
	if s.statusAddr != nil {
		s.logf("status on http://%s/status, metrics on http://%s/metrics", s.statusAddr, s.statusAddr)
	}
	close(s.ready)

	var changes <-chan string
	if w != nil {
		changes = w.changes
	}
	for {
		select {
		case <-ctx.Done():
			s.logf("stopping: %v", context.Cause(ctx))
			stopped := make(chan struct{})
			go func() { gs.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				gs.Stop()
			}
			if hs != nil {
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = hs.Shutdown(sctx)
				cancel()
			}
			return nil
		case err := <-served:
			return fmt.Errorf("xds server: %w", err)
		case what := <-changes:
			s.recompile(what)
		}
	}
}

func tlsNote(t *TLSFiles) string {
	if t == nil {
		return " without TLS"
	}
	return " with mutual TLS"
}

// recompile compiles the manifests and, unless the result must be held
// back, hands each proxy its new snapshot.
func (s *Server) recompile(why string) {
	c := compile(s.o.CompileOptions, s.loads, s.reuse)
	if c.err == nil {
		s.reuse = c.reuse
	}
	s.metrics.compileSeconds.Observe(c.duration.Seconds())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = c
	var reasons []string
	switch {
	case c.err != nil:
		reasons = strings.Split(c.err.Error(), "\n")
	case !s.o.ApplyWithProblems && s.applied != nil:
		reasons = newProblems(s.applied, c)
	}
	for _, w := range c.warnings {
		s.logf("warning: %s", w)
	}
	if len(reasons) > 0 {
		s.heldBack = reasons
		s.metrics.compiles.WithLabelValues("held").Inc()
		if s.applied == nil {
			s.logf("compile (%s) failed in %s; nothing is served until the manifests compile:", why, c.duration.Round(time.Millisecond))
		} else {
			s.logf("compile (%s) in %s held back; the proxies keep the configuration of %s:", why, c.duration.Round(time.Millisecond), s.applied.at.UTC().Format(time.RFC3339))
		}
		for _, r := range reasons {
			s.logf("  %s", r)
		}
		return
	}
	s.heldBack = nil
	s.metrics.compiles.WithLabelValues("applied").Inc()
	changed := 0
	served := make(map[string]*proxySnapshot, len(c.proxies))
	for name, ps := range c.proxies {
		served[name] = ps
		if r := s.rejected[name]; r != nil {
			if r.Version == ps.version && s.gateways[name] != nil {
				// An Envoy rejected this very snapshot: the Gateway keeps
				// the one it went back to until the manifests change it.
				served[name] = s.gateways[name]
				continue
			}
			delete(s.rejected, name)
		}
		if old := s.gateways[name]; old != nil && old.version == ps.version {
			continue
		}
		s.fleet.pushedVersion(name, ps.types)
		s.fleet.forgetRejections(name, ps.types)
		s.cache.set(name, ps.snap)
		changed++
	}
	for name := range s.gateways {
		if c.proxies[name] == nil {
			// The Gateway is gone: its proxies get nothing new, and keep
			// what they have (as Envoy does when its control plane has no
			// answer) rather than an empty configuration that drops traffic.
			s.cache.clear(name)
			delete(s.good, name)
			delete(s.earlier, name)
			delete(s.rejected, name)
			s.logf("Gateway %s is no longer in the manifests; its proxies keep their last configuration", name)
		}
	}
	s.gateways = served
	s.applied = c
	s.metrics.gateways.Set(float64(len(c.proxies)))
	for _, p := range c.problems {
		s.logf("problem: %s", p.text)
	}
	s.logf("compile (%s) in %s (%s): %d objects (%d files decoded, %d unchanged), %d Gateways, %d changed; resources %d marshalled, %d reused", why, c.duration.Round(time.Millisecond), c.stages, c.objects, c.decoded, c.unchanged, len(c.proxies), changed, c.reused.Marshalled, c.reused.Reused)
}

func (s *Server) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.gateways {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no Gateway compiled yet"
	}
	return "Gateways: " + strings.Join(names, ", ")
}

// serverTLS loads the server certificate and the CA client certificates
// must chain to.
func serverTLS(t *TLSFiles) (credentials.TransportCredentials, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("xds TLS: %w", err)
	}
	caPEM, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("xds TLS: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("xds TLS: %s holds no PEM certificate", t.CAFile)
	}
	return credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}), nil
}
