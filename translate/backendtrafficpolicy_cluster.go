package translate

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/resource"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// BackendTrafficPolicy fields that shape the clusters (spec's
// ClusterSettings, admissionControl, useClientProtocol) → ir.ClusterSettings.
// Offline there is no API server: CRD defaults are filled and CEL rules are
// checked here, so what egctl compiles is what a cluster would have stored.

// maxMaglevTable is the largest Maglev table Envoy accepts.
const maxMaglevTable = 5000011

// clusterSettings builds the cluster-level settings of a
// BackendTrafficPolicy spec, nil when it asks for none: the shared
// ClusterSettings (clusterSettingsOf) and what only this kind has.
func clusterSettings(spec *egv1a1.BackendTrafficPolicySpec) (*ir.ClusterSettings, error) {
	cs, errs := clusterSettingsOf(&spec.ClusterSettings, "spec.")
	if spec.UseClientProtocol != nil && *spec.UseClientProtocol {
		cs.UseClientProtocol = true
	}
	if spec.AdmissionControl != nil {
		ac, err := admissionControl(spec.AdmissionControl)
		if err != nil {
			errs = append(errs, err)
		}
		cs.AdmissionControl = ac
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if *cs == (ir.ClusterSettings{}) {
		return nil, nil
	}
	return cs, nil
}

// clusterSettingsOf translates Envoy Gateway's ClusterSettings, the
// cluster part of a BackendTrafficPolicy and the backendSettings of every
// external service (ext auth, ext proc, JWKS, OIDC): one translation, so
// the same field means the same cluster everywhere. p prefixes field paths
// in messages ("spec.", "spec.extAuth.grpc.backendSettings."). Retry and
// the HTTP timeouts that are not the cluster's are left to the caller.
func clusterSettingsOf(in *egv1a1.ClusterSettings, p string) (*ir.ClusterSettings, []error) {
	cs := &ir.ClusterSettings{}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if in.LoadBalancer != nil {
		lb, err := loadBalancer(p+"loadBalancer", in.LoadBalancer)
		add(err)
		cs.LoadBalancer = lb
	}
	if t := in.Timeout; t != nil {
		if t.TCP != nil && t.TCP.ConnectTimeout != nil {
			d, err := positiveDuration(p+"timeout.tcp.connectTimeout", *t.TCP.ConnectTimeout)
			add(err)
			cs.ConnectTimeout = d
		}
		if h := t.HTTP; h != nil {
			if h.ConnectionIdleTimeout != nil {
				d, err := positiveDuration(p+"timeout.http.connectionIdleTimeout", *h.ConnectionIdleTimeout)
				add(err)
				cs.HTTPIdleTimeout = d
			}
			if h.MaxConnectionDuration != nil {
				d, err := positiveDuration(p+"timeout.http.maxConnectionDuration", *h.MaxConnectionDuration)
				add(err)
				cs.MaxConnectionDuration = d
			}
		}
	}
	if in.CircuitBreaker != nil {
		cb, perConn, err := circuitBreaker(p+"circuitBreaker", in.CircuitBreaker)
		add(err)
		cs.CircuitBreaker, cs.MaxRequestsPerConnection = cb, perConn
	} else if in.Retry != nil {
		// Envoy allows 3 concurrent retries per cluster by default; Envoy
		// Gateway always raises it to 1024, so a policy's retries are not
		// throttled by a limit nobody asked for.
		cs.CircuitBreaker = &ir.CircuitBreaker{MaxConnections: 1024, MaxPendingRequests: 1024, MaxParallelRequests: 1024, MaxParallelRetries: 1024}
	}
	if in.HealthCheck != nil {
		hc, err := healthCheck(p+"healthCheck", in.HealthCheck)
		add(err)
		cs.HealthCheck = hc
	}
	if k := in.TCPKeepalive; k != nil {
		ka := &ir.UpstreamTCPKeepalive{}
		if k.Probes != nil {
			ka.Probes = *k.Probes
		}
		if k.IdleTime != nil {
			d, err := wholeSeconds(p+"tcpKeepalive.idleTime", *k.IdleTime)
			add(err)
			ka.IdleTime = d
		}
		if k.Interval != nil {
			d, err := wholeSeconds(p+"tcpKeepalive.interval", *k.Interval)
			add(err)
			ka.Interval = d
		}
		cs.TCPKeepalive = ka
	}
	if c := in.Connection; c != nil {
		if c.BufferLimit != nil {
			n, err := quantityUint32(p+"connection.bufferLimit", c.BufferLimit)
			add(err)
			cs.BufferLimit = n
		}
		if c.SocketBufferLimit != nil {
			// Envoy Gateway hides this field and ignores it; a kernel
			// socket buffer needs a bind config with socket options that
			// egctl does not write yet. Fail rather than drop it.
			add(errors.New(p + "connection.socketBufferLimit: egctl does not translate socket buffer limits yet"))
		}
		if pre := c.Preconnect; pre != nil {
			pc := &ir.Preconnect{}
			if pre.PerEndpointPercent != nil {
				if *pre.PerEndpointPercent < 100 || *pre.PerEndpointPercent > 300 {
					add(fmt.Errorf("%sconnection.preconnect.perEndpointPercent: %d is outside 100-300", p, *pre.PerEndpointPercent))
				}
				pc.PerEndpointPercent = *pre.PerEndpointPercent
			}
			if pre.PredictivePercent != nil {
				if *pre.PredictivePercent < 100 {
					add(fmt.Errorf("%sconnection.preconnect.predictivePercent: %d is below 100", p, *pre.PredictivePercent))
				}
				if lb := in.LoadBalancer; lb == nil || (lb.Type != egv1a1.RoundRobinLoadBalancerType && lb.Type != egv1a1.RandomLoadBalancerType) {
					// Envoy's predictive preconnect only fits these two
					// (the CRD rejects the others, and the default).
					add(errors.New(p + "connection.preconnect.predictivePercent: needs loadBalancer.type RoundRobin or Random (the CRD rejects it otherwise)"))
				}
				pc.PredictivePercent = *pre.PredictivePercent
			}
			cs.Preconnect = pc
		}
	}
	if pp := in.ProxyProtocol; pp != nil {
		switch pp.Version {
		case egv1a1.ProxyProtocolVersionV1, egv1a1.ProxyProtocolVersionV2:
			cs.ProxyProtocol = string(pp.Version)
		default:
			add(fmt.Errorf("%sproxyProtocol.version: %q is not V1 or V2", p, pp.Version))
		}
	}
	if d := in.DNS; d != nil {
		dns := &ir.DNS{}
		if d.DNSRefreshRate != nil {
			v, err := positiveDuration(p+"dns.dnsRefreshRate", *d.DNSRefreshRate)
			add(err)
			dns.RefreshRate = v
		}
		if d.RespectDNSTTL != nil && !*d.RespectDNSTTL {
			dns.IgnoreTTL = true
		}
		if d.LookupFamily != nil {
			switch *d.LookupFamily {
			case egv1a1.IPv4DNSLookupFamily, egv1a1.IPv6DNSLookupFamily, egv1a1.IPv4PreferredDNSLookupFamily,
				egv1a1.IPv6PreferredDNSLookupFamily, egv1a1.IPv4AndIPv6DNSLookupFamily:
				dns.LookupFamily = string(*d.LookupFamily)
			default:
				add(fmt.Errorf("%sdns.lookupFamily: unknown value %q", p, *d.LookupFamily))
			}
		}
		cs.DNS = dns
	}
	if in.HTTP2 != nil {
		h2, err := http2Settings(p+"http2", in.HTTP2)
		add(err)
		cs.HTTP2 = h2
	}
	return cs, errs
}

func loadBalancer(f string, in *egv1a1.LoadBalancer) (*ir.LoadBalancer, error) {
	lb := &ir.LoadBalancer{Type: ir.LBType(in.Type)}
	// The CRD's union rules.
	if (in.Type == egv1a1.ConsistentHashLoadBalancerType) != (in.ConsistentHash != nil) {
		return nil, fmt.Errorf("%s: consistentHash must be set exactly when type is ConsistentHash", f)
	}
	if (in.Type == egv1a1.BackendUtilizationLoadBalancerType) != (in.BackendUtilization != nil) {
		return nil, fmt.Errorf("%s: backendUtilization must be set exactly when type is BackendUtilization", f)
	}
	switch in.Type {
	case egv1a1.RoundRobinLoadBalancerType, egv1a1.LeastRequestLoadBalancerType, egv1a1.RandomLoadBalancerType:
	case egv1a1.ConsistentHashLoadBalancerType:
		ch, err := consistentHash(f+".consistentHash", in.ConsistentHash)
		if err != nil {
			return nil, err
		}
		lb.ConsistentHash = ch
	case egv1a1.BackendUtilizationLoadBalancerType:
		bu, err := backendUtilization(f+".backendUtilization", in.BackendUtilization)
		if err != nil {
			return nil, err
		}
		lb.BackendUtilization = bu
	case egv1a1.DynamicModuleLoadBalancerType:
		return nil, fmt.Errorf("%s.type DynamicModule: egctl does not translate dynamic modules (they need the EnvoyProxy's module registry)", f)
	default:
		return nil, fmt.Errorf("%s.type: unknown value %q", f, in.Type)
	}
	if in.SlowStart != nil {
		switch in.Type {
		case egv1a1.RandomLoadBalancerType, egv1a1.ConsistentHashLoadBalancerType:
			return nil, fmt.Errorf("%s.slowStart: only RoundRobin, LeastRequest and BackendUtilization have a slow start (the CRD rejects it)", f)
		}
		if in.SlowStart.Window == nil {
			return nil, fmt.Errorf("%s.slowStart.window is required", f)
		}
		d, err := positiveDuration(f+".slowStart.window", *in.SlowStart.Window)
		if err != nil {
			return nil, err
		}
		lb.SlowStart = d
	}
	if z := in.ZoneAware; z != nil {
		switch {
		case z.PreferLocal != nil:
			return nil, fmt.Errorf("%s.zoneAware.preferLocal: egctl cannot honour it: preferring the local zone needs the zone the proxy itself runs in, which an offline compile does not know", f)
		case len(z.WeightedZones) > 0:
			return nil, fmt.Errorf("%s.zoneAware.weightedZones: egctl does not translate zone weights yet (endpoints do not carry their zone through egctl's IR)", f)
		}
	}
	if eo := in.EndpointOverride; eo != nil {
		if len(eo.ExtractFrom) == 0 || len(eo.ExtractFrom) > 10 {
			return nil, fmt.Errorf("%s.endpointOverride.extractFrom: 1 to 10 sources (the CRD rejects %d)", f, len(eo.ExtractFrom))
		}
		for i, src := range eo.ExtractFrom {
			if src.Header == nil || *src.Header == "" {
				return nil, fmt.Errorf("%s.endpointOverride.extractFrom[%d].header is required (the only source egctl knows)", f, i)
			}
			lb.OverrideHostHeaders = append(lb.OverrideHostHeaders, *src.Header)
		}
	}
	return lb, nil
}

func consistentHash(f string, in *egv1a1.ConsistentHash) (*ir.ConsistentHash, error) {
	ch := &ir.ConsistentHash{}
	if in.TableSize != nil {
		n := *in.TableSize
		if n < 2 || n > maxMaglevTable || !big.NewInt(int64(n)).ProbablyPrime(0) {
			return nil, fmt.Errorf("%s.tableSize: %d is not a prime between 2 and %d", f, n, maxMaglevTable)
		}
		ch.TableSize = n
	}
	union := map[egv1a1.ConsistentHashType]bool{
		egv1a1.HeaderConsistentHashType:      in.Header != nil,
		egv1a1.HeadersConsistentHashType:     in.Headers != nil,
		egv1a1.CookieConsistentHashType:      in.Cookie != nil,
		egv1a1.QueryParamsConsistentHashType: in.QueryParams != nil,
	}
	for typ, set := range union {
		if set != (in.Type == typ) {
			return nil, fmt.Errorf("%s: %s must be set exactly when type is %s", f, strings.ToLower(string(typ[:1]))+string(typ[1:]), typ)
		}
	}
	switch in.Type {
	case egv1a1.SourceIPConsistentHashType:
		ch.SourceIP = true
	case egv1a1.HeaderConsistentHashType:
		if in.Header.Name == "" {
			return nil, fmt.Errorf("%s.header.name is required", f)
		}
		ch.Headers = []string{in.Header.Name}
	case egv1a1.HeadersConsistentHashType:
		for i, h := range in.Headers {
			if h == nil || h.Name == "" {
				return nil, fmt.Errorf("%s.headers[%d].name is required", f, i)
			}
			ch.Headers = append(ch.Headers, h.Name)
		}
		if len(ch.Headers) == 0 {
			return nil, fmt.Errorf("%s.headers is empty", f)
		}
	case egv1a1.CookieConsistentHashType:
		c := in.Cookie
		if c.Name == "" {
			return nil, fmt.Errorf("%s.cookie.name is required", f)
		}
		hc := &ir.HashCookie{Name: c.Name}
		if c.TTL != nil {
			d, err := parseDuration(*c.TTL)
			if err != nil {
				return nil, fmt.Errorf("%s.cookie.ttl: %v", f, err)
			}
			hc.TTL = d
		}
		for k, v := range c.Attributes {
			hc.Attributes = append(hc.Attributes, ir.Header{Name: k, Value: v})
		}
		sort.Slice(hc.Attributes, func(i, j int) bool { return hc.Attributes[i].Name < hc.Attributes[j].Name })
		ch.Cookie = hc
	case egv1a1.QueryParamsConsistentHashType:
		for i, q := range in.QueryParams {
			if q == nil || q.Name == "" {
				return nil, fmt.Errorf("%s.queryParams[%d].name is required", f, i)
			}
			ch.QueryParams = append(ch.QueryParams, q.Name)
		}
		if len(ch.QueryParams) == 0 {
			return nil, fmt.Errorf("%s.queryParams is empty", f)
		}
	default:
		return nil, fmt.Errorf("%s.type: unknown value %q", f, in.Type)
	}
	return ch, nil
}

func backendUtilization(f string, in *egv1a1.BackendUtilization) (*ir.BackendUtilization, error) {
	bu := &ir.BackendUtilization{MetricNames: append([]string(nil), in.MetricNamesForComputingUtilization...)}
	for _, d := range []struct {
		name string
		in   *gwv1.Duration
		out  *time.Duration
	}{
		{"blackoutPeriod", in.BlackoutPeriod, &bu.BlackoutPeriod},
		{"weightExpirationPeriod", in.WeightExpirationPeriod, &bu.WeightExpirationPeriod},
		{"weightUpdatePeriod", in.WeightUpdatePeriod, &bu.WeightUpdatePeriod},
	} {
		if d.in != nil {
			v, err := parseDuration(*d.in)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %v", f, d.name, err)
			}
			*d.out = v
		}
	}
	if in.ErrorUtilizationPenaltyPercent != nil {
		p := float64(*in.ErrorUtilizationPenaltyPercent) / 100
		bu.ErrorUtilizationPenalty = &p
	}
	bu.KeepResponseHeaders = in.KeepResponseHeaders != nil && *in.KeepResponseHeaders
	if oob := in.OutOfBand; oob != nil {
		out := &ir.OutOfBandReports{}
		if oob.ReportingPeriod != nil {
			d, err := positiveDuration(f+".outOfBand.reportingPeriod", *oob.ReportingPeriod)
			if err != nil {
				return nil, err
			}
			out.Period = d
		}
		if oob.Port != nil {
			if *oob.Port < 1 || *oob.Port > 65535 {
				return nil, fmt.Errorf("%s.outOfBand.port: %d is out of range", f, *oob.Port)
			}
			out.Port = uint32(*oob.Port)
		}
		if oob.Authority != nil {
			if *oob.Authority == "" || strings.ContainsAny(*oob.Authority, "\x00\r\n") {
				return nil, fmt.Errorf("%s.outOfBand.authority: %q is not a valid authority", f, *oob.Authority)
			}
			out.Authority = *oob.Authority
		}
		bu.OutOfBand = out
	}
	return bu, nil
}

// circuitBreaker fills the CRD defaults (1024) so the IR says what Envoy
// will enforce; maxRequestsPerConnection is returned apart: it is an HTTP
// protocol option, not a threshold.
func circuitBreaker(f string, in *egv1a1.CircuitBreaker) (*ir.CircuitBreaker, uint32, error) {
	get := func(name string, v *int64, def uint32) (uint32, error) {
		if v == nil {
			return def, nil
		}
		if *v < 0 || *v > math.MaxUint32 {
			return 0, fmt.Errorf("%s.%s: %d is outside 0-%d", f, name, *v, uint32(math.MaxUint32))
		}
		return uint32(*v), nil
	}
	var errs []error
	val := func(name string, v *int64, def uint32) uint32 {
		n, err := get(name, v, def)
		if err != nil {
			errs = append(errs, err)
		}
		return n
	}
	cb := &ir.CircuitBreaker{
		MaxConnections:      val("maxConnections", in.MaxConnections, 1024),
		MaxPendingRequests:  val("maxPendingRequests", in.MaxPendingRequests, 1024),
		MaxParallelRequests: val("maxParallelRequests", in.MaxParallelRequests, 1024),
		MaxParallelRetries:  val("maxParallelRetries", in.MaxParallelRetries, 1024),
	}
	perConn := val("maxRequestsPerConnection", in.MaxRequestsPerConnection, 0)
	if in.PerEndpoint != nil {
		cb.PerEndpointMaxConnections = val("perEndpoint.maxConnections", in.PerEndpoint.MaxConnections, 1024)
	}
	if rb := in.RetryBudget; rb != nil {
		pct, err := fractionPercent(rb.Percent)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.retryBudget.percent: %v", f, err))
		}
		min := uint32(3)
		if rb.MinRetryConcurrency != nil {
			min = *rb.MinRetryConcurrency
		}
		cb.RetryBudget = &ir.RetryBudget{Percent: pct, MinRetryConcurrency: min}
	}
	return cb, perConn, errors.Join(errs...)
}

// healthCheck fills the CRD defaults: active probes every 3s with a 1s
// timeout, unhealthy after 3 failures, healthy after 1 success; passive
// ejection after 5 consecutive 5xx or local-origin failures, checked every
// 3s, for 30s, at most 10% of the endpoints.
func healthCheck(f string, in *egv1a1.HealthCheck) (*ir.HealthCheck, error) {
	hc := &ir.HealthCheck{}
	if in.PanicThreshold != nil {
		if *in.PanicThreshold > 100 {
			return nil, fmt.Errorf("%s.panicThreshold: %d is above 100", f, *in.PanicThreshold)
		}
		hc.PanicThreshold = in.PanicThreshold
	}
	if a := in.Active; a != nil {
		ah, err := activeHealthCheck(f+".active", a)
		if err != nil {
			return nil, err
		}
		hc.Active = ah
	}
	if p := in.Passive; p != nil {
		od := &ir.OutlierDetection{
			Interval:                       3 * time.Second,
			BaseEjectionTime:               30 * time.Second,
			MaxEjectionPercent:             10,
			ConsecutiveLocalOriginFailures: ptrTo(uint32(5)),
			Consecutive5xxErrors:           ptrTo(uint32(5)),
			ConsecutiveGatewayErrors:       p.ConsecutiveGatewayErrors,
			FailurePercentageThreshold:     p.FailurePercentageThreshold,
		}
		if p.SplitExternalLocalOriginErrors != nil {
			od.SplitExternalLocalOriginErrors = *p.SplitExternalLocalOriginErrors
		}
		// The CRD defaults alwaysEjectOneEndpoint to false; spelled out as
		// the API server (and Envoy Gateway) would have it.
		eject := false
		if p.AlwaysEjectOneEndpoint != nil {
			eject = *p.AlwaysEjectOneEndpoint
		}
		od.AlwaysEjectOneEndpoint = &eject
		if p.ConsecutiveLocalOriginFailures != nil {
			od.ConsecutiveLocalOriginFailures = p.ConsecutiveLocalOriginFailures
		}
		if p.Consecutive5xxErrors != nil {
			od.Consecutive5xxErrors = p.Consecutive5xxErrors
		}
		if p.Interval != nil {
			d, err := positiveDuration(f+".passive.interval", *p.Interval)
			if err != nil {
				return nil, err
			}
			od.Interval = d
		}
		if p.BaseEjectionTime != nil {
			d, err := positiveDuration(f+".passive.baseEjectionTime", *p.BaseEjectionTime)
			if err != nil {
				return nil, err
			}
			od.BaseEjectionTime = d
		}
		if p.MaxEjectionPercent != nil {
			if *p.MaxEjectionPercent < 0 || *p.MaxEjectionPercent > 100 {
				return nil, fmt.Errorf("%s.passive.maxEjectionPercent: %d is outside 0-100", f, *p.MaxEjectionPercent)
			}
			od.MaxEjectionPercent = uint32(*p.MaxEjectionPercent)
		}
		if p.FailurePercentageThreshold != nil && *p.FailurePercentageThreshold > 100 {
			return nil, fmt.Errorf("%s.passive.failurePercentageThreshold: %d is above 100", f, *p.FailurePercentageThreshold)
		}
		hc.Passive = od
	}
	return hc, nil
}

func activeHealthCheck(f string, a *egv1a1.ActiveHealthCheck) (*ir.ActiveHealthCheck, error) {
	ah := &ir.ActiveHealthCheck{
		Type: ir.HealthCheckType(a.Type), Timeout: time.Second, Interval: 3 * time.Second,
		UnhealthyThreshold: 3, HealthyThreshold: 1,
	}
	if a.Timeout != nil {
		d, err := positiveDuration(f+".timeout", *a.Timeout)
		if err != nil {
			return nil, err
		}
		ah.Timeout = d
	}
	if a.Interval != nil {
		d, err := positiveDuration(f+".interval", *a.Interval)
		if err != nil {
			return nil, err
		}
		ah.Interval = d
	}
	if a.InitialJitter != nil {
		d, err := parseDuration(*a.InitialJitter)
		if err != nil {
			return nil, fmt.Errorf("%s.initialJitter: %v", f, err)
		}
		ah.InitialJitter = d
	}
	if a.UnhealthyThreshold != nil {
		if *a.UnhealthyThreshold < 1 {
			return nil, fmt.Errorf("%s.unhealthyThreshold must be at least 1", f)
		}
		ah.UnhealthyThreshold = *a.UnhealthyThreshold
	}
	if a.HealthyThreshold != nil {
		if *a.HealthyThreshold < 1 {
			return nil, fmt.Errorf("%s.healthyThreshold must be at least 1", f)
		}
		ah.HealthyThreshold = *a.HealthyThreshold
	}
	if (a.Type == egv1a1.ActiveHealthCheckerTypeHTTP) != (a.HTTP != nil) ||
		(a.Type == egv1a1.ActiveHealthCheckerTypeTCP) != (a.TCP != nil) ||
		(a.GRPC != nil && a.Type != egv1a1.ActiveHealthCheckerTypeGRPC) {
		return nil, fmt.Errorf("%s: http, tcp and grpc must match type %q (the CRD rejects it)", f, a.Type)
	}
	switch a.Type {
	case egv1a1.ActiveHealthCheckerTypeHTTP:
		h := a.HTTP
		if h.Path == "" {
			return nil, fmt.Errorf("%s.http.path is required", f)
		}
		ah.Path = h.Path
		if h.Hostname != nil {
			ah.Host = *h.Hostname
		}
		if h.Method != nil {
			ah.Method = strings.ToUpper(*h.Method)
			switch ah.Method {
			case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
			default:
				return nil, fmt.Errorf("%s.http.method: %q is not an HTTP method Envoy health checks can use", f, *h.Method)
			}
		}
		var err error
		if ah.ExpectedStatuses, err = statusSet(f+".http.expectedStatuses", h.ExpectedStatuses); err != nil {
			return nil, err
		}
		if len(ah.ExpectedStatuses) == 0 {
			ah.ExpectedStatuses = []uint32{200}
		}
		if ah.RetriableStatuses, err = statusSet(f+".http.retriableStatuses", h.RetriableStatuses); err != nil {
			return nil, err
		}
		if h.RequestBody != nil {
			if ah.Method != "POST" && ah.Method != "PUT" {
				return nil, fmt.Errorf("%s.http.requestBody needs method POST or PUT (the CRD rejects it)", f)
			}
			if ah.Send, ah.SendBinary, err = hcPayload(f+".http.requestBody", h.RequestBody); err != nil {
				return nil, err
			}
		}
		if ah.Receive, ah.ReceiveBinary, err = hcPayload(f+".http.expectedResponse", h.ExpectedResponse); err != nil {
			return nil, err
		}
	case egv1a1.ActiveHealthCheckerTypeTCP:
		var err error
		if ah.Send, ah.SendBinary, err = hcPayload(f+".tcp.send", a.TCP.Send); err != nil {
			return nil, err
		}
		if ah.Receive, ah.ReceiveBinary, err = hcPayload(f+".tcp.receive", a.TCP.Receive); err != nil {
			return nil, err
		}
	case egv1a1.ActiveHealthCheckerTypeGRPC:
		if a.GRPC != nil && a.GRPC.Service != nil {
			ah.GRPCService = *a.GRPC.Service
		}
	default:
		return nil, fmt.Errorf("%s.type: unknown value %q", f, a.Type)
	}
	if o := a.Overrides; o != nil && o.Port != 0 {
		if o.Port < 1 || o.Port > 65535 {
			return nil, fmt.Errorf("%s.overrides.port: %d is out of range", f, o.Port)
		}
		ah.Port = uint32(o.Port)
	}
	if l := a.HealthCheckLog; l != nil {
		log, err := healthCheckLog(f+".healthCheckLog", l)
		if err != nil {
			return nil, err
		}
		ah.Log = log
	}
	return ah, nil
}

func healthCheckLog(f string, l *egv1a1.ProxyHealthCheckLog) (*ir.HealthCheckLog, error) {
	out := &ir.HealthCheckLog{Path: "/dev/stdout", AlwaysFailure: true, AlwaysSuccess: true}
	if len(l.Sinks) > 1 {
		return nil, fmt.Errorf("%s.sinks: at most one sink (the CRD rejects %d)", f, len(l.Sinks))
	}
	for _, s := range l.Sinks {
		if s.Type != egv1a1.ProxyHealthCheckLogSinkTypeFile || s.File == nil || s.File.Path == "" {
			return nil, fmt.Errorf("%s.sinks[0]: only a File sink with a path is supported", f)
		}
		out.Path = s.File.Path
	}
	if len(l.Matches) > 0 {
		var fail, ok bool
		out.AlwaysFailure, out.AlwaysSuccess = false, false
		for _, m := range l.Matches {
			switch m {
			case egv1a1.ProxyHealthCheckLogEventTypeFailure:
				fail, out.AlwaysFailure = true, true
			case egv1a1.ProxyHealthCheckLogEventTypeFailureSeriesStart:
				fail = true
			case egv1a1.ProxyHealthCheckLogEventTypeSuccess:
				ok, out.AlwaysSuccess = true, true
			case egv1a1.ProxyHealthCheckLogEventTypeHealthyTransition:
				ok = true
			default:
				return nil, fmt.Errorf("%s.matches: unknown value %q", f, m)
			}
		}
		if fail != ok {
			return nil, fmt.Errorf("%s.matches: a failure type and a success type must both be given (the CRD rejects it)", f)
		}
	}
	return out, nil
}

func hcPayload(f string, p *egv1a1.ActiveHealthCheckPayload) (payload []byte, binary bool, err error) {
	if p == nil {
		return nil, false, nil
	}
	switch p.Type {
	case egv1a1.ActiveHealthCheckPayloadTypeText:
		if p.Text == nil || p.Binary != nil {
			return nil, false, fmt.Errorf("%s: type Text needs text and no binary", f)
		}
		return []byte(*p.Text), false, nil
	case egv1a1.ActiveHealthCheckPayloadTypeBinary:
		if p.Binary == nil || p.Text != nil {
			return nil, false, fmt.Errorf("%s: type Binary needs binary and no text", f)
		}
		return append([]byte(nil), p.Binary...), true, nil
	}
	return nil, false, fmt.Errorf("%s.type: unknown value %q", f, p.Type)
}

// statusSet returns the distinct statuses, sorted, each in 100-599.
func statusSet(f string, in []egv1a1.HTTPStatus) ([]uint32, error) {
	seen := map[uint32]bool{}
	var out []uint32
	for i, s := range in {
		if s < 100 || s > 599 {
			return nil, fmt.Errorf("%s[%d]: %d is not an HTTP status (100-599)", f, i, s)
		}
		if !seen[uint32(s)] {
			seen[uint32(s)] = true
			out = append(out, uint32(s))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func http2Settings(f string, in *egv1a1.HTTP2Settings) (*ir.HTTP2, error) {
	h2 := &ir.HTTP2{}
	var err error
	if in.InitialStreamWindowSize != nil {
		if h2.InitialStreamWindowSize, err = quantityRange(f+".initialStreamWindowSize", in.InitialStreamWindowSize, 65535, 2147483647); err != nil {
			return nil, err
		}
	}
	if in.InitialConnectionWindowSize != nil {
		if h2.InitialConnectionWindowSize, err = quantityRange(f+".initialConnectionWindowSize", in.InitialConnectionWindowSize, 65535, 2147483647); err != nil {
			return nil, err
		}
	}
	if in.MaxConcurrentStreams != nil {
		if *in.MaxConcurrentStreams < 1 || *in.MaxConcurrentStreams > 2147483647 {
			return nil, fmt.Errorf("%s.maxConcurrentStreams: %d is outside 1-2147483647", f, *in.MaxConcurrentStreams)
		}
		h2.MaxConcurrentStreams = *in.MaxConcurrentStreams
	}
	if in.OnInvalidMessage != nil {
		switch *in.OnInvalidMessage {
		case egv1a1.InvalidMessageActionTerminateStream:
			h2.ResetStreamOnError = true
		case egv1a1.InvalidMessageActionTerminateConnection:
		default:
			return nil, fmt.Errorf("%s.onInvalidMessage: unknown value %q", f, *in.OnInvalidMessage)
		}
	}
	if k := in.ConnectionKeepalive; k != nil {
		ka := &ir.UpstreamHTTP2Keepalive{JitterPercent: k.IntervalJitter}
		for _, d := range []struct {
			name string
			in   *gwv1.Duration
			out  *time.Duration
		}{
			{"interval", k.Interval, &ka.Interval},
			{"timeout", k.Timeout, &ka.Timeout},
			{"idleInterval", k.IdleInterval, &ka.IdleInterval},
		} {
			if d.in != nil {
				v, err := positiveDuration(f+".connectionKeepalive."+d.name, *d.in)
				if err != nil {
					return nil, err
				}
				*d.out = v
			}
		}
		if ka.Interval > 0 && ka.Timeout > 0 && ka.Timeout >= ka.Interval {
			return nil, fmt.Errorf("%s.connectionKeepalive: timeout must be less than interval (the CRD rejects it)", f)
		}
		if ka.JitterPercent != nil && *ka.JitterPercent > 100 {
			return nil, fmt.Errorf("%s.connectionKeepalive.intervalJitter: %d is above 100", f, *ka.JitterPercent)
		}
		if ka.Timeout == 0 {
			// Envoy requires a PING timeout whenever keepalive is on.
			return nil, fmt.Errorf("%s.connectionKeepalive.timeout is required (Envoy needs it to send PINGs)", f)
		}
		h2.Keepalive = ka
	}
	return h2, nil
}

var grpcCodes = map[egv1a1.GRPCSuccessCode]uint32{
	"Ok": 0, "Cancelled": 1, "Unknown": 2, "InvalidArgument": 3, "DeadlineExceeded": 4, "NotFound": 5,
	"AlreadyExists": 6, "PermissionDenied": 7, "ResourceExhausted": 8, "FailedPrecondition": 9, "Aborted": 10,
	"OutOfRange": 11, "Unimplemented": 12, "Internal": 13, "Unavailable": 14, "DataLoss": 15, "Unauthenticated": 16,
}

func admissionControl(in *egv1a1.AdmissionControl) (*ir.AdmissionControl, error) {
	const f = "spec.admissionControl"
	ac := &ir.AdmissionControl{
		MinSuccessRate: in.MinSuccessRate, Aggression: in.RejectionAggression,
		MinRequestRate: in.MinRequestRate, MaxRejectionPercent: in.MaxRejectionPercent,
	}
	if in.SamplingWindow != nil {
		d, err := parseDuration(*in.SamplingWindow)
		if err != nil {
			return nil, fmt.Errorf("%s.samplingWindow: %v", f, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("%s.samplingWindow: %s is below 1s (the CRD rejects it)", f, d)
		}
		ac.SamplingWindow = d
	}
	if v := in.MinSuccessRate; v != nil && (*v < 1 || *v > 100) {
		return nil, fmt.Errorf("%s.minSuccessRate: %d is outside 1-100", f, *v)
	}
	if v := in.MaxRejectionPercent; v != nil && *v > 100 {
		return nil, fmt.Errorf("%s.maxRejectionPercent: %d is above 100", f, *v)
	}
	if v := in.RejectionAggression; v != nil && *v < 1 {
		return nil, fmt.Errorf("%s.rejectionAggression must be at least 1", f)
	}
	if sc := in.SuccessCriteria; sc != nil {
		if sc.HTTP != nil {
			codes, err := statusSet(f+".successCriteria.http.statusCodes", sc.HTTP.StatusCodes)
			if err != nil {
				return nil, err
			}
			ac.SuccessHTTPStatuses = codes
		}
		if sc.GRPC != nil {
			for i, c := range sc.GRPC.StatusCodes {
				n, ok := grpcCodes[c]
				if !ok {
					return nil, fmt.Errorf("%s.successCriteria.grpc.statusCodes[%d]: unknown gRPC status %q", f, i, c)
				}
				ac.SuccessGRPCStatuses = append(ac.SuccessGRPCStatuses, n)
			}
		}
	}
	return ac, nil
}

// fractionPercent turns a Gateway API fraction into a percentage.
func fractionPercent(fr gwv1.Fraction) (float64, error) {
	den := int32(100)
	if fr.Denominator != nil {
		den = *fr.Denominator
	}
	if den <= 0 || fr.Numerator < 0 || fr.Numerator > den {
		return 0, fmt.Errorf("%d/%d is not a fraction between 0 and 1", fr.Numerator, den)
	}
	return float64(fr.Numerator) * 100 / float64(den), nil
}

// fractionPerMillion turns a Gateway API fraction into parts per million.
func fractionPerMillion(fr *gwv1.Fraction) (*uint32, error) {
	if fr == nil {
		return nil, nil
	}
	pct, err := fractionPercent(*fr)
	if err != nil {
		return nil, err
	}
	v := uint32(math.Round(pct * 10000))
	return &v, nil
}

func positiveDuration(f string, d gwv1.Duration) (time.Duration, error) {
	v, err := parseDuration(d)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", f, err)
	}
	if v == 0 {
		return 0, fmt.Errorf("%s: must be greater than 0", f)
	}
	return v, nil
}

// wholeSeconds: TCP keepalive times are whole seconds in the kernel.
func wholeSeconds(f string, d gwv1.Duration) (time.Duration, error) {
	v, err := positiveDuration(f, d)
	if err != nil {
		return 0, err
	}
	if v%time.Second != 0 {
		return 0, fmt.Errorf("%s: %s is not a whole number of seconds (TCP keepalive counts seconds)", f, v)
	}
	return v, nil
}

func quantityUint32(f string, q *resource.Quantity) (uint32, error) {
	return quantityRange(f, q, 0, math.MaxUint32)
}

func quantityRange(f string, q *resource.Quantity, min, max int64) (uint32, error) {
	n, ok := q.AsInt64()
	if !ok || n < min || n > max {
		return 0, fmt.Errorf("%s: %s is outside %d-%d bytes", f, q.String(), min, max)
	}
	return uint32(n), nil
}
