// Package ir is the data plane said plainly: per proxy, the listeners, the
// virtual hosts, the routes in match order and the destinations they send
// traffic to, with whatever each feature contributes.
//
// ir knows nothing of Gateway API objects and nothing of Envoy protos.
// translate produces it; xds turns it into Envoy configuration. Every
// decision that needs Gateway API semantics (precedence, hostname
// intersection, which listener owns a hostname, fail-closed answers) is taken
// before the IR is built, so xds only has to spell it in Envoy's words.
//
// Slices are in their final order; xds keeps that order. Names follow
// Envoy Gateway's conventions so diffs against it are meaningful.
package ir

import "time"

// Config is everything one translation produced.
type Config struct {
	// Proxies, one per accepted Gateway, sorted by Name.
	Proxies []*Proxy
}

// Proxy is one Envoy: everything a single Gateway programs.
type Proxy struct {
	// Name is "namespace/name" of the Gateway.
	Name      string
	Namespace string
	Gateway   string

	// HTTP holds one entry per Gateway listener of protocol HTTP or HTTPS,
	// sorted by Port then by position in the Gateway. Entries sharing a Port
	// become one Envoy listener; the first entry names it.
	HTTP []*HTTPListener
	// TCP holds the listeners of protocol TCP and TLS, UDP those of
	// protocol UDP, each sorted by Port then Gateway order (see l4.go).
	TCP []*TCPListener `json:"TCP,omitempty"`
	UDP []*UDPListener `json:"UDP,omitempty"`

	// Settings are what the proxy's EnvoyProxy asks for (proxy.go).
	Settings *ProxySettings `json:",omitempty"`
	// FilterOrder moves HTTP filters from their default positions
	// (EnvoyProxy spec.filterOrder), applied in order.
	FilterOrder []FilterPosition `json:",omitempty"`
	// Patches are the EnvoyPatchPolicies of the proxy, in the order they
	// apply (patch.go).
	Patches []*EnvoyPatch `json:",omitempty"`
	// Defaults are Envoy Gateway's defaults xds adds (defaults.go); nil
	// for egctl's lean output.
	Defaults *Defaults `json:",omitempty"`
	// BackendClusters are the clusters routes share (EnvoyProxy
	// mergeBackends, backendcluster.go), sorted by Name.
	BackendClusters []*RouteDestination `json:",omitempty"`
}

// Metadata names the input object (and optionally its section) that an
// Envoy resource came from. xds writes it as filter metadata.
type Metadata struct {
	Kind        string
	Namespace   string
	Name        string
	SectionName string
}

// HTTPListener is one Gateway listener of protocol HTTP or HTTPS.
type HTTPListener struct {
	// Name is "namespace/gateway/listener".
	Name string
	// Address is the bind address, "0.0.0.0" unless told otherwise.
	Address string
	// Port is the port Envoy binds: the Gateway's port, or port+10000 for
	// privileged ports unless the user asked to keep them.
	Port uint32
	// GatewayPort is the port as written in the Gateway.
	GatewayPort uint32
	// Hostname is the listener's hostname ("" for any). For HTTPS it is the
	// SNI server name its filter chain matches.
	Hostname string
	// TLS is set for HTTPS listeners: TLS is terminated with these settings.
	TLS *TLSConfig
	// VirtualHosts in the order xds emits them (sorted by Name). Their
	// domains never overlap with those of another listener on the same
	// port: translate already gave each hostname to the most specific
	// listener.
	VirtualHosts []*VirtualHost
	Metadata     *Metadata
	// Client holds what a ClientTrafficPolicy asks of the listener
	// (client.go).
	Client *ClientSettings `json:",omitempty"`
}

// TLSConfig describes downstream TLS termination.
type TLSConfig struct {
	// Certificates served, in order; at least one.
	Certificates []*Certificate
	// ALPN protocols to advertise; empty means "h2,http/1.1".
	ALPNProtocols []string
	// MinVersion and MaxVersion, "1.0".."1.3"; "" for Envoy's default.
	MinVersion string
	MaxVersion string
	Ciphers    []string
	// ClientValidation, when set, asks clients for a certificate (tls.go).
	ClientValidation *ClientValidation `json:",omitempty"`
	// Client is what a ClientTrafficPolicy adds (client.go).
	Client *ClientTLS `json:",omitempty"`
}

// Certificate is a certificate chain and key in PEM. Name is the Envoy
// secret name, "namespace/secret".
type Certificate struct {
	Name        string
	Certificate []byte
	PrivateKey  []byte
}

// VirtualHost is a set of domains and the routes that serve them.
type VirtualHost struct {
	// Name is "namespace/gateway/listener/host_with_underscores"; for the
	// catch-all host the last element is "*".
	Name    string
	Domains []string
	// Routes in match order: the first route whose match fits a request wins.
	Routes   []*HTTPRoute
	Metadata *Metadata
}

// HTTPRoute is one match of one rule of one route object, for one hostname.
// Exactly one of Destination, Redirect and DirectResponse is set.
type HTTPRoute struct {
	// Name is "httproute/namespace/name/rule/I/match/J/host_with_underscores".
	Name     string
	Metadata *Metadata
	Match    HTTPMatch

	Destination    *RouteDestination
	Redirect       *Redirect
	DirectResponse *DirectResponse

	// Header changes applied to every request / response of this route.
	RequestHeaders  *HeaderModifier
	ResponseHeaders *HeaderModifier
	// URLRewrite changes the request before it goes upstream.
	URLRewrite *URLRewrite
	// Mirrors get a copy of requests; their answers are discarded.
	Mirrors []*Mirror
	CORS    *CORS
	Timeout *Timeout
	Retry   *Retry

	// What policies ask of the route: BackendTrafficPolicy (traffic.go),
	// SecurityPolicy (security.go), EnvoyExtensionPolicy (extension.go).
	Traffic    *TrafficSettings   `json:",omitempty"`
	Security   *SecuritySettings  `json:",omitempty"`
	Extensions *ExtensionSettings `json:",omitempty"`
	// TrafficPolicy names the BackendTrafficPolicy applied to the route
	// (for a merged policy, the route's own): xds lists it under
	// "policies" in the route's metadata, as Envoy Gateway does. Shared
	// per policy: never modify it.
	TrafficPolicy *Metadata `json:",omitempty"`

	// SessionPersistence keeps a client on the backend endpoint it was
	// first sent to (session.go).
	SessionPersistence *SessionPersistence `json:",omitempty"`
	// CredentialInjection adds a credential to requests before they go
	// upstream (Envoy Gateway HTTPRouteFilter, httproutefilter.go).
	CredentialInjection *CredentialInjection `json:",omitempty"`
}

// PathMatchType says how HTTPMatch.Path is compared.
type PathMatchType string

const (
	PathExact  PathMatchType = "Exact"
	PathPrefix PathMatchType = "PathPrefix"
	PathRegex  PathMatchType = "RegularExpression"
)

// StringMatchType says how a header or query parameter value is compared.
type StringMatchType string

const (
	MatchExact StringMatchType = "Exact"
	MatchRegex StringMatchType = "RegularExpression"
)

// HTTPMatch is a conjunction: a request matches when every part does.
type HTTPMatch struct {
	// PathType and Path; PathPrefix "/" matches everything. PathPrefix is
	// element-wise: "/foo" matches "/foo" and "/foo/bar", not "/foobar".
	PathType PathMatchType
	Path     string
	// Method, "" for any.
	Method      string
	Headers     []StringMatch
	QueryParams []StringMatch
	// GRPC marks a gRPC route (content-type application/grpc).
	GRPC bool
	// Cookies must all match (Envoy Gateway HTTPRouteFilter matches).
	Cookies []StringMatch `json:",omitempty"`
}

// StringMatch matches a header or a query parameter.
type StringMatch struct {
	Name  string
	Type  StringMatchType
	Value string
}

// RouteDestination is where a route sends traffic: one cluster whose
// backends are weighted, plus a share of traffic that must fail.
type RouteDestination struct {
	// Name is the cluster name, "httproute/namespace/name/rule/I".
	Name string
	// Backends that resolved, in backendRef order.
	Backends []*Backend
	// InvalidWeight is the summed weight of backendRefs that did not
	// resolve; that share of requests is answered 500 (fail closed).
	InvalidWeight uint32
	Metadata      *Metadata
	// Cluster holds cluster-level settings a BackendTrafficPolicy asks for
	// (traffic.go). Destinations are shared between routes: copy before
	// setting it.
	Cluster *ClusterSettings `json:",omitempty"`
	// OneCluster keeps every backend in one Envoy cluster even when they
	// could be split into one cluster each: what session persistence and
	// fallback priorities need, since both pick a host inside one cluster.
	// A backend with a Priority above 0 implies it. The backends agree on
	// protocol, TLS and per-backend filters (translate checks it).
	OneCluster bool `json:",omitempty"`
}

// AppProtocol is the upstream protocol.
type AppProtocol string

const (
	ProtocolHTTP1 AppProtocol = "HTTP/1.1"
	ProtocolHTTP2 AppProtocol = "HTTP/2" // h2c, or h2 over TLS
	ProtocolWS    AppProtocol = "WebSocket"
)

// AddressType says how Endpoints are reached.
type AddressType string

const (
	AddressIP   AddressType = "IP"   // static IPs
	AddressFQDN AddressType = "FQDN" // resolved by DNS (STRICT_DNS)
	AddressUnix AddressType = "Unix" // unix domain socket paths
)

// Backend is one resolved backendRef.
type Backend struct {
	// Name is "<destination name>/backend/K", K the backendRef index.
	Name        string
	Weight      uint32
	AddressType AddressType
	// Endpoints, sorted by Host then Port. May be empty: a Service with no
	// ready endpoints still gets a cluster (Envoy answers 503).
	Endpoints []Endpoint
	Protocol  AppProtocol
	// Header changes that apply only to traffic sent to this backend
	// (per-backendRef filters).
	RequestHeaders  *HeaderModifier
	ResponseHeaders *HeaderModifier
	Metadata        *Metadata
	// TLS, when set, makes the connection to this backend TLS (tls.go).
	TLS *BackendTLS `json:",omitempty"`
	// CredentialInjection adds a credential to requests sent to this
	// backend only (an HTTPRouteFilter on the backendRef).
	CredentialInjection *CredentialInjection `json:",omitempty"`
	// Priority 0 backends take the traffic while enough of their endpoints
	// are healthy; higher priorities (an Envoy Gateway Backend with
	// fallback: true is 1) only when they are not (failover).
	Priority uint32 `json:",omitempty"`
	// Merged: this share goes to the proxy's BackendCluster named Name,
	// shared with other routes (backendcluster.go).
	Merged bool `json:",omitempty"`
}

// Endpoint is one address. For AddressUnix, Host is the socket path and Port 0.
type Endpoint struct {
	Host string
	Port uint32
	// Hostname names the endpoint (Envoy Gateway Backend endpoints'
	// hostname): the upstream SNI when TLS takes it from the endpoint, the
	// Host header when a rewrite takes it from the backend.
	Hostname string `json:",omitempty"`
	// Zone is the endpoint's zone, for zone-aware load balancing.
	Zone string `json:",omitempty"`
	// Unix marks a unix socket (Host its path) among the static IPs of an
	// AddressIP backend (an Envoy Gateway Backend may mix the two).
	Unix bool `json:",omitempty"`
}

// Header is a header name and value.
type Header struct {
	Name  string
	Value string
}

// HeaderModifier is the Gateway API header filter: Set overwrites, Add
// appends, Remove deletes.
type HeaderModifier struct {
	Set    []Header
	Add    []Header
	Remove []string
}

// Redirect answers with a redirect built from the request.
type Redirect struct {
	Scheme   string // "" keeps the request's
	Hostname string // "" keeps the request's
	// Port, 0 keeps the default behaviour (well-known port of the scheme is
	// omitted from Location).
	Port uint32
	Path *PathModifier
	// StatusCode, 301 or 302 (also 303, 307, 308).
	StatusCode int
}

// PathModifierType says how a path is rewritten.
type PathModifierType string

const (
	FullPathReplace    PathModifierType = "ReplaceFullPath"
	PrefixMatchReplace PathModifierType = "ReplacePrefixMatch"
	// RegexReplace replaces what Pattern matches in the path with Value
	// (Envoy Gateway HTTPRouteFilter); rewrites only.
	RegexReplace PathModifierType = "ReplaceRegexMatch"
)

// PathModifier rewrites a path. For PrefixMatchReplace the route's match is
// a PathPrefix and Value replaces the matched prefix; for RegexReplace
// Value replaces what Pattern matches.
type PathModifier struct {
	Type    PathModifierType
	Value   string
	Pattern string `json:",omitempty"`
}

// URLRewrite changes host and path before the request goes upstream.
// At most one way of rewriting the host is set.
type URLRewrite struct {
	Hostname string // "" keeps the Host header
	Path     *PathModifier
	// HostFromHeader takes the host from this request header;
	// HostFromBackend from the endpoint (its hostname, or the DNS name of
	// an FQDN backend); HostPathRegex from the path, rewritten by a
	// regular expression (Envoy Gateway HTTPRouteFilter).
	HostFromHeader  string        `json:",omitempty"`
	HostFromBackend bool          `json:",omitempty"`
	HostPathRegex   *RegexRewrite `json:",omitempty"`
	// AppendXForwardedHost keeps the original host in X-Forwarded-Host
	// when the host is rewritten.
	AppendXForwardedHost bool `json:",omitempty"`
}

// RegexRewrite replaces what Pattern (RE2) matches with Substitution, in
// which \1 … name capture groups.
type RegexRewrite struct {
	Pattern      string
	Substitution string
}

// DirectResponse answers without an upstream.
type DirectResponse struct {
	StatusCode uint32
	Body       string `ir:"text"`
	// Formatted says Body holds Envoy command operators (%REQ(:path)%, …)
	// to expand for each request.
	Formatted bool `json:",omitempty"`
	// BinaryBody, when set, is sent instead of Body as it is (a
	// ConfigMap's binaryData: an image, say).
	BinaryBody []byte `json:",omitempty"`
}

// Mirror sends a copy of a share of requests to another destination.
type Mirror struct {
	Destination *RouteDestination
	// Numerator/Denominator is the share mirrored; 0/0 means all.
	Numerator   uint32
	Denominator uint32
}

// CORS is the Gateway API CORS filter.
type CORS struct {
	// AllowOrigins as written; "*" allows any; "https://*.example.com"
	// wildcard hosts are allowed.
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           time.Duration
	AllowCredentials bool
}

// Timeout limits a request. Zero values mean "not set".
type Timeout struct {
	// Request is the whole request, retries included.
	Request time.Duration
	// BackendRequest is one attempt to the backend.
	BackendRequest time.Duration
	// RequestDisabled is true when the route asked for no timeout ("0s").
	RequestDisabled bool
}

// Retry is GEP-1731 retry.
type Retry struct {
	// Codes are HTTP status codes that are retried.
	Codes []uint32
	// Attempts is the number of retries (not counting the first try).
	Attempts uint32
	// Backoff is the base interval between retries; 0 for Envoy's default.
	Backoff time.Duration
}
