package serve

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// fleet follows every xDS stream: which proxy is on it, which version of
// each resource type it acknowledged, what it rejected. go-control-plane
// calls its callbacks from the streams' goroutines.
type fleet struct {
	mu sync.Mutex
	// streams by kind and id: go-control-plane numbers state-of-the-world
	// and delta streams separately.
	streams map[streamKey]*stream
	// sent maps a response's nonce to the version it carried: delta
	// requests do not repeat the version, and a NACK names the version it
	// keeps, not the one it rejects. Nonces are per stream.
	sent map[sentKey]string
	// pushed is when each proxy's current version was set, and acked
	// reports (for push latency) when a stream first acknowledges it.
	pushed map[string]pushMark
	// onAck reports a stream that caught up with its proxy's push (types
	// are that push's versions); onNack a rejected response, with the
	// version rejected.
	onAck   func(proxy string, latency time.Duration, types map[string]string)
	onNack  func(proxy, node, typeURL, version, msg string)
	unknown func(node, cluster string)
	known   func(cluster string) bool
}

type sentKey struct {
	stream streamKey
	nonce  string
}

type streamKey struct {
	delta bool
	id    int64
}

type pushMark struct {
	types map[string]string // version by type URL
	at    time.Time
}

// stream is one ADS stream of one Envoy.
type stream struct {
	id      int64
	delta   bool
	node    string
	cluster string
	since   time.Time
	// acked and nacked by type URL.
	acked  map[string]string
	nacked map[string]rejection
	// lastAck is when the stream last acknowledged anything.
	lastAck time.Time
	warned  bool
	// inSync marks the pushes (by time) this stream caught up with, so
	// each counts once in the push latency.
	inSync map[time.Time]bool
}

// rejection is a rejected response: its version and Envoy's error.
type rejection struct{ version, msg string }

func newFleet() *fleet {
	return &fleet{streams: map[streamKey]*stream{}, sent: map[sentKey]string{}, pushed: map[string]pushMark{}}
}

// proxyOf is the snapshot a node gets: its cluster names the Gateway
// ("namespace/name"), as egctl's dynamic bootstrap sets it; a node without
// a cluster is looked up by its id.
func proxyOf(n *corev3.Node) string {
	if c := n.GetCluster(); c != "" {
		return c
	}
	return n.GetId()
}

func (f *fleet) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			f.open(id, false)
			return nil
		},
		DeltaStreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			f.open(id, true)
			return nil
		},
		StreamClosedFunc:      func(id int64, _ *corev3.Node) { f.close(streamKey{false, id}) },
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { f.close(streamKey{true, id}) },
		StreamRequestFunc: func(id int64, r *discoveryv3.DiscoveryRequest) error {
			f.request(streamKey{false, id}, r.GetNode(), r.GetTypeUrl(), r.GetResponseNonce(), r.GetVersionInfo(), r.GetErrorDetail().GetMessage(), r.GetErrorDetail() != nil)
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			f.request(streamKey{true, id}, r.GetNode(), r.GetTypeUrl(), r.GetResponseNonce(), "", r.GetErrorDetail().GetMessage(), r.GetErrorDetail() != nil)
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
			f.mu.Lock()
			f.sent[sentKey{streamKey{false, id}, resp.GetNonce()}] = resp.GetVersionInfo()
			f.mu.Unlock()
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			f.mu.Lock()
			f.sent[sentKey{streamKey{true, id}, resp.GetNonce()}] = resp.GetSystemVersionInfo()
			f.mu.Unlock()
		},
	}
}

func (f *fleet) open(id int64, delta bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streams[streamKey{delta, id}] = &stream{id: id, delta: delta, since: time.Now(), acked: map[string]string{}, nacked: map[string]rejection{}, inSync: map[time.Time]bool{}}
}

func (f *fleet) close(id streamKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.streams, id)
	for k := range f.sent {
		if k.stream == id {
			delete(f.sent, k)
		}
	}
}

// request records one request: the node (sent on the first request only),
// and whether it acknowledges or rejects the response it answers.
func (f *fleet) request(id streamKey, node *corev3.Node, typeURL, nonce, version, errMsg string, nack bool) {
	f.mu.Lock()
	s := f.streams[id]
	if s == nil {
		f.mu.Unlock()
		return
	}
	if node != nil && s.node == "" {
		s.node, s.cluster = node.GetId(), proxyOf(node)
	}
	if nonce != "" {
		// The version the answered response carried: what an ACK
		// acknowledges, what a NACK rejects (a state-of-the-world NACK's
		// version is the one Envoy keeps).
		k := sentKey{id, nonce}
		if v, ok := f.sent[k]; ok || s.delta {
			version = v
		}
		delete(f.sent, k)
	}
	var ackLatency time.Duration
	acked, warnUnknown := false, false
	proxy := s.cluster
	switch {
	case nonce == "":
		// The first request of a type: a subscription, not an answer.
		if !s.warned && f.known != nil && !f.known(proxy) {
			s.warned, warnUnknown = true, true
		}
	case nack:
		s.nacked[typeURL] = rejection{version: version, msg: errMsg}
	case version != "":
		s.acked[typeURL] = version
		delete(s.nacked, typeURL)
		s.lastAck = time.Now()
		if m, ok := f.pushed[proxy]; ok && m.types[typeURL] == version && !s.inSync[m.at] && inSync(s, m.types) {
			s.inSync[m.at] = true
			acked, ackLatency = true, s.lastAck.Sub(m.at)
		}
	}
	nodeID := s.node
	f.mu.Unlock()
	switch {
	case warnUnknown && f.unknown != nil:
		f.unknown(nodeID, proxy)
	case nack && f.onNack != nil:
		f.onNack(proxy, nodeID, typeURL, version, errMsg)
	case acked && f.onAck != nil:
		f.onAck(proxy, ackLatency, f.pushedTypes(proxy))
	}
}

// inSync reports whether s acknowledged, for every type it subscribed to,
// the version in want, and rejected none of want's versions (a NACK of a
// version serve no longer serves is history: the proxy runs want).
func inSync(s *stream, want map[string]string) bool {
	if len(s.acked) == 0 {
		return false
	}
	for t, v := range s.acked {
		if want[t] != v {
			return false
		}
	}
	for t, n := range s.nacked {
		if n.version == "" || n.version == want[t] {
			return false
		}
	}
	return true
}

// pushedTypes is the versions of proxy's latest push.
func (f *fleet) pushedTypes(proxy string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pushed[proxy].types
}

// pushedVersion records that proxy was given a snapshot with these type
// versions now.
func (f *fleet) pushedVersion(proxy string, types map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushed[proxy] = pushMark{types: types, at: time.Now()}
}

// forgetRejections drops the NACKs of proxy's streams for versions other
// than those of a new snapshot: the manifests changed since, and a type the
// new snapshot did not change is one the proxy holds a good version of (a
// state-of-the-world stream is not sent it again, so would not ACK it).
func (f *fleet) forgetRejections(proxy string, types map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.streams {
		if s.cluster != proxy {
			continue
		}
		for t, n := range s.nacked {
			if n.version != types[t] {
				delete(s.nacked, t)
			}
		}
	}
}

// ProxyStatus is one connected Envoy, as /status reports it.
type ProxyStatus struct {
	Node      string            `json:"node"`
	Gateway   string            `json:"gateway"`
	Delta     bool              `json:"delta"`
	Connected time.Time         `json:"connected"`
	Acked     map[string]string `json:"acked"`
	Rejected  map[string]string `json:"rejected,omitempty"`
	// Version is what serve holds for its Gateway ("" for a Gateway the
	// manifests do not define); InSync is true when every type the proxy
	// subscribed to acknowledged it.
	Version string `json:"version"`
	InSync  bool   `json:"inSync"`
}

// snapshot lists the connected proxies, sorted by Gateway then node.
func (f *fleet) snapshot(current func(proxy string) (version string, types map[string]string)) []ProxyStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ProxyStatus, 0, len(f.streams))
	for _, s := range f.streams {
		if s.node == "" {
			continue
		}
		ps := ProxyStatus{Node: s.node, Gateway: s.cluster, Delta: s.delta, Connected: s.since.UTC(),
			Acked: map[string]string{}, Rejected: map[string]string{}}
		version, want := current(s.cluster)
		ps.Version = version
		ps.InSync = version != "" && inSync(s, want)
		for t, v := range s.acked {
			ps.Acked[t[strings.LastIndexByte(t, '.')+1:]] = v
		}
		for t, n := range s.nacked {
			ps.Rejected[t[strings.LastIndexByte(t, '.')+1:]] = n.msg
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Gateway != out[j].Gateway {
			return out[i].Gateway < out[j].Gateway
		}
		return out[i].Node < out[j].Node
	})
	return out
}

func (f *fleet) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.streams {
		if s.node != "" {
			n++
		}
	}
	return n
}
