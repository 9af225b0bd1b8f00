package ir

// ProxySettings is what an EnvoyProxy (GatewayClass or Gateway
// parametersRef) asks of the whole proxy.
type ProxySettings struct{}

// FilterPosition moves every HTTP filter of type Name before the first
// filter of type Before, or after the last of type After (exactly one is
// set). Types are Envoy filter names ("envoy.filters.http.jwt_authn").
type FilterPosition struct {
	Name   string
	Before string `json:",omitempty"`
	After  string `json:",omitempty"`
}
