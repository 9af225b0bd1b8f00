package xds

import (
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Some messages are built once and shared by every resource whose settings
// agree: one *RetryPolicy on every route of a BackendTrafficPolicy, one
// *CircuitBreakers, *OutlierDetection, *LoadBalancingPolicy or
// *HealthCheck on every cluster it covers (traffic.go, circuitbreaker.go,
// healthcheck.go, loadbalancer.go). A writer renders such a message once
// per indent and copies the text after, as it does for shared Anys
// (yaml_proto.go). The key is the message itself: nothing changes a
// resource while it is written.
var sharedMessageTypes = map[protoreflect.MessageDescriptor]bool{
	(&routev3.RetryPolicy{}).ProtoReflect().Descriptor():           true,
	(&clusterv3.CircuitBreakers{}).ProtoReflect().Descriptor():     true,
	(&clusterv3.OutlierDetection{}).ProtoReflect().Descriptor():    true,
	(&clusterv3.LoadBalancingPolicy{}).ProtoReflect().Descriptor(): true,
	(&corev3.HealthCheck{}).ProtoReflect().Descriptor():            true,
}

type msgTextKey struct {
	msg    proto.Message
	indent int
	inMap  bool
}

// sharedMsgValue writes m through msgValue, or copies the text written
// for the same message at the same indent before. ok is false when m is
// not of a shared type (the caller writes it).
func (w *yamlWriter) sharedMsgValue(m protoreflect.Message, indent int, inMap bool) (ok bool, err error) {
	if !sharedMessageTypes[m.Descriptor()] {
		return false, nil
	}
	key := msgTextKey{msg: m.Interface(), indent: indent, inMap: inMap}
	if t, ok := w.msgText[key]; ok {
		w.paste(t)
		return true, nil
	}
	t, hit, again := w.texts.get(key)
	if hit {
		w.paste(t)
		return true, nil
	}
	start, holes := w.buf.Len(), len(w.holes)
	if err := w.msgFields(m, indent, inMap, nil); err != nil {
		return true, err
	}
	if t, ok := w.textSince(start, holes); ok {
		if w.msgText == nil {
			w.msgText = map[msgTextKey]anyText{}
		}
		w.msgText[key] = t
		if again {
			w.texts.put(key, t)
		}
	}
	return true, nil
}

// A render cuts a document into units of about 16 KB written by separate
// writers (marshal_parallel.go), so a writer's own memory of what it wrote
// serves a handful of routes or clusters: a message shared by 10,000 of
// them was still decoded and walked once per unit, most of the output
// time a policy adds. textCache is that memory for all the writers of a
// render. It keeps the text of a message (by pointer and place) only from
// its second sighting on, so that messages met once, the usual case, cost
// one map entry and not a copy of their text, and it stops growing at
// maxSharedText: memory stays bounded by the largest section, as before.
type textCache struct {
	mu    sync.Mutex
	m     map[msgTextKey]*anyText // nil value: met once, text not kept
	bytes int
}

// maxSharedText bounds a textCache: text bytes plus a map entry's worth
// per key.
const maxSharedText = 64 << 20

const textCacheEntryCost = 64

// get returns the text kept for k (hit), or records that k was met and
// says whether it was met before (again: the caller should put its text).
// A nil cache keeps nothing.
func (c *textCache) get(k msgTextKey) (t anyText, hit, again bool) {
	if c == nil {
		return anyText{}, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, seen := c.m[k]
	switch {
	case e != nil:
		return *e, true, true
	case seen:
		return anyText{}, false, true
	case c.bytes+textCacheEntryCost > maxSharedText:
		return anyText{}, false, false
	}
	if c.m == nil {
		c.m = map[msgTextKey]*anyText{}
	}
	c.m[k] = nil
	c.bytes += textCacheEntryCost
	return anyText{}, false, false
}

// put keeps t as k's text, within the budget.
func (c *textCache) put(k msgTextKey, t anyText) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[k] != nil || c.bytes+len(t.text) > maxSharedText {
		return
	}
	c.m[k] = &t
	c.bytes += len(t.text)
}
