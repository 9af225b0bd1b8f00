package ir

import "fmt"

// Defaults are what Envoy Gateway configures on every proxy where the
// input says nothing: its readiness listener, circuit breakers, listener
// and cluster settings. A proxy with Defaults nil gets egctl's lean output
// (only what the input asks for); translate sets them unless told to be
// lean, so that egctl's xDS is Envoy Gateway's, resource for resource.
type Defaults struct {
	// Ready is the listener Envoy Gateway's readiness probe asks
	// (GET /ready answers 200 once Envoy is initialised); nil for none.
	Ready *ReadyListener `json:",omitempty"`
}

// ReadyListener is a listener answering health checks on Path.
type ReadyListener struct {
	// Address is "0.0.0.0", or "::" (accepting IPv4 too) on a proxy whose
	// listeners bind IPv6.
	Address string
	Port    uint32
	Path    string
}

// validate checks d (nil is fine).
func (d *Defaults) validate() error {
	if d == nil || d.Ready == nil {
		return nil
	}
	r := d.Ready
	if r.Port == 0 || r.Port > 65535 {
		return fmt.Errorf("defaults: ready listener port %d out of range 1..65535", r.Port)
	}
	if r.Address == "" || r.Path == "" || r.Path[0] != '/' {
		return fmt.Errorf("defaults: ready listener needs an address and a path starting with /, have %q %q", r.Address, r.Path)
	}
	return nil
}
