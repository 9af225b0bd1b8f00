package translate

import (
	"encoding/json"

	"github.com/egctl/egctl/ir"
)

// Policies often repeat one another (one per route, written from a
// template). Settings equal in content are made the same pointer, so that
// xds, which builds Envoy's pieces once per IR value, builds them once for
// all of those policies, and so that routes with equal settings share
// clusters' settings without any comparison later.

// interner keeps one value per distinct content, per kind of value.
type interner struct {
	m map[string]any
}

// intern returns the first value seen with v's content (v itself if it is
// the first); nil stays nil.
func intern[T any](in *interner, kind string, v *T) *T {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v // not expected for IR values; sharing is only an optimisation
	}
	k := kind + "\x00" + string(b)
	if prev, ok := in.m[k]; ok {
		return prev.(*T)
	}
	if in.m == nil {
		in.m = map[string]any{}
	}
	in.m[k] = v
	return v
}

// internTraffic shares the parts of ts that xds builds once per value. ts
// itself names its policy and stays the policy's own.
func (t *btpTranslator) internTraffic(ts *ir.TrafficSettings) {
	if ts == nil {
		return
	}
	in := &t.intern
	ts.Retry = intern(in, "retry", ts.Retry)
	ts.Timeout = intern(in, "timeout", ts.Timeout)
	ts.Fault = intern(in, "fault", ts.Fault)
	ts.BandwidthLimit = intern(in, "bandwidth", ts.BandwidthLimit)
	ts.Tracing = intern(in, "tracing", ts.Tracing)
	for i, c := range ts.Compressors {
		ts.Compressors[i] = intern(in, "compressor", c)
	}
}
