package ir

import "time"

// TrafficRetry is spec.retry: Envoy's retry policy, spelled out (translate
// filled Envoy Gateway's defaults: two retries on connection failures,
// refused streams, gRPC unavailable/cancelled and 503).
type TrafficRetry struct {
	NumRetries uint32
	// RetryOn are Envoy's retry_on conditions, in order.
	RetryOn []string
	// StatusCodes are retried with the "retriable-status-codes" condition.
	StatusCodes []uint32 `json:",omitempty"`
	// AttemptsPerPriority > 0 moves retries to the next priority after that
	// many attempts (previous_priorities).
	AttemptsPerPriority uint32        `json:",omitempty"`
	PerTryTimeout       time.Duration `json:",omitempty"`
	BackoffBase         time.Duration `json:",omitempty"`
	BackoffMax          time.Duration `json:",omitempty"`
}

// RouteTimeouts are spec.timeout.http's route-level timeouts; nil fields
// are not set ("0s" disables the timeout where Envoy allows it).
type RouteTimeouts struct {
	// Request bounds the whole request, retries included.
	Request *time.Duration `json:",omitempty"`
	// StreamIdle bounds a stream without activity.
	StreamIdle *time.Duration `json:",omitempty"`
	// MaxStreamDuration bounds a stream from request to end of response.
	MaxStreamDuration *time.Duration `json:",omitempty"`
}

// Fault injects delays and aborts into a share of requests. Shares are
// parts per million.
type Fault struct {
	Delay *FaultDelay `json:",omitempty"`
	Abort *FaultAbort `json:",omitempty"`
}

// FaultDelay holds a share of requests for Duration before forwarding.
type FaultDelay struct {
	Duration time.Duration
	Share    uint32
}

// FaultAbort answers a share of requests with an HTTP status or, for gRPC,
// a gRPC status, without forwarding them.
type FaultAbort struct {
	HTTPStatus uint32  `json:",omitempty"`
	GRPCStatus *uint32 `json:",omitempty"`
	Share      uint32
}

// CompressorType is a compression library.
type CompressorType string

const (
	CompressorGzip   CompressorType = "Gzip"
	CompressorBrotli CompressorType = "Brotli"
	CompressorZstd   CompressorType = "Zstd"
)

// Compressor compresses responses whose client accepts the encoding.
type Compressor struct {
	Type CompressorType
	// MinContentLength, 0 for Envoy's 30 bytes.
	MinContentLength uint32 `json:",omitempty"`
	// ChooseFirst prefers this one when the client accepts several
	// encodings equally.
	ChooseFirst bool `json:",omitempty"`
}

// ResponseOverride replaces responses that match: the first rule that
// matches wins.
type ResponseOverride struct {
	Rules []ResponseOverrideRule
}

// ResponseSource says which responses a rule may replace.
type ResponseSource string

const (
	ResponseFromAny     ResponseSource = ""
	ResponseFromLocal   ResponseSource = "Local"   // Envoy's own replies
	ResponseFromBackend ResponseSource = "Backend" // the upstream's
)

// ResponseOverrideRule matches responses by status and headers.
type ResponseOverrideRule struct {
	// Name is "backendtrafficpolicy/ns/name/responseoverride/rule/I".
	Name string
	// StatusRanges match when the status is in any of them (inclusive).
	StatusRanges []StatusRange `json:",omitempty"`
	// Headers all have to match.
	Headers []ResponseHeaderMatch `json:",omitempty"`
	Source  ResponseSource        `json:",omitempty"`
	// Exactly one of Response and Redirect is set.
	Response *CustomResponse   `json:",omitempty"`
	Redirect *ResponseRedirect `json:",omitempty"`
}

// StatusRange is an inclusive range of HTTP statuses; Start == End for one.
type StatusRange struct{ Start, End uint32 }

// ResponseHeaderMatchType says how a response header value is compared.
type ResponseHeaderMatchType string

const (
	HeaderExact  ResponseHeaderMatchType = "Exact"
	HeaderPrefix ResponseHeaderMatchType = "Prefix"
	HeaderSuffix ResponseHeaderMatchType = "Suffix"
	HeaderRegex  ResponseHeaderMatchType = "RegularExpression"
)

// ResponseHeaderMatch matches a response header.
type ResponseHeaderMatch struct {
	Name  string
	Type  ResponseHeaderMatchType
	Value string
}

// CustomResponse is the replacement response.
type CustomResponse struct {
	// StatusCode, 0 keeps the original status.
	StatusCode  uint32 `json:",omitempty"`
	ContentType string `json:",omitempty"`
	// Body (an Envoy format string), "" keeps the original body.
	Body string `json:",omitempty" ir:"text"`
	// BinaryBody is a ConfigMap's binaryData, sent as it is (no format
	// string); set instead of Body.
	BinaryBody []byte `json:",omitempty"`
	// HasBody distinguishes an empty body from none.
	HasBody bool     `json:",omitempty"`
	Set     []Header `json:",omitempty"`
	Add     []Header `json:",omitempty"`
}

// ResponseRedirect answers with a redirect built from the request.
type ResponseRedirect struct {
	Scheme   string `json:",omitempty"`
	Hostname string `json:",omitempty"`
	Port     uint32 `json:",omitempty"`
	Path     string `json:",omitempty"`
	// StatusCode, 301 or 302.
	StatusCode uint32
}

// BandwidthLimit caps the throughput of request and response bodies, in
// KiB per second (0 for no limit that way).
type BandwidthLimit struct {
	RequestKiBps  uint64 `json:",omitempty"`
	ResponseKiBps uint64 `json:",omitempty"`
	// ResponseTrailers adds trailers saying how much delay the limit added,
	// named TrailerPrefix + "-bandwidth-…" (no prefix when empty).
	ResponseTrailers bool   `json:",omitempty"`
	TrailerPrefix    string `json:",omitempty"`
}

// Upgrade allows one protocol upgrade on a route.
type Upgrade struct {
	// Type as the Upgrade header says it ("websocket", "CONNECT", …).
	Type string
	// ConnectTerminate makes Envoy answer CONNECT itself and forward the
	// payload as raw TCP.
	ConnectTerminate bool `json:",omitempty"`
}

// RouteTracing is how requests of a route are traced (it takes effect
// where the proxy has a tracing provider).
type RouteTracing struct {
	// Samplings in parts per million; nil keeps the proxy's.
	RandomSampling  *uint32 `json:",omitempty"`
	ClientSampling  *uint32 `json:",omitempty"`
	OverallSampling *uint32 `json:",omitempty"`
	// Tags, sorted by name.
	Tags []TracingTag `json:",omitempty"`
	// SpanName for the downstream (client) and upstream (server) span.
	ClientSpan string `json:",omitempty"`
	ServerSpan string `json:",omitempty"`
}

// TracingTagType is where a tag value comes from.
type TracingTagType string

const (
	TagLiteral       TracingTagType = "Literal"
	TagEnvironment   TracingTagType = "Environment"
	TagRequestHeader TracingTagType = "RequestHeader"
	// TagFormat is an Envoy format string (command operators allowed).
	TagFormat TracingTagType = "Format"
)

// TracingTag is one custom span tag.
type TracingTag struct {
	Name string
	Type TracingTagType
	// Value is the literal, the format string, or the variable / header
	// name.
	Value   string
	Default string `json:",omitempty"`
}
