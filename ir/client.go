package ir

import (
	"encoding/json"
	"fmt"
	"time"
)

// ClientSettings is what a ClientTrafficPolicy asks of a listener: how
// downstream connections are accepted and requests read. Envoy has three
// places for these settings, and IR listeners that share one must agree
// (translate refuses the policies that would not; Validate checks it):
//
//   - Socket: the Envoy listener of a port as a whole, so every IR listener
//     (HTTP, HTTPS, TCP, TLS) bound to that port;
//   - Chain: the filter chain. Plain HTTP listeners of one port share one
//     (the default chain), an HTTPS listener has its own, a TCP or TLS
//     listener one per route;
//   - HTTP: the HTTP connection manager, one per chain.
//
// TLS settings travel with the listener's TLSConfig (TLSConfig.Client).
type ClientSettings struct {
	// Policy is "namespace/name" of the ClientTrafficPolicy, for messages.
	Policy string
	Socket *ClientSocket `json:",omitempty"`
	Chain  *ClientChain  `json:",omitempty"`
	HTTP   *ClientHTTP   `json:",omitempty"`
}

// ClientDuration is a time.Duration that prints as Go duration text
// ("1m30s") in `--to ir` output. A nil *ClientDuration is "not set"; zero
// is a value (for most Envoy timeouts it turns the timeout off).
type ClientDuration time.Duration

// D returns the duration.
func (d ClientDuration) D() time.Duration { return time.Duration(d) }

// Dur returns a pointer to d as a ClientDuration.
func Dur(d time.Duration) *ClientDuration {
	c := ClientDuration(d)
	return &c
}

// MarshalJSON prints the duration as text.
func (d ClientDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads duration text.
func (d *ClientDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = ClientDuration(v)
	return nil
}

// ClientSocket holds what applies to the whole Envoy listener of a port.
type ClientSocket struct {
	// TCPKeepalive turns on SO_KEEPALIVE with optional probe settings.
	TCPKeepalive *TCPKeepalive `json:",omitempty"`
	// ProxyProtocol reads a PROXY protocol header (v1 or v2) before
	// anything else; the address it carries becomes the client's.
	ProxyProtocol *ProxyProtocol `json:",omitempty"`
	// BufferLimitBytes is the per-connection buffer limit (Envoy's default
	// in egctl and Envoy Gateway: 32768).
	BufferLimitBytes *uint32 `json:",omitempty"`
	// SocketBufferLimitBytes sets the kernel's receive and send buffers
	// (SO_RCVBUF, SO_SNDBUF) of accepted connections.
	SocketBufferLimitBytes *uint32 `json:",omitempty"`
	// MaxAcceptPerSocketEvent bounds the connections accepted per wake-up;
	// 0 means no bound. Nil leaves Envoy's default.
	MaxAcceptPerSocketEvent *uint32 `json:",omitempty"`
	// InspectionTimeout bounds the listener filters (TLS inspector, PROXY
	// protocol) that read the start of a connection.
	InspectionTimeout *ClientDuration `json:",omitempty"`
	// TLSFingerprints asks the TLS inspector for client fingerprints
	// ("JA3", "JA4"), for access logs and headers.
	TLSFingerprints []string `json:",omitempty"`
}

// TCPKeepalive is SO_KEEPALIVE and its tuning, in whole seconds.
type TCPKeepalive struct {
	Probes   *uint32 `json:",omitempty"`
	IdleTime *uint32 `json:",omitempty"`
	Interval *uint32 `json:",omitempty"`
}

// ProxyProtocol reads the PROXY protocol header.
type ProxyProtocol struct {
	// Optional lets connections without the header in.
	Optional bool `json:",omitempty"`
}

// ClientChain holds what applies to a filter chain.
type ClientChain struct {
	// ConnectionLimit caps the chain's open connections.
	ConnectionLimit *ConnectionLimit `json:",omitempty"`
	// TLSHandshakeTimeout bounds the TLS handshake.
	TLSHandshakeTimeout *ClientDuration `json:",omitempty"`
	// TCPIdleTimeout closes a TCP/TLS proxied connection idle that long
	// (tcp_proxy); HTTP listeners use HTTP.IdleTimeout.
	TCPIdleTimeout *ClientDuration `json:",omitempty"`
	// TCPMaxConnectionDuration closes a TCP/TLS proxied connection after
	// that long; HTTP listeners use HTTP.MaxConnectionDuration.
	TCPMaxConnectionDuration *ClientDuration `json:",omitempty"`
}

// ConnectionLimit caps concurrent connections.
type ConnectionLimit struct {
	Max uint64
	// CloseDelay is how long a refused connection is held before it is
	// closed.
	CloseDelay *ClientDuration `json:",omitempty"`
}

// ClientHTTP holds what applies to an HTTP connection manager.
type ClientHTTP struct {
	ClientIP *ClientIPDetection `json:",omitempty"`

	// EscapedSlashes is KeepUnchanged, RejectRequest, UnescapeAndForward
	// or UnescapeAndRedirect; "" keeps egctl's default (UnescapeAndRedirect).
	EscapedSlashes      string `json:",omitempty"`
	DisableMergeSlashes bool   `json:",omitempty"`

	Headers *ClientHeaders `json:",omitempty"`

	RequestTimeout        *ClientDuration `json:",omitempty"`
	RequestHeadersTimeout *ClientDuration `json:",omitempty"`
	IdleTimeout           *ClientDuration `json:",omitempty"`
	StreamIdleTimeout     *ClientDuration `json:",omitempty"`

	MaxConnectionDuration    *ClientDuration `json:",omitempty"`
	MaxStreamDuration        *ClientDuration `json:",omitempty"`
	MaxRequestsPerConnection *uint32         `json:",omitempty"`

	HTTP1 *ClientHTTP1 `json:",omitempty"`
	HTTP2 *ClientHTTP2 `json:",omitempty"`
	// HTTP3 serves the listener over QUIC too (a UDP listener on the same
	// port) and advertises it with alt-svc. HTTPS listeners only.
	HTTP3 bool `json:",omitempty"`

	// GRPCWeb adds the gRPC-Web filter. GRPCSet: spec.grpc is given and
	// GRPCWeb is the answer; otherwise listeners that serve a GRPCRoute
	// get the filter (the API's default).
	GRPCWeb bool `json:",omitempty"`
	GRPCSet bool `json:",omitempty"`
	// HealthCheckPath, when set, is answered 200 by Envoy itself.
	HealthCheckPath string `json:",omitempty"`
	// MatchBackendScheme sets :scheme to the upstream's transport (http or
	// https) instead of the client's.
	MatchBackendScheme bool `json:",omitempty"`
}

// ClientIPDetection says where the client address of a request comes
// from. With nothing set it is the connection's peer (after PROXY
// protocol).
type ClientIPDetection struct {
	// XFFTrustedHops counts trusted proxies from the right of
	// X-Forwarded-For: the client is the address just left of them.
	XFFTrustedHops *uint32 `json:",omitempty"`
	// XFFTrustedCIDRs: addresses from the right of X-Forwarded-For that
	// fall in these ranges are skipped (peer included).
	XFFTrustedCIDRs []string `json:",omitempty"`
	// SkipXFFAppend stops Envoy appending the peer to X-Forwarded-For.
	SkipXFFAppend bool `json:",omitempty"`
	// CustomHeader names a header holding the client address.
	CustomHeader string `json:",omitempty"`
	// CustomHeaderFailClosed answers 403 when that header is missing or
	// not an address.
	CustomHeaderFailClosed bool `json:",omitempty"`
	// DirectSourceIP: the peer address, for filters that ask for the
	// client address (geoip); Envoy's default otherwise.
	DirectSourceIP bool `json:",omitempty"`
}

// ClientHeaders is spec.headers.
type ClientHeaders struct {
	// EnableEnvoyHeaders lets the router add x-envoy-* headers.
	EnableEnvoyHeaders bool `json:",omitempty"`
	// DisableRateLimitHeaders drops x-ratelimit-* response headers of the
	// rate limit filters.
	DisableRateLimitHeaders bool `json:",omitempty"`
	// XFCCMode is Sanitize, ForwardOnly, AppendForward, SanitizeSet or
	// AlwaysForwardOnly; XFCCDetails the certificate fields added (Subject,
	// Cert, Chain, DNS, URI).
	XFCCMode    string   `json:",omitempty"`
	XFCCDetails []string `json:",omitempty"`
	// WithUnderscores is Allow, RejectRequest or DropHeader.
	WithUnderscores string `json:",omitempty"`
	// RequestID is PreserveOrGenerate, Preserve, Generate or Disable.
	RequestID            string          `json:",omitempty"`
	EarlyRequestHeaders  *HeaderMutation `json:",omitempty"`
	LateResponseHeaders  *HeaderMutation `json:",omitempty"`
	StripTrailingHostDot bool            `json:",omitempty"`
}

// HeaderMutation changes headers: Set overwrites, Add appends, AddIfAbsent
// adds only when missing, Remove deletes by name, RemoveOnMatch deletes
// every header whose name matches.
type HeaderMutation struct {
	Set           []Header      `json:",omitempty"`
	Add           []Header      `json:",omitempty"`
	AddIfAbsent   []Header      `json:",omitempty"`
	Remove        []string      `json:",omitempty"`
	RemoveOnMatch []StringMatch `json:",omitempty"`
}

// String match types beyond those of route matches, used by
// ClientTrafficPolicy matchers.
const (
	MatchPrefix StringMatchType = "Prefix"
	MatchSuffix StringMatchType = "Suffix"
)

// ClientHTTP1 is spec.http1.
type ClientHTTP1 struct {
	EnableTrailers     bool `json:",omitempty"`
	PreserveHeaderCase bool `json:",omitempty"`
	// HTTP10 accepts HTTP/1.0 requests; HTTP10DefaultHost is the Host given
	// to those without one.
	HTTP10                           bool          `json:",omitempty"`
	HTTP10DefaultHost                string        `json:",omitempty"`
	DisableSafeMaxConnectionDuration bool          `json:",omitempty"`
	IgnoredUpgradeTypes              []StringMatch `json:",omitempty"`
}

// ClientHTTP2 is spec.http2; nil fields keep egctl's defaults (100 streams,
// 64 KiB stream window, 1 MiB connection window).
type ClientHTTP2 struct {
	InitialStreamWindowSize     *uint32 `json:",omitempty"`
	InitialConnectionWindowSize *uint32 `json:",omitempty"`
	MaxConcurrentStreams        *uint32 `json:",omitempty"`
	// ResetStreamOnError: true resets only the offending stream on an
	// invalid message (TerminateStream), false the connection.
	ResetStreamOnError *bool           `json:",omitempty"`
	Keepalive          *HTTP2Keepalive `json:",omitempty"`
}

// HTTP2Keepalive sends PING frames.
type HTTP2Keepalive struct {
	Interval       *ClientDuration `json:",omitempty"`
	Timeout        *ClientDuration `json:",omitempty"`
	IntervalJitter *uint32         `json:",omitempty"` // percent
	IdleInterval   *ClientDuration `json:",omitempty"`
}

// ClientTLS is what a ClientTrafficPolicy adds to a listener's TLS
// termination beyond TLSConfig's versions, ciphers and ALPN.
type ClientTLS struct {
	ECDHCurves          []string `json:",omitempty"`
	SignatureAlgorithms []string `json:",omitempty"`
	// DisableALPN: the policy listed no protocol at all, so the ALPN
	// extension is not offered (TLSConfig.ALPNProtocols empty would mean
	// the default h2, http/1.1).
	DisableALPN bool `json:",omitempty"`
	// Session resumption, off unless asked for.
	StatelessResumption bool `json:",omitempty"`
	StatefulResumption  bool `json:",omitempty"`
	// Validation replaces TLSConfig.ClientValidation when set.
	Validation *ClientCertValidation `json:",omitempty"`
}

// ClientCertValidation is spec.tls.clientValidation.
type ClientCertValidation struct {
	// CACertificates is a PEM bundle; may be empty in modes that do not
	// verify (Request, RequireAny).
	CACertificates string `json:",omitempty" ir:"text"`
	// CAName names the SDS validation secret holding them and the CRL
	// (Envoy Gateway's "<ns>/<policy>/ca.crt"); empty: derived from the
	// content.
	CAName string `json:",omitempty"`
	// RequireCertificate refuses clients without a certificate;
	// AcceptUntrusted lets in one that does not verify.
	RequireCertificate bool               `json:",omitempty"`
	AcceptUntrusted    bool               `json:",omitempty"`
	SPKIHashes         []string           `json:",omitempty"`
	CertificateHashes  []string           `json:",omitempty"`
	SubjectAltNames    []ClientSANMatcher `json:",omitempty"`
	// CRL is a PEM bundle of revocation lists; CRLLeafOnly checks only the
	// client's own certificate against it.
	CRL          string `json:",omitempty" ir:"text"`
	CRLLeafOnly  bool   `json:",omitempty"`
	AllowExpired bool   `json:",omitempty"`
}

// ClientSANMatcher matches one subject alternative name of a client
// certificate: Type is DNS, EMAIL, IP_ADDRESS, URI or OTHER_NAME (with OID).
type ClientSANMatcher struct {
	Type  string
	OID   string `json:",omitempty"`
	Match StringMatch
}
