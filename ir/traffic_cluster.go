package ir

import "time"

// LBType is a load balancing algorithm.
type LBType string

const (
	LBRoundRobin   LBType = "RoundRobin"
	LBLeastRequest LBType = "LeastRequest"
	LBRandom       LBType = "Random"
	// LBConsistentHash is Maglev over the route's hash policy.
	LBConsistentHash LBType = "ConsistentHash"
	// LBBackendUtilization weighs endpoints by the load they report (ORCA).
	LBBackendUtilization LBType = "BackendUtilization"
)

// LoadBalancer is how a cluster picks an endpoint. Backends (localities)
// keep their weights whatever the algorithm.
type LoadBalancer struct {
	Type LBType
	// SlowStart ramps traffic to a new endpoint up over this window
	// (RoundRobin, LeastRequest, BackendUtilization).
	SlowStart time.Duration `json:",omitempty"`
	// ConsistentHash is set with Type ConsistentHash.
	ConsistentHash *ConsistentHash `json:",omitempty"`
	// BackendUtilization is set with Type BackendUtilization.
	BackendUtilization *BackendUtilization `json:",omitempty"`
	// OverrideHostHeaders name request headers carrying "ip:port" endpoints
	// to use when healthy (endpointOverride); the algorithm is the fallback.
	OverrideHostHeaders []string `json:",omitempty"`
}

// ConsistentHash is what a request is hashed on; exactly one of SourceIP,
// Headers, Cookie and QueryParams is set.
type ConsistentHash struct {
	SourceIP    bool        `json:",omitempty"`
	Headers     []string    `json:",omitempty"`
	Cookie      *HashCookie `json:",omitempty"`
	QueryParams []string    `json:",omitempty"`
	// TableSize is the Maglev table size, a prime; 0 for 65537.
	TableSize uint64 `json:",omitempty"`
}

// HashCookie hashes on a cookie; when the request has none and TTL is set,
// Envoy generates one and sets it on the response.
type HashCookie struct {
	Name string
	TTL  time.Duration `json:",omitempty"`
	// Attributes of the generated cookie, sorted by name.
	Attributes []Header `json:",omitempty"`
}

// BackendUtilization is client-side weighted round robin over the ORCA
// load reports endpoints send. Zero durations keep Envoy's defaults.
type BackendUtilization struct {
	BlackoutPeriod         time.Duration `json:",omitempty"`
	WeightExpirationPeriod time.Duration `json:",omitempty"`
	WeightUpdatePeriod     time.Duration `json:",omitempty"`
	// ErrorUtilizationPenalty is the penalty factor (1.0 = 100%).
	ErrorUtilizationPenalty *float64 `json:",omitempty"`
	MetricNames             []string `json:",omitempty"`
	// KeepResponseHeaders keeps the ORCA headers on the way to the client.
	KeepResponseHeaders bool `json:",omitempty"`
	// OutOfBand, when set, pulls reports over a gRPC stream instead.
	OutOfBand *OutOfBandReports `json:",omitempty"`
}

// OutOfBandReports pulls ORCA reports from each endpoint's OpenRcaService.
type OutOfBandReports struct {
	// Period, 0 for Envoy's 10s.
	Period time.Duration `json:",omitempty"`
	// Port and Authority override the endpoint's for the report stream.
	Port      uint32 `json:",omitempty"`
	Authority string `json:",omitempty"`
}

// HealthCheck is active and passive health checking of a cluster's
// endpoints.
type HealthCheck struct {
	Active  *ActiveHealthCheck `json:",omitempty"`
	Passive *OutlierDetection  `json:",omitempty"`
	// PanicThreshold is the share of healthy endpoints (percent) below
	// which Envoy balances over all of them; nil keeps Envoy's 50%.
	PanicThreshold *uint32 `json:",omitempty"`
}

// HealthCheckType is the protocol of an active health check.
type HealthCheckType string

const (
	HealthCheckHTTP HealthCheckType = "HTTP"
	HealthCheckTCP  HealthCheckType = "TCP"
	HealthCheckGRPC HealthCheckType = "GRPC"
)

// ActiveHealthCheck probes every endpoint. Every duration and threshold is
// set (translate fills the CRD defaults).
type ActiveHealthCheck struct {
	Type               HealthCheckType
	Timeout            time.Duration
	Interval           time.Duration
	InitialJitter      time.Duration `json:",omitempty"`
	UnhealthyThreshold uint32
	HealthyThreshold   uint32
	// Host is the Host header of HTTP probes.
	Host   string `json:",omitempty"`
	Path   string `json:",omitempty"`
	Method string `json:",omitempty"`
	// ExpectedStatuses and RetriableStatuses, sorted; expected defaults to
	// [200].
	ExpectedStatuses  []uint32 `json:",omitempty"`
	RetriableStatuses []uint32 `json:",omitempty"`
	// Send is the HTTP request body or the TCP payload; Receive what the
	// response must contain.
	Send    []byte `json:",omitempty"`
	Receive []byte `json:",omitempty"`
	// SendBinary and ReceiveBinary: the payload was given as type Binary.
	// Envoy reads either spelling alike; Envoy Gateway writes binary
	// payloads as bytes and text ones hex-encoded, and so does egctl.
	SendBinary    bool `json:",omitempty"`
	ReceiveBinary bool `json:",omitempty"`
	// GRPCService is the service name a gRPC probe asks about.
	GRPCService string `json:",omitempty"`
	// Port probes this port instead of the endpoint's.
	Port uint32 `json:",omitempty"`
	// Log, when set, logs probe outcomes.
	Log *HealthCheckLog `json:",omitempty"`
}

// HealthCheckLog writes health check events to a file.
type HealthCheckLog struct {
	Path          string
	AlwaysFailure bool `json:",omitempty"`
	AlwaysSuccess bool `json:",omitempty"`
}

// OutlierDetection ejects endpoints that fail real requests. Fields are
// set as translate filled them (CRD defaults); nil pointers are left to
// Envoy.
type OutlierDetection struct {
	Interval                       time.Duration
	BaseEjectionTime               time.Duration
	MaxEjectionPercent             uint32
	SplitExternalLocalOriginErrors bool    `json:",omitempty"`
	ConsecutiveLocalOriginFailures *uint32 `json:",omitempty"`
	ConsecutiveGatewayErrors       *uint32 `json:",omitempty"`
	Consecutive5xxErrors           *uint32 `json:",omitempty"`
	FailurePercentageThreshold     *uint32 `json:",omitempty"`
	AlwaysEjectOneEndpoint         *bool   `json:",omitempty"`
}
