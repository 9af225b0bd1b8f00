package xds

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// retryOnConnectionErrors are retried in addition to the listed status
// codes. GEP-1731 says a retry is for a request that failed before the
// backend could act on it as well as for the listed codes; a refused
// connection or stream is such a failure, and Envoy Gateway retries them too.
// (Envoy Gateway's gRPC-specific "unavailable,cancelled" are left out: they
// only apply to gRPC status codes, which HTTPRoute retry does not name.)
var retryOnConnectionErrors = []string{"connect-failure", "refused-stream"}

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
