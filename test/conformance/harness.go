package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/egctl/egctl/internal/envoytest"
)

// ControllerName is the controller the harness's GatewayClass names.
const ControllerName = "egctl.io/gatewayclass-controller"

// Harness is the whole simulated cluster: API server, controller, data
// plane and backends, reconciled by one loop.
type Harness struct {
	Store      *Store
	API        *APIServer
	Backends   *Backends
	DataPlane  *DataPlane
	Controller *Controller

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	errs    map[string]int // reconcile errors seen, with counts
	lastErr string
}

// Options configure StartHarness.
type Options struct {
	EnvoyBin string
	EchoBin  string
	// Dir holds bootstraps and per-pod files.
	Dir  string
	Logf func(string, ...any)
	// CRDDir holds the Gateway API CRDs whose defaults the API server
	// applies and which it lists; "" means CRDDir().
	CRDDir string
	// Resync is how often the loop runs without a change (to restart a
	// crashed Envoy, retry a conflicted status write). Default 2s.
	Resync time.Duration
}

// StartHarness starts every part. Close stops them all.
func StartHarness(o Options) (*Harness, error) {
	// The fake client and the suite's clients log through
	// controller-runtime; without a logger it prints a warning and a
	// stack trace once. Their logs add nothing here: the harness reports
	// through Logf and diagnostics.txt.
	crlog.SetLogger(logr.Discard())
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Resync == 0 {
		o.Resync = 2 * time.Second
	}
	s, err := NewScheme()
	if err != nil {
		return nil, err
	}
	st := NewStore(s)
	if o.CRDDir == "" {
		if o.CRDDir, err = CRDDir(); err != nil {
			return nil, err
		}
	}
	crds, err := LoadCRDs(o.CRDDir)
	if err != nil {
		return nil, err
	}
	st.SetCRDs(crds)
	// The CRDs are objects too: the suite reads their version annotations.
	for _, crd := range crds {
		if err := st.Create(context.Background(), crd); err != nil {
			return nil, err
		}
	}
	dp, err := StartDataPlane(o.EnvoyBin, o.Dir, o.Logf)
	if err != nil {
		return nil, err
	}
	h := &Harness{Store: st, DataPlane: dp, errs: map[string]int{}}
	h.Backends = NewBackends(st, o.EchoBin, o.Dir, o.Logf)
	h.API = StartAPIServer(st, h.Backends)
	h.Controller = NewController(st, dp, ControllerName, o.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go h.loop(ctx, o.Resync, o.Logf)
	return h, nil
}

func (h *Harness) loop(ctx context.Context, resync time.Duration, logf func(string, ...any)) {
	defer close(h.done)
	t := time.NewTicker(resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.Store.Changed():
		case <-t.C:
		}
		err := h.Backends.Reconcile(ctx)
		if err == nil {
			err = h.Controller.Reconcile(ctx)
		}
		h.mu.Lock()
		if err != nil && ctx.Err() == nil {
			if err.Error() != h.lastErr {
				logf("harness: reconcile: %v", err)
			}
			h.errs[err.Error()]++
			h.lastErr = err.Error()
		} else {
			h.lastErr = ""
		}
		h.mu.Unlock()
	}
}

// Errors returns every distinct reconcile error seen, with its count.
func (h *Harness) Errors() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.errs))
	for k, v := range h.errs {
		out[k] = v
	}
	return out
}

// Close stops the loop, every Envoy, every backend and the API server.
func (h *Harness) Close() {
	h.cancel()
	<-h.done
	h.DataPlane.Close()
	h.Backends.Close()
	h.API.Close()
}

// BuildEcho builds the official echo server into dir and returns its path.
func BuildEcho(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "echo-basic")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "sigs.k8s.io/gateway-api/conformance/echo-basic")
	cmd.Dir = envoytest.RepoRoot()
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build echo-basic: %v\n%s", err, b)
	}
	return out, nil
}
