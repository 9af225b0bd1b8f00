package ir

// TrafficSettings is what a BackendTrafficPolicy asks of a route.
type TrafficSettings struct {
	// RateLimit is spec.rateLimit (ratelimit.go).
	RateLimit *RateLimit `json:",omitempty"`
}

// ClusterSettings is what a BackendTrafficPolicy asks of the clusters a
// destination is sent to.
type ClusterSettings struct{}
