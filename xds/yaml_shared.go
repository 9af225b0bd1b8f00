package xds

import (
	"bytes"

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
		w.buf.Write(t.text)
		w.col = t.col
		return true, nil
	}
	start, holes := w.buf.Len(), len(w.holes)
	if err := w.msgFields(m, indent, inMap, nil); err != nil {
		return true, err
	}
	// As rememberAny: only text that starts on a line of its own and has
	// no hole cut in it is the same wherever it goes.
	if len(w.holes) != holes || w.buf.Len() < start {
		return true, nil
	}
	text := w.buf.Bytes()[start:]
	if len(text) == 0 || text[0] != '\n' {
		return true, nil
	}
	if w.msgText == nil {
		w.msgText = map[msgTextKey]anyText{}
	}
	w.msgText[key] = anyText{text: bytes.Clone(text), col: w.col}
	return true, nil
}
