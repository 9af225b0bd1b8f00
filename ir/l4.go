package ir

// TCPListener is one Gateway listener of protocol TCP or TLS: connections
// are proxied as byte streams, chosen by TLS server name (SNI) when there
// is one.
type TCPListener struct {
	// Name is "namespace/gateway/listener".
	Name string
	// Address is the bind address, "0.0.0.0" unless told otherwise.
	Address string
	// Port is the port Envoy binds (see HTTPListener.Port). Entries sharing
	// a Port, and HTTP listeners on that Port, become one Envoy listener.
	Port        uint32
	GatewayPort uint32
	// TLS is set for a TLS listener in mode Terminate: TLS ends at Envoy
	// and the decrypted stream goes to the backend. Nil for TCP and for
	// TLS passthrough, where the bytes go upstream untouched.
	TLS *TLSConfig
	// Passthrough is set for a TLS listener in mode Passthrough: the
	// server name is read from the ClientHello and the bytes go upstream
	// untouched.
	Passthrough bool `json:",omitempty"`
	// Routes in match order. A TCP listener has at most one. On a TLS
	// listener every route has its own SNI hostnames; no hostname appears
	// twice on one port (translate gave each to one route).
	Routes   []*TCPRoute
	Metadata *Metadata
	Client   *ClientSettings `json:",omitempty"`
}

// TCPRoute forwards the connections it matches to one destination.
type TCPRoute struct {
	// Name is "tcproute/namespace/name" or "tlsroute/namespace/name".
	Name string
	// SNI lists the TLS server names matched, lower-case, exact or
	// "*.suffix" wildcards. Empty matches any connection (TCP, or a TLS
	// route without hostnames on a listener without one).
	SNI []string
	// Destination is where the bytes go; its name is
	// "<kind>/namespace/name/rule/-1" as in Envoy Gateway. Backends carry
	// no AppProtocol (the stream is opaque).
	Destination *RouteDestination
	Metadata    *Metadata
	Traffic     *TrafficSettings  `json:",omitempty"`
	Security    *SecuritySettings `json:",omitempty"`
}

// UDPListener is one Gateway listener of protocol UDP.
type UDPListener struct {
	// Name is "namespace/gateway/listener".
	Name        string
	Address     string
	Port        uint32
	GatewayPort uint32
	// Route is the one UDPRoute programmed here (the oldest attached), or
	// nil when none is.
	Route    *UDPRoute
	Metadata *Metadata
	Client   *ClientSettings `json:",omitempty"`
}

// UDPRoute forwards datagrams to one destination.
type UDPRoute struct {
	// Name is "udproute/namespace/name".
	Name        string
	Destination *RouteDestination
	Metadata    *Metadata
	Traffic     *TrafficSettings `json:",omitempty"`
}
