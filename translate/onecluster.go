package translate

import (
	"fmt"
	"strings"

	"github.com/egctl/egctl/ir"
)

// Fallback Backends and session persistence both work inside one Envoy
// cluster: priorities order the hosts of a cluster, and a session names a
// host of the cluster its route sends to. The backends of such a rule must
// therefore fit in one cluster; when they cannot, the rule fails closed
// with the reason instead of silently losing the failover or the session.

// hasFallback reports whether a backend of d is a fallback.
func hasFallback(d *ir.RouteDestination) bool {
	if d == nil {
		return false
	}
	for _, be := range d.Backends {
		if be.Priority > 0 {
			return true
		}
	}
	return false
}

// oneClusterProblem says why the backends of d cannot share one cluster,
// or "" when they can. why names the feature that needs it.
func oneClusterProblem(d *ir.RouteDestination, why string) string {
	var first *ir.Backend
	for _, be := range d.Backends {
		if be.Weight == 0 {
			continue
		}
		if be.RequestHeaders != nil || be.ResponseHeaders != nil || be.CredentialInjection != nil {
			return fmt.Sprintf("%s has backendRef filters, but %s needs every backend in one cluster", refName(be), why)
		}
		if first == nil {
			first = be
			continue
		}
		switch {
		case be.Protocol != first.Protocol:
			return fmt.Sprintf("%s speaks %s and %s %s, but %s needs every backend in one cluster", refName(first), first.Protocol, refName(be), be.Protocol, why)
		case be.AddressType != first.AddressType && (be.AddressType == ir.AddressUnix || first.AddressType == ir.AddressUnix):
			return fmt.Sprintf("%s and %s mix unix sockets with network addresses, but %s needs every backend in one cluster", refName(first), refName(be), why)
		}
	}
	if !ir.TLSMixable(d.Backends) {
		return fmt.Sprintf("the backends' TLS settings cannot share one cluster (a server name from the request's Host beside a fixed one, or h2 offered by ALPN beside plain text), but %s needs every backend in one cluster", why)
	}
	return ""
}

// refName names a backend by its backendRef index ("backendRefs[K]").
func refName(be *ir.Backend) string {
	if i := strings.LastIndex(be.Name, "/backend/"); i >= 0 {
		return "backendRefs[" + be.Name[i+len("/backend/"):] + "]"
	}
	return be.Name
}

// keepTogether marks d as one cluster when a backend is a fallback or the
// rule keeps sessions, and reports on rs (fail closed) when it cannot be.
func keepTogether(rs *routeState, d *ir.RouteDestination, session bool, where string) bool {
	if d == nil {
		return true
	}
	var why string
	switch {
	case session:
		why = "sessionPersistence"
	case hasFallback(d):
		why = "a fallback Backend"
	default:
		return true
	}
	d.OneCluster = true
	if msg := oneClusterProblem(d, why); msg != "" {
		rs.unsupported("UnsupportedValue", where+": "+msg)
		return false
	}
	return true
}
