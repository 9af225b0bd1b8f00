package ir

import (
	"errors"
	"fmt"
	"time"
)

// ExtAuth is a SecurityPolicy's spec.extAuth: Envoy's ext_authz filter
// asking an external HTTP or gRPC service about each request. Every policy
// gets its own filter, disabled in the HCM and enabled on its routes. One
// ExtAuth value is shared by every route its policy covers.
type ExtAuth struct {
	// Name is "securitypolicy/<namespace>/<name>" of the policy that owns
	// spec.extAuth; the filter is "envoy.filters.http.ext_authz/<Name>".
	Name string
	// GRPC selects Envoy's gRPC check protocol (envoy.service.auth.v3);
	// otherwise HTTP holds the HTTP service settings.
	GRPC bool
	HTTP *ExtAuthHTTP `json:",omitempty"`
	// Destination is the service's cluster,
	// "securitypolicy/<ns>/<name>/extauth/0"; it balances over its backends
	// in one cluster (no weighted clusters: the filter names one cluster).
	Destination *RouteDestination
	// Authority is the :authority of check requests: the first backendRef's
	// name ("svc.ns:port", or a Backend's FQDN).
	Authority string
	// HeadersToExtAuth are the request headers sent to the service (all
	// for gRPC and a fixed few for HTTP when empty).
	HeadersToExtAuth []string `json:",omitempty"`
	// MaxRequestBytes > 0 buffers up to that much of the request body and
	// sends it along (bodyToExtAuth); a larger body is answered 413.
	MaxRequestBytes uint32 `json:",omitempty"`
	// Timeout of a check; 0 means 10s.
	Timeout time.Duration `json:",omitempty"`
	// FailOpen lets requests through when the service cannot be asked.
	FailOpen bool `json:",omitempty"`
	// RecomputeRoute clears the route cache after the check.
	RecomputeRoute bool `json:",omitempty"`
	// IncludeRouteMetadata sends the route's "envoy-gateway" metadata.
	IncludeRouteMetadata bool `json:",omitempty"`
	// ContextExtensions are sent with every check of the policy's routes;
	// values read from a Secret are redacted in printed output.
	ContextExtensions []ContextExtension `json:",omitempty"`
	// StatusOnError is the status answered when the service errs or
	// cannot be reached (and FailOpen is false); 0 means 403.
	StatusOnError uint32 `json:",omitempty"`
	// Retry of check requests (backendSettings.retry).
	Retry *ServiceRetry `json:",omitempty"`
}

// ExtAuthHTTP is the HTTP flavour of the check.
type ExtAuthHTTP struct {
	// Path is put before the request's path; PathOverride replaces it.
	Path         string `json:",omitempty"`
	PathOverride string `json:",omitempty"`
	// HeadersToBackend are the headers of the service's OK answer that are
	// copied onto the request sent upstream.
	HeadersToBackend []string `json:",omitempty"`
}

// ContextExtension is one key/value sent to the service with each check.
type ContextExtension struct {
	Name  string
	Value string
	// Secret marks a value read from a Secret: redacted when printed.
	Secret bool `json:",omitempty"`
}

func (a *ExtAuth) validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("ext auth %s: "+format, append([]any{a.Name}, args...)...))
	}
	if a.Name == "" {
		add("empty name")
	}
	if a.GRPC == (a.HTTP != nil) {
		add("want exactly one of GRPC and HTTP")
	}
	if a.Destination == nil {
		add("no destination")
	} else if err := a.Destination.validate(); err != nil {
		add("%v", err)
	} else if a.Destination.InvalidWeight > 0 {
		add("destination %s has unresolved backends (translate fails the route instead)", a.Destination.Name)
	}
	if h := a.HTTP; h != nil && h.Path != "" && h.PathOverride != "" {
		add("both path and path override")
	}
	if a.StatusOnError != 0 && (a.StatusOnError < 400 || a.StatusOnError > 599) {
		add("status on error %d is not 4xx or 5xx", a.StatusOnError)
	}
	seen := map[string]bool{}
	for _, c := range a.ContextExtensions {
		if seen[c.Name] {
			add("context extension %q twice", c.Name)
		}
		seen[c.Name] = true
	}
	return errors.Join(errs...)
}
