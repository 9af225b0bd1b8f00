package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is what /status answers: the fleet, and the state of the
// manifests.
type Status struct {
	// Proxies are the connected Envoys.
	Proxies []ProxyStatus `json:"proxies"`
	// Gateways served, with the version each proxy should acknowledge.
	Gateways map[string]string `json:"gateways"`
	// LastGood is, per Gateway, the newest version a proxy of it
	// acknowledged in full.
	LastGood map[string]string `json:"lastGood,omitempty"`
	// Rejected are, per Gateway, snapshots an Envoy rejected (NACK), and
	// what is served instead.
	Rejected map[string]*Rejected `json:"rejected,omitempty"`
	// Applied is the compilation the proxies are given.
	Applied *CompileStatus `json:"applied,omitempty"`
	// HeldBack, when set, is why the latest compilation was not applied.
	HeldBack []string `json:"heldBack,omitempty"`
	// Latest is the latest compilation, applied or not.
	Latest *CompileStatus `json:"latest,omitempty"`
}

// CompileStatus is one compilation.
type CompileStatus struct {
	At       time.Time `json:"at"`
	Duration string    `json:"duration"`
	Objects  int       `json:"objects"`
	Error    string    `json:"error,omitempty"`
	// Problems are the objects not accepted, as `egctl x translate` prints
	// them.
	Problems []string `json:"problems,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func compileStatus(c *compiled) *CompileStatus {
	if c == nil {
		return nil
	}
	cs := &CompileStatus{At: c.at.UTC(), Duration: c.duration.Round(time.Millisecond).String(), Objects: c.objects, Warnings: c.warnings}
	if c.err != nil {
		cs.Error = c.err.Error()
	}
	for _, p := range c.problems {
		cs.Problems = append(cs.Problems, p.text)
	}
	sort.Strings(cs.Problems)
	return cs
}

// Status reports the current state.
func (s *Server) Status() Status {
	s.mu.Lock()
	st := Status{Gateways: map[string]string{}, LastGood: map[string]string{}, Applied: compileStatus(s.applied), HeldBack: s.heldBack}
	for n, ps := range s.good {
		st.LastGood[n] = ps.version
	}
	if len(s.rejected) > 0 {
		st.Rejected = map[string]*Rejected{}
		for n, r := range s.rejected {
			c := *r
			st.Rejected[n] = &c
		}
	}
	if s.last != s.applied {
		st.Latest = compileStatus(s.last)
	}
	current := map[string]*proxySnapshot{}
	for n, ps := range s.gateways {
		st.Gateways[n] = ps.version
		current[n] = ps
	}
	s.mu.Unlock()
	st.Proxies = s.fleet.snapshot(func(proxy string) (string, map[string]string) {
		if ps := current[proxy]; ps != nil {
			return ps.version, ps.types
		}
		return "", nil
	})
	return st
}

// ErrNotCompiled is Objects' answer before the manifests first compiled.
var ErrNotCompiled = errors.New("no configuration compiled yet")

// Objects reports every object's status: those of the latest compilation
// (the files as they are, applied or held back), or of the applied one when
// the latest did not compile. It is built now, from the status the
// recompile kept, so a recompile pays nothing for it.
func (s *Server) Objects() (*Objects, error) {
	s.mu.Lock()
	c, which := s.last, "latest"
	if c == nil || c.err != nil || c.status == nil {
		c, which = s.applied, "applied"
	}
	s.mu.Unlock()
	if c == nil || c.status == nil {
		return nil, ErrNotCompiled
	}
	o, err := objectsOf(c.status, c.found)
	if err != nil {
		return nil, err
	}
	o.Compilation, o.At = which, c.at.UTC()
	return o, nil
}

func (s *Server) httpHandler() http.Handler {
	s.metrics.watchProxies(s.fleet)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Status())
	})
	// Every object's conditions: 6 MB at 10,000 routes, so apart from
	// /status, which monitoring polls.
	mux.HandleFunc("GET /status/objects", func(w http.ResponseWriter, _ *http.Request) {
		o, err := s.Objects()
		switch {
		case errors.Is(err, ErrNotCompiled):
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(o)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		ok := s.applied != nil
		s.mu.Unlock()
		if !ok {
			http.Error(w, "no configuration compiled yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}
