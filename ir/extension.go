package ir

import (
	"errors"
	"fmt"
	"time"
)

// ExtensionSettings is what an EnvoyExtensionPolicy asks of a route: HTTP
// filters the route's requests pass through. Each list keeps the policy's
// order; between types Envoy Gateway's filter order applies (Lua, then
// ext_proc, then Wasm, then dynamic modules; EnvoyProxy filterOrder can move
// them). Settings are shared, read-only, by every route of a policy.
type ExtensionSettings struct {
	ExtProcs       []*ExtProc       `json:",omitempty"`
	Wasms          []*Wasm          `json:",omitempty"`
	Luas           []*Lua           `json:",omitempty"`
	DynamicModules []*DynamicModule `json:",omitempty"`
}

// Empty reports whether e asks for nothing.
func (e *ExtensionSettings) Empty() bool {
	return e == nil || len(e.ExtProcs)+len(e.Wasms)+len(e.Luas)+len(e.DynamicModules) == 0
}

// ExtProcBodyMode is how a message body is sent to an external processor.
type ExtProcBodyMode string

const (
	BodyNone               ExtProcBodyMode = ""
	BodyStreamed           ExtProcBodyMode = "Streamed"
	BodyBuffered           ExtProcBodyMode = "Buffered"
	BodyBufferedPartial    ExtProcBodyMode = "BufferedPartial"
	BodyFullDuplexStreamed ExtProcBodyMode = "FullDuplexStreamed"
)

// ExtProc is one external processor (Envoy's ext_proc filter).
type ExtProc struct {
	// Name is Envoy Gateway's: "envoyextensionpolicy/ns/name/extproc/I";
	// the filter is "envoy.filters.http.ext_proc/<Name>".
	Name string
	// Destination is the processor's gRPC cluster (its backends speak
	// HTTP/2), named as Name.
	Destination *RouteDestination
	// Authority is the :authority of the gRPC calls ("svc.ns:port").
	Authority string
	// MessageTimeout, 0 for Envoy's default (200ms).
	MessageTimeout time.Duration `json:",omitempty"`
	// FailOpen lets traffic through when the processor fails or cannot be
	// reached; otherwise the request fails (StatusOnError, 500 by default).
	FailOpen bool `json:",omitempty"`
	// Observability ("shadow mode") sends without waiting for answers.
	Observability bool `json:",omitempty"`
	// StatusOnError is the HTTP status returned when the processor fails; 0
	// is Envoy's default (500).
	StatusOnError uint32 `json:",omitempty"`
	// RequestHeaders / ResponseHeaders: the headers are sent.
	RequestHeaders  bool `json:",omitempty"`
	ResponseHeaders bool `json:",omitempty"`
	// RequestBody / ResponseBody: how bodies are sent (BodyNone: not).
	// FullDuplexStreamed also sends the trailers.
	RequestBody  ExtProcBodyMode `json:",omitempty"`
	ResponseBody ExtProcBodyMode `json:",omitempty"`
	// RequestAttributes / ResponseAttributes are Envoy attributes sent
	// with the request / response messages.
	RequestAttributes  []string `json:",omitempty"`
	ResponseAttributes []string `json:",omitempty"`
	// AllowModeOverride lets the processor change the processing mode.
	AllowModeOverride bool `json:",omitempty"`
	// ForwardingNamespaces are dynamic metadata namespaces sent to the
	// processor; ReceivingNamespaces those it may write.
	ForwardingNamespaces []string `json:",omitempty"`
	ReceivingNamespaces  []string `json:",omitempty"`
}

// Wasm is one Wasm HTTP filter (proxy-wasm ABI, V8 runtime).
type Wasm struct {
	// Name is Envoy Gateway's: "envoyextensionpolicy/ns/name/wasm/I"; it is
	// also the VM ID, so filters never share a VM.
	Name string
	// PluginName is the plugin's name (spec name, else Name).
	PluginName string
	RootID     string `json:",omitempty"`
	// Config is the JSON handed to the plugin as a string; "" for none.
	Config   string `json:",omitempty" ir:"text"`
	FailOpen bool   `json:",omitempty"`
	// HostEnvKeys are environment variables of the Envoy process the VM
	// sees.
	HostEnvKeys []string `json:",omitempty"`
	// Code is where Envoy gets the module.
	Code *ExtensionCode
}

// ExtensionCode is where Envoy loads a module (Wasm code, a dynamic module)
// from: exactly one of Remote, Local, Inline.
type ExtensionCode struct {
	// Remote is fetched by Envoy itself and checked against its SHA256.
	Remote *RemoteSource `json:",omitempty"`
	// Local is a file on the proxy's host.
	Local string `json:",omitempty"`
	// Inline holds the module (an OCI image egctl resolved); SHA256 is its
	// checksum.
	Inline []byte `json:"-"`
	SHA256 string `json:",omitempty"`
	// Origin says where the code came from, for people ("oci://...").
	Origin string `json:",omitempty"`
}

// RemoteSource is an HTTP(S) URL Envoy fetches through a cluster of its own.
type RemoteSource struct {
	URL    string
	SHA256 string
	// Cluster is the cluster the fetch goes through, named as Envoy
	// Gateway names URL clusters ("host_port", dots made underscores).
	Cluster string
	Host    string
	Port    uint32
	// TLS: https. CACertificate (PEM) is the trust anchor; nil means the
	// system's trust store.
	TLS           bool   `json:",omitempty"`
	CACertificate string `json:",omitempty" ir:"text"`
}

// Lua is one Lua filter.
type Lua struct {
	// Name is Envoy Gateway's: "envoyextensionpolicy/ns/name/lua/I".
	Name string
	Code string `ir:"text"`
	// FilterContext is a JSON object the script reads with
	// request_handle:filterContext(); "" for none.
	FilterContext string `json:",omitempty" ir:"text"`
}

// DynamicModule is one dynamic module HTTP filter (a shared library the
// EnvoyProxy allows).
type DynamicModule struct {
	// Name is Envoy Gateway's: "envoyextensionpolicy/ns/name/dynamic-module/I".
	Name string
	// Module is the name the EnvoyProxy registered the module under.
	Module string
	// FilterName selects an implementation inside the module.
	FilterName string `json:",omitempty"`
	// Config is the JSON handed to the module as a string; "" for none.
	Config         string `json:",omitempty" ir:"text"`
	TerminalFilter bool   `json:",omitempty"`
	DoNotClose     bool   `json:",omitempty"`
	LoadGlobally   bool   `json:",omitempty"`
	Code           *ExtensionCode
}

// validate checks what xds relies on.
func (e *ExtensionSettings) validate() error {
	if e == nil {
		return nil
	}
	for i, ep := range e.ExtProcs {
		if ep == nil || ep.Name == "" {
			return fmt.Errorf("extProcs[%d]: no name", i)
		}
		if ep.Destination == nil {
			return fmt.Errorf("ext_proc %s: no destination", ep.Name)
		}
		if err := ep.Destination.validate(); err != nil {
			return fmt.Errorf("ext_proc %s: %w", ep.Name, err)
		}
		for _, m := range []ExtProcBodyMode{ep.RequestBody, ep.ResponseBody} {
			switch m {
			case BodyNone, BodyStreamed, BodyBuffered, BodyBufferedPartial, BodyFullDuplexStreamed:
			default:
				return fmt.Errorf("ext_proc %s: unknown body mode %q", ep.Name, m)
			}
		}
	}
	for i, w := range e.Wasms {
		if w == nil || w.Name == "" {
			return fmt.Errorf("wasms[%d]: no name", i)
		}
		if err := w.Code.validate(); err != nil {
			return fmt.Errorf("wasm %s: %w", w.Name, err)
		}
	}
	for i, l := range e.Luas {
		if l == nil || l.Name == "" {
			return fmt.Errorf("luas[%d]: no name", i)
		}
	}
	for i, d := range e.DynamicModules {
		if d == nil || d.Name == "" {
			return fmt.Errorf("dynamicModules[%d]: no name", i)
		}
		if err := d.Code.validate(); err != nil {
			return fmt.Errorf("dynamic module %s: %w", d.Name, err)
		}
	}
	return nil
}

func (c *ExtensionCode) validate() error {
	if c == nil {
		return errors.New("no code")
	}
	n := 0
	if c.Remote != nil {
		n++
		if c.Remote.URL == "" || c.Remote.Cluster == "" || c.Remote.Host == "" || c.Remote.Port == 0 {
			return fmt.Errorf("remote code %q: URL, cluster, host and port are required", c.Remote.URL)
		}
		if c.Remote.SHA256 == "" {
			return fmt.Errorf("remote code %q: no SHA256 (Envoy requires one)", c.Remote.URL)
		}
	}
	if c.Local != "" {
		n++
	}
	if len(c.Inline) > 0 {
		n++
	}
	if n != 1 {
		return fmt.Errorf("want exactly one of remote, local, inline code; have %d", n)
	}
	return nil
}
