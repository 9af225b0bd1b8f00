package ir

import "time"

// RateLimit is what a BackendTrafficPolicy's spec.rateLimit asks of a
// route: local limits (per Envoy, per route) and global ones (counted by
// the rate-limit service, so shared by every Envoy). Both may be set; a
// request must pass both.
//
// One RateLimit is shared, read-only, by every route its policy covers.
type RateLimit struct {
	Local  *LocalRateLimit  `json:",omitempty"`
	Global *GlobalRateLimit `json:",omitempty"`
}

// LocalRateLimit is enforced by each Envoy on its own, one set of buckets
// per route.
type LocalRateLimit struct {
	// Default is the route's own bucket: the rule without clientSelectors,
	// or, when there is none, a bucket no traffic can empty. A request
	// that matches a rule is counted by that rule's bucket instead.
	Default RateLimitValue
	// DefaultXRateLimitHeaders is the default rule's xRateLimitHeaders.
	DefaultXRateLimitHeaders XRateLimitHeaders `json:",omitempty"`
	// Rules with clientSelectors, in policy order.
	Rules []*RateLimitRule `json:",omitempty"`
}

// GlobalRateLimit is enforced by the rate-limit service.
type GlobalRateLimit struct {
	// Rules in policy order (a merged policy: the route's, then the
	// parent's).
	Rules []*RateLimitRule
	// Service is the rate-limit service every Envoy asks.
	Service *RateLimitService
}

// RateLimitService is where Envoy asks for global limits and how it
// behaves when the service does not answer: Envoy Gateway's
// EnvoyGateway.rateLimit settings.
type RateLimitService struct {
	// Host (a DNS name or an IP) and Port of the service's gRPC endpoint.
	Host string
	Port uint32
	// Timeout of one call; 0 leaves Envoy's default (20ms).
	Timeout time.Duration `json:",omitempty"`
	// FailClosed answers 500 when the service cannot be reached; by
	// default such requests pass.
	FailClosed bool `json:",omitempty"`
}

// RateLimitUnit is the period a limit counts over.
type RateLimitUnit string

const (
	RateLimitSecond RateLimitUnit = "Second"
	RateLimitMinute RateLimitUnit = "Minute"
	RateLimitHour   RateLimitUnit = "Hour"
	RateLimitDay    RateLimitUnit = "Day"
	RateLimitWeek   RateLimitUnit = "Week"
	RateLimitMonth  RateLimitUnit = "Month"
	RateLimitYear   RateLimitUnit = "Year"
)

// Seconds is the length of the unit as Envoy Gateway counts it (a month
// is 30 days, a year 365), 0 for an unknown unit.
func (u RateLimitUnit) Seconds() int64 {
	switch u {
	case RateLimitSecond:
		return 1
	case RateLimitMinute:
		return 60
	case RateLimitHour:
		return 3600
	case RateLimitDay:
		return 86400
	case RateLimitWeek:
		return 7 * 86400
	case RateLimitMonth:
		return 30 * 86400
	case RateLimitYear:
		return 365 * 86400
	}
	return 0
}

// RateLimitValue is Requests per Unit.
type RateLimitValue struct {
	Requests uint32
	Unit     RateLimitUnit
	// FromMetadata (global only) takes the limit from the request's
	// dynamic metadata when it is there (a struct with requests_per_unit
	// and unit); Requests/Unit apply otherwise.
	FromMetadata *MetadataKey `json:",omitempty"`
}

// MetadataKey names a value in a request's dynamic metadata.
type MetadataKey struct {
	Namespace string
	Key       string
}

// XRateLimitHeaders says whether a rule's answers carry the
// X-RateLimit-* headers: "" leaves the listener's setting.
type XRateLimitHeaders string

const (
	XRateLimitHeadersOff     XRateLimitHeaders = "Off"
	XRateLimitHeadersDraft03 XRateLimitHeaders = "DraftVersion03"
)

// RateLimitRule is one limit and the requests it counts. Every selector
// that is set must match; a rule without selectors counts every request.
type RateLimitRule struct {
	// Name is "policy-namespace/policy-name/rule/I", I the rule's index
	// in the policy.
	Name string
	// Headers must all match; a Distinct one gives each value its own
	// bucket.
	Headers []RateLimitMatch `json:",omitempty"`
	// Methods is what :method must be, already reduced from the policy's
	// ORed, possibly inverted list (nil: any method).
	Methods *RateLimitMatch `json:",omitempty"`
	// Path must match the request path.
	Path *RateLimitMatch `json:",omitempty"`
	// SourceCIDR matches the client address.
	SourceCIDR *CIDRMatch `json:",omitempty"`
	// QueryParams must all match; a Distinct one gives each value its own
	// bucket.
	QueryParams []RateLimitMatch `json:",omitempty"`

	Limit RateLimitValue
	// RequestCost is taken from the bucket when the request arrives (1
	// when nil); ResponseCost (global only) when the stream ends.
	RequestCost  *RateLimitCost `json:",omitempty"`
	ResponseCost *RateLimitCost `json:",omitempty"`
	// Shared (global only): one bucket for every route of the policy
	// rather than one per route.
	Shared bool `json:",omitempty"`
	// ShadowMode counts but never refuses.
	ShadowMode        bool              `json:",omitempty"`
	XRateLimitHeaders XRateLimitHeaders `json:",omitempty"`
}

// MatchesAll reports whether the rule has no selector at all.
func (r *RateLimitRule) MatchesAll() bool {
	return len(r.Headers) == 0 && r.Methods == nil && r.Path == nil && r.SourceCIDR == nil && len(r.QueryParams) == 0
}

// RateLimitMatchType says how a RateLimitMatch compares.
type RateLimitMatchType string

const (
	RateLimitExact    RateLimitMatchType = "Exact"
	RateLimitRegex    RateLimitMatchType = "RegularExpression"
	RateLimitPrefix   RateLimitMatchType = "Prefix"
	RateLimitDistinct RateLimitMatchType = "Distinct"
)

// RateLimitMatch compares a header, a query parameter, the method or the
// path. Distinct matches any value and keys the bucket by it.
type RateLimitMatch struct {
	// Name of the header or query parameter; "" for method and path.
	Name   string `json:",omitempty"`
	Type   RateLimitMatchType
	Value  string `json:",omitempty"`
	Invert bool   `json:",omitempty"`
}

// CIDRMatch matches the client's address against a range.
type CIDRMatch struct {
	// CIDR as written after masking, "10.0.0.0/8".
	CIDR string
	// Prefix is the range's address, MaskLen its length.
	Prefix  string
	MaskLen uint32
	// Distinct gives each address of the range its own bucket.
	Distinct bool `json:",omitempty"`
	// Invert matches addresses outside the range.
	Invert bool `json:",omitempty"`
}

// RateLimitCost is how much one request takes from a bucket: Number, or
// the number found at Metadata in the request's dynamic metadata.
type RateLimitCost struct {
	Number   *uint64      `json:",omitempty"`
	Metadata *MetadataKey `json:",omitempty"`
}
