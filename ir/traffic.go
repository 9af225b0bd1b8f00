package ir

import "time"

// TrafficSettings is what a BackendTrafficPolicy asks of a route: how its
// requests are retried, timed, faulted, compressed, limited and answered.
// translate builds one value per policy and shares it between every route
// the policy covers: never modify it.
//
// A route's own Gateway API retry (HTTPRoute.Retry) and request timeout
// (HTTPRoute.Timeout) take precedence over Retry and Timeout.Request here,
// as in Envoy Gateway.
type TrafficSettings struct {
	// RateLimit is spec.rateLimit (ratelimit.go).
	RateLimit *RateLimit `json:",omitempty"`

	// Policy names the policy the settings come from,
	// "backendtrafficpolicy/namespace/name" (merged onto a parent, the
	// route's own policy), for the filters that are one per policy.
	Policy string `json:",omitempty"`

	Retry            *TrafficRetry     `json:",omitempty"`
	Timeout          *RouteTimeouts    `json:",omitempty"`
	Fault            *Fault            `json:",omitempty"`
	Compressors      []*Compressor     `json:",omitempty"`
	ResponseOverride *ResponseOverride `json:",omitempty"`
	BandwidthLimit   *BandwidthLimit   `json:",omitempty"`
	// RequestBufferBytes > 0 buffers whole requests up to that size before
	// they go upstream; bigger ones are answered 413.
	RequestBufferBytes uint32 `json:",omitempty"`
	// Upgrades replace the default protocol upgrades of the route
	// (WebSocket) when set; NoUpgrades allows none (request buffering and
	// upgrades do not mix).
	Upgrades   []Upgrade     `json:",omitempty"`
	NoUpgrades bool          `json:",omitempty"`
	Tracing    *RouteTracing `json:",omitempty"`
	// StatName is the route's stat prefix with %ROUTE_NAME%,
	// %ROUTE_NAMESPACE%, %ROUTE_KIND%, %ROUTE_RULE_NAME% and
	// %ROUTE_RULE_NUMBER% still to expand per route (xds does, from the
	// route's metadata and name).
	StatName string `json:",omitempty"`
}

// ClusterSettings is what a BackendTrafficPolicy asks of the clusters a
// destination is sent to. Shared like TrafficSettings: never modify it.
// Durations of 0 mean "Envoy's default".
type ClusterSettings struct {
	LoadBalancer *LoadBalancer `json:",omitempty"`
	// ConnectTimeout bounds connection establishment (TCP and TLS).
	ConnectTimeout time.Duration `json:",omitempty"`
	// HTTPIdleTimeout closes an upstream HTTP connection without active
	// requests; MaxConnectionDuration closes (drains) any after that long.
	HTTPIdleTimeout       time.Duration `json:",omitempty"`
	MaxConnectionDuration time.Duration `json:",omitempty"`
	// MaxStreamDuration bounds each request on the cluster's connections
	// (external services' backendSettings: their calls have no route to
	// carry it; a BackendTrafficPolicy sets it on the route instead).
	MaxStreamDuration time.Duration `json:",omitempty"`
	// MaxRequestsPerConnection, 0 for unlimited.
	MaxRequestsPerConnection uint32                `json:",omitempty"`
	CircuitBreaker           *CircuitBreaker       `json:",omitempty"`
	HealthCheck              *HealthCheck          `json:",omitempty"`
	TCPKeepalive             *UpstreamTCPKeepalive `json:",omitempty"`
	// BufferLimit is the per-connection buffer soft limit in bytes.
	BufferLimit uint32      `json:",omitempty"`
	Preconnect  *Preconnect `json:",omitempty"`
	// ProxyProtocol is "V1" or "V2": the PROXY protocol header Envoy sends
	// first on each upstream connection.
	ProxyProtocol string `json:",omitempty"`
	DNS           *DNS   `json:",omitempty"`
	HTTP2         *HTTP2 `json:",omitempty"`
	// UseClientProtocol speaks upstream the HTTP version the client spoke.
	UseClientProtocol bool              `json:",omitempty"`
	AdmissionControl  *AdmissionControl `json:",omitempty"`
}

// HTTPProtocolOptions reports whether the settings need the cluster's
// upstream HTTP protocol options (beyond the plain HTTP/1.1 or h2c choice).
func (c *ClusterSettings) HTTPProtocolOptions() bool {
	return c != nil && (c.HTTPIdleTimeout > 0 || c.MaxConnectionDuration > 0 || c.MaxStreamDuration > 0 || c.MaxRequestsPerConnection > 0 ||
		c.HTTP2 != nil || c.UseClientProtocol || c.AdmissionControl != nil)
}

// UpstreamTCPKeepalive sets SO_KEEPALIVE on upstream connections; zero fields keep
// the system's values.
type UpstreamTCPKeepalive struct {
	Probes   uint32        `json:",omitempty"`
	IdleTime time.Duration `json:",omitempty"`
	Interval time.Duration `json:",omitempty"`
}

// Preconnect opens upstream connections ahead of need; ratios are
// percentages (100 = none ahead).
type Preconnect struct {
	PerEndpointPercent uint32 `json:",omitempty"`
	PredictivePercent  uint32 `json:",omitempty"`
}

// DNS tunes how FQDN backends are resolved (it has no effect on IP ones).
type DNS struct {
	// RefreshRate, 0 for 30s.
	RefreshRate time.Duration `json:",omitempty"`
	// IgnoreTTL refreshes at RefreshRate whatever the records' TTL says.
	IgnoreTTL bool `json:",omitempty"`
	// LookupFamily: "IPv4", "IPv6", "IPv4Preferred", "IPv6Preferred",
	// "IPv4AndIPv6"; "" for IPv4Preferred.
	LookupFamily string `json:",omitempty"`
}

// HTTP2 tunes HTTP/2 upstream connections. Zero fields keep the defaults
// (64 KiB stream window, 1 MiB connection window).
type HTTP2 struct {
	InitialStreamWindowSize     uint32 `json:",omitempty"`
	InitialConnectionWindowSize uint32 `json:",omitempty"`
	MaxConcurrentStreams        uint32 `json:",omitempty"`
	// ResetStreamOnError resets only the offending stream on a messaging
	// error instead of the whole connection.
	ResetStreamOnError bool `json:",omitempty"`
	// Keepalive sends PING frames; nil for none.
	Keepalive *UpstreamHTTP2Keepalive `json:",omitempty"`
}

// UpstreamHTTP2Keepalive is HTTP/2 PING keepalive to backends (ClientTrafficPolicy's
// HTTP2Keepalive is the downstream side).
type UpstreamHTTP2Keepalive struct {
	Interval     time.Duration `json:",omitempty"`
	Timeout      time.Duration `json:",omitempty"`
	IdleInterval time.Duration `json:",omitempty"`
	// JitterPercent, nil for Envoy's 15%.
	JitterPercent *uint32 `json:",omitempty"`
}

// CircuitBreaker limits what Envoy sends to a cluster at once. Every field
// is set (translate fills the defaults, 1024).
type CircuitBreaker struct {
	MaxConnections      uint32 `json:",omitempty"`
	MaxPendingRequests  uint32 `json:",omitempty"`
	MaxParallelRequests uint32 `json:",omitempty"`
	MaxParallelRetries  uint32 `json:",omitempty"`
	// PerEndpointMaxConnections, 0 for no per-endpoint limit.
	PerEndpointMaxConnections uint32 `json:",omitempty"`
	// RetryBudget, when set, replaces MaxParallelRetries.
	RetryBudget *RetryBudget `json:",omitempty"`
}

// RetryBudget limits concurrent retries to a share of active requests.
type RetryBudget struct {
	Percent             float64
	MinRetryConcurrency uint32
}

// AdmissionControl sheds load when the recent success rate drops. Zero
// fields keep Envoy's defaults.
type AdmissionControl struct {
	SamplingWindow      time.Duration `json:",omitempty"`
	MinSuccessRate      *uint32       `json:",omitempty"`
	Aggression          *uint32       `json:",omitempty"`
	MinRequestRate      *uint32       `json:",omitempty"`
	MaxRejectionPercent *uint32       `json:",omitempty"`
	// SuccessHTTPStatuses and SuccessGRPCStatuses decide what counts as a
	// success; empty for Envoy's default (HTTP < 500, gRPC OK and a few
	// client errors).
	SuccessHTTPStatuses []uint32 `json:",omitempty"`
	SuccessGRPCStatuses []uint32 `json:",omitempty"`
}

// GetLoadBalancer is nil-safe: xds asks every destination.
func (c *ClusterSettings) GetLoadBalancer() *LoadBalancer {
	if c == nil {
		return nil
	}
	return c.LoadBalancer
}

// GetConsistentHash is nil-safe.
func (l *LoadBalancer) GetConsistentHash() *ConsistentHash {
	if l == nil {
		return nil
	}
	return l.ConsistentHash
}

// GetTableSize is nil-safe.
func (h *ConsistentHash) GetTableSize() uint64 {
	if h == nil {
		return 0
	}
	return h.TableSize
}

// GetHealthCheck is nil-safe.
func (c *ClusterSettings) GetHealthCheck() *HealthCheck {
	if c == nil {
		return nil
	}
	return c.HealthCheck
}

// GetCircuitBreaker is nil-safe.
func (c *ClusterSettings) GetCircuitBreaker() *CircuitBreaker {
	if c == nil {
		return nil
	}
	return c.CircuitBreaker
}
