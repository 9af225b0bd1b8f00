package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/egctl/egctl/ir"
)

// applyTimeout sets the route timeouts (GEP-1742). Request bounds the whole
// exchange, retries included: Envoy's route timeout, where "0s" (disabled)
// is spelled as a zero timeout. BackendRequest bounds one attempt: with a
// retry policy it is Envoy's per-try timeout; without one there is a single
// attempt, so it bounds the route too (the smaller of the two wins), which
// also lifts Envoy's 15s default for long backend timeouts.
// Call it after the retry policy is set.
func applyTimeout(a *routev3.RouteAction, t *ir.Timeout) {
	switch {
	case t.RequestDisabled:
		a.Timeout = durationpb.New(0)
	case t.Request > 0:
		a.Timeout = durationpb.New(t.Request)
	}
	if t.BackendRequest <= 0 {
		return
	}
	if a.RetryPolicy != nil {
		a.RetryPolicy.PerTryTimeout = durationpb.New(t.BackendRequest)
		return
	}
	if t.RequestDisabled || t.Request == 0 || t.BackendRequest < t.Request {
		a.Timeout = durationpb.New(t.BackendRequest)
	}
}
