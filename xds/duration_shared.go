package xds

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
)

// sharedDuration returns one *durationpb.Duration per value and proxy:
// a policy's timeouts land on every route or cluster it covers (10,000
// allocations of the same value otherwise, each kept alive and scanned by
// the collector until the output is written). Shared read-only, like
// b.connectTimeout; nothing sets a Duration's fields after building.
func (b *builder) sharedDuration(d time.Duration) *durationpb.Duration {
	if p, ok := b.durations[d]; ok {
		return p
	}
	p := durationpb.New(d)
	if b.durations == nil {
		b.durations = map[time.Duration]*durationpb.Duration{}
	}
	b.durations[d] = p
	return p
}
