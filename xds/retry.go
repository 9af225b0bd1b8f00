package xds

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// retryOnConnectionErrors are retried in addition to the listed status
// codes. The HTTPRouteRetry API (GEP-1731) says an implementation SHOULD
// retry on connection errors (disconnect, reset, timeout, TCP failure) once
// a retry stanza is set. "connect-failure" and "refused-stream" cover a
// request that never reached the backend; "reset" covers a disconnect or
// reset after it was sent and, which matters most, an attempt cut short by
// the per-try timeout (rules[].timeouts.backendRequest, timeout.go): Envoy
// resets such an attempt and retries it only when retry_on has "reset",
// "5xx" or "gateway-error" (router/retry_state_impl.cc wouldRetryFromReset),
// and the last two would also retry every 5xx response, which the route's
// codes list must decide. (Envoy Gateway's gRPC-specific
// "unavailable,cancelled" are left out: they only apply to gRPC status
// codes, which HTTPRoute retry does not name.)
var retryOnConnectionErrors = []string{"connect-failure", "refused-stream", "reset"}

func buildRetryPolicy(r *ir.Retry) *routev3.RetryPolicy {
	on := append([]string(nil), retryOnConnectionErrors...)
	if len(r.Codes) > 0 {
		on = append(on, "retriable-status-codes")
	}
	p := &routev3.RetryPolicy{
		RetryOn:              strings.Join(on, ","),
		NumRetries:           wrapperspb.UInt32(r.Attempts),
		RetriableStatusCodes: append([]uint32(nil), r.Codes...),
	}
	if r.Backoff > 0 {
		p.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(r.Backoff)}
	}
	return p
}
