package translate

import (
	"errors"
	"fmt"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// The backendSettings of an external service (ext auth, ext proc, remote
// JWKS, OIDC provider) — Envoy Gateway's ClusterSettings — split three
// ways, as Envoy Gateway splits them:
//   - what shapes the service's cluster goes through clusterSettingsOf,
//     the translation BackendTrafficPolicy uses, onto the cluster Envoy
//     Gateway generates for the service;
//   - retry becomes the retry policy of the filter's call;
//   - timeout.http.requestTimeout bounds a JWKS fetch or an OIDC token
//     request (ext auth and ext proc have their own timeout fields).
//
// What Envoy Gateway accepts and does nothing with is refused here, with
// the field named, rather than dropped.

// serviceSettings is what one external service's backendSettings give.
type serviceSettings struct {
	cluster *ir.ClusterSettings
	retry   *ir.ServiceRetry
	timeout time.Duration
}

// extServiceSettings translates cs, the backendSettings under field (e.g.
// "spec.extAuth.grpc"). timeoutField names the field that bounds the
// filter's calls when requestTimeout does not ("" when requestTimeout
// does).
func extServiceSettings(cs *egv1a1.ClusterSettings, field, timeoutField string) (serviceSettings, error) {
	var out serviceSettings
	if cs == nil {
		return out, nil
	}
	var maxStream time.Duration
	field += ".backendSettings"
	var errs []error
	refuse := func(set bool, name, why string) {
		if set {
			errs = append(errs, fmt.Errorf("%s.%s: %s", field, name, why))
		}
	}
	if lb := cs.LoadBalancer; lb != nil {
		refuse(lb.ConsistentHash != nil || lb.Type == egv1a1.ConsistentHashLoadBalancerType, "loadBalancer.consistentHash",
			"egctl cannot honour it: the filter's calls carry no hash policy, so Envoy would pick endpoints at random")
		refuse(lb.EndpointOverride != nil, "loadBalancer.endpointOverride",
			"egctl cannot honour it: the filter's calls are not the client's request, whose headers would name the endpoint")
	}
	if t := cs.Timeout; t != nil && t.HTTP != nil {
		h := t.HTTP
		refuse(h.StreamIdleTimeout != nil, "timeout.http.streamIdleTimeout",
			"egctl cannot honour it: the filter's calls have no route to carry a stream idle timeout (Envoy Gateway ignores it)")
		if h.RequestTimeout != nil {
			if timeoutField != "" {
				errs = append(errs, fmt.Errorf("%s.timeout.http.requestTimeout: not applied to this service's calls (Envoy Gateway ignores it): use %s", field, timeoutField))
			} else {
				d, err := parseDuration(*h.RequestTimeout)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.timeout.http.requestTimeout: %v", field, err))
				}
				out.timeout = d
			}
		}
		if h.MaxStreamDuration != nil {
			// On the cluster, as Envoy Gateway does for a cluster no
			// route uses.
			d, err := positiveDuration(field+".timeout.http.maxStreamDuration", *h.MaxStreamDuration)
			if err != nil {
				errs = append(errs, err)
			}
			maxStream = d
		}
	}
	if r := cs.Retry; r != nil {
		refuse(r.NumAttemptsPerPriority != nil, "retry.numAttemptsPerPriority", "egctl does not apply it to an external service's calls yet")
		refuse(r.RetryOn != nil && len(r.RetryOn.HTTPStatusCodes) > 0, "retry.retryOn.httpStatusCodes", "egctl does not apply it to an external service's calls yet")
		refuse(r.PerRetry != nil && r.PerRetry.Timeout != nil, "retry.perRetry.timeout", "egctl does not apply it to an external service's calls yet")
	}
	// Retry is the filter's, not the cluster's: it does not raise the
	// cluster's retry circuit breaker as a BackendTrafficPolicy's does
	// (circuitBreaker.maxParallelRetries does).
	noRetry := *cs
	noRetry.Retry = nil
	c, cerrs := clusterSettingsOf(&noRetry, field+".")
	errs = append(errs, cerrs...)
	retry, err := spServiceRetry(cs.Retry, field+".retry")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return serviceSettings{}, err
	}
	out.retry = retry
	c.MaxStreamDuration = maxStream
	if *c != (ir.ClusterSettings{}) {
		out.cluster = c
	}
	return out, nil
}

// withClusterSettings gives d (just built for this service, not shared)
// the cluster settings cs, checking what depends on the backends: a gRPC
// health check needs a cluster that speaks HTTP/2.
func withClusterSettings(d *ir.RouteDestination, cs *ir.ClusterSettings, field string) error {
	if cs == nil {
		return nil
	}
	if err := grpcHealthCheckable(cs, d); err != nil {
		return fmt.Errorf("%s.backendSettings.healthCheck.active.type GRPC: a gRPC health check needs HTTP/2, and the backends of %s speak HTTP/1.1", field, d.Name)
	}
	d.Cluster = cs
	return nil
}

// serviceFallback makes be, resolved from a backendRef marked fallback, a
// higher Envoy priority in the service's one cluster, as Envoy Gateway
// does: it takes the calls when too few primary endpoints are healthy
// (xds/failover.go gives the cluster outlier detection when no health
// check watches it).
func serviceFallback(be *ir.Backend, ref *egv1a1.BackendRef) {
	if ref.Fallback != nil && *ref.Fallback {
		be.Priority = 1
	}
}
