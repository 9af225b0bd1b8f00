package ir

import "encoding/json"

// ProxySettings is what an EnvoyProxy (GatewayClass or Gateway
// parametersRef) asks of the whole proxy. Settings that change how routes
// and listeners are built (preserveRouteOrder, routingType, ipFamily
// addresses, backendTLS, mergeGateways) are already applied by translate;
// what is left here is what xds spells out per proxy.
type ProxySettings struct {
	// EnvoyProxy names the EnvoyProxy objects the settings come from,
	// "namespace/name": the GatewayClass's, then the Gateway's.
	EnvoyProxy []string `json:",omitempty"`
	// IPFamily of the listeners; "" is IPv4. Listener addresses are
	// already "::" for IPv6 and DualStack; DualStack also accepts IPv4 on
	// them (ipv4_compat).
	IPFamily IPFamily `json:",omitempty"`
	// AccessLog, nil for none.
	AccessLog *AccessLog `json:",omitempty"`
	// Tracing, nil for none.
	Tracing *Tracing `json:",omitempty"`
	// Metrics: the stats listener, stat sinks and stat options; nil for
	// Envoy's defaults and no stats listener.
	Metrics *Metrics `json:",omitempty"`
	// RequestID is the request ID extension's handling of the trace
	// decision (telemetry.requestID.tracing); "" keeps Envoy's default
	// (PackAndSample).
	RequestID RequestIDAction `json:",omitempty"`
	// HealthCheckLog logs active health check events of every cluster
	// that has health checks.
	HealthCheckLog *ProxyHealthCheckLog `json:",omitempty"`
	// Bootstrap changes the bootstrap (static and dynamic) before the
	// xDS resources go in.
	Bootstrap *BootstrapPatch `json:",omitempty"`
	// CommandLine are the Envoy flags the EnvoyProxy asks for that a
	// bootstrap cannot carry (concurrency, log levels, drain time, extra
	// args). egctl prints them; whoever starts Envoy passes them.
	CommandLine []string `json:",omitempty"`
	// LuaValidation is how Lua scripts of EnvoyExtensionPolicies are
	// checked ("Strict", "InsecureSyntax", "Disabled"; "" is Strict).
	LuaValidation string `json:",omitempty"`
	// DynamicModules are the modules EnvoyExtensionPolicies may load.
	DynamicModules []AllowedDynamicModule `json:",omitempty"`
	// GeoIP is the database SecurityPolicy geo authorization reads.
	GeoIP *GeoIP `json:",omitempty"`
}

// IPFamily is the address family of a proxy's listeners.
type IPFamily string

const (
	IPv4      IPFamily = "IPv4"
	IPv6      IPFamily = "IPv6"
	DualStack IPFamily = "DualStack"
)

// RequestIDAction is how the UUID request ID carries the trace decision.
type RequestIDAction string

const (
	RequestIDPackAndSample RequestIDAction = "PackAndSample"
	RequestIDSample        RequestIDAction = "Sample"
	RequestIDPack          RequestIDAction = "Pack"
	RequestIDDisable       RequestIDAction = "Disable"
)

// ProxyHealthCheckLog writes health check events to files.
type ProxyHealthCheckLog struct {
	Paths             []string
	AlwaysLogFailures bool `json:",omitempty"`
	AlwaysLogSuccess  bool `json:",omitempty"`
}

// BootstrapPatch changes the bootstrap egctl generates, as EnvoyProxy
// spec.bootstrap does Envoy Gateway's: Merge lays Value (YAML) over it,
// Replace uses Value instead, JSONPatch applies JSONPatches (RFC 6902).
type BootstrapPatch struct {
	Type        BootstrapPatchType
	Value       string             `json:",omitempty" ir:"text"`
	JSONPatches []BootstrapPatchOp `json:",omitempty"`
}

// BootstrapPatchType is how a BootstrapPatch applies.
type BootstrapPatchType string

const (
	BootstrapMerge     BootstrapPatchType = "Merge"
	BootstrapReplace   BootstrapPatchType = "Replace"
	BootstrapJSONPatch BootstrapPatchType = "JSONPatch"
)

// BootstrapPatchOp is one RFC 6902 operation on the bootstrap. Value is JSON.
type BootstrapPatchOp struct {
	Op    string
	Path  string
	From  string          `json:",omitempty"`
	Value json.RawMessage `json:",omitempty"`
}

// AllowedDynamicModule is a shared library Envoy may load (EnvoyProxy
// spec.dynamicModules): a local Path, or a URL with its SHA256.
type AllowedDynamicModule struct {
	Name         string
	Path         string `json:",omitempty"`
	URL          string `json:",omitempty"`
	SHA256       string `json:",omitempty"`
	DoNotClose   bool   `json:",omitempty"`
	LoadGlobally bool   `json:",omitempty"`
}

// GeoIP names the MaxMind databases of the geoip filter, by local path.
type GeoIP struct {
	CityDB        string `json:",omitempty"`
	CountryDB     string `json:",omitempty"`
	ASNDB         string `json:",omitempty"`
	ISPDB         string `json:",omitempty"`
	AnonymousIPDB string `json:",omitempty"`
}

// FilterPosition moves every HTTP filter of type Name before the first
// filter of type Before, or after the last of type After (exactly one is
// set). Types are Envoy filter names ("envoy.filters.http.jwt_authn").
type FilterPosition struct {
	Name   string
	Before string `json:",omitempty"`
	After  string `json:",omitempty"`
}
