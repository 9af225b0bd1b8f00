package serve

import (
	"maps"
	"strings"
	"time"
)

// A snapshot that passes every check of egctl's can still be one Envoy
// rejects (an EnvoyPatchPolicy that writes a regex RE2 refuses, a setting
// this Envoy build does not know). Envoy then keeps what it had, but a
// proxy that starts or reconnects would be given the rejected snapshot and
// have nothing. So serve goes back to the last snapshot the Gateway's
// proxies acknowledged, serves that one to every proxy of the Gateway, and
// does not serve the rejected one again; the next change of the manifests
// that changes the Gateway's snapshot is pushed as usual.

// Rejected is a snapshot an Envoy rejected (NACK).
type Rejected struct {
	// Version is the rejected snapshot's; Node the Envoy that rejected it,
	// Type the resource type, Message Envoy's error.
	Version string    `json:"version"`
	Node    string    `json:"node"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	// Serving is the snapshot served instead: the last one the Gateway's
	// proxies acknowledged; "" when there was none (the rejected one
	// stays: there is nothing better to give).
	Serving string `json:"serving,omitempty"`
}

// acknowledged records that a proxy of the Gateway acknowledged in full
// the push of these type versions.
func (s *Server) acknowledged(proxy string, types map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.gateways[proxy]
	if ps == nil || !maps.Equal(ps.types, types) {
		return
	}
	if g := s.good[proxy]; g == nil || g.version != ps.version {
		// One proxy can accept what another rejects: the snapshot before
		// is kept to go back to.
		s.earlier[proxy] = g
		s.good[proxy] = ps
	}
}

// rejectSnapshot handles a NACK of version of typeURL by a proxy of the
// Gateway: when it is the snapshot served, the Gateway goes back to its
// last good one.
func (s *Server) rejectSnapshot(proxy, node, typeURL, version, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.gateways[proxy]
	if cur == nil || version == "" || cur.types[typeURL] != version {
		return // an older push, or a Gateway gone: nothing to take back
	}
	r := &Rejected{Version: cur.version, Node: node, Type: typeURL[strings.LastIndexByte(typeURL, '.')+1:], Message: msg, At: time.Now().UTC()}
	good := s.good[proxy]
	if good != nil && good.version == cur.version {
		good = s.earlier[proxy] // another proxy acknowledged it first
	}
	if good == nil || good.version == cur.version {
		if s.rejected[proxy] == nil {
			s.rejected[proxy] = r
		}
		s.logf("Gateway %s: no earlier snapshot was acknowledged; the rejected version %s stays", proxy, cur.version)
		return
	}
	r.Serving = good.version
	s.rejected[proxy] = r
	s.gateways[proxy] = good
	s.good[proxy], s.earlier[proxy] = good, nil
	s.fleet.pushedVersion(proxy, good.types)
	s.cache.set(proxy, good.snap)
	s.logf("Gateway %s: version %s rejected by %s; serving version %s again, the last its proxies acknowledged, until the manifests change", proxy, cur.version, node, good.version)
}
