package xds

import (
	"encoding/hex"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	hcfilev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/health_check/event_sinks/file/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// spec.healthCheck: active probes (HTTP, TCP, gRPC), passive outlier
// detection, and the panic threshold. Outlier detection is only written
// when asked for (Envoy Gateway 1.3 stopped enabling it by default).
func init() {
	register(&feature{name: "backendtrafficpolicy.healthcheck", patchCluster: patchHealthCheck})
}

// builtHealthCheck is what one IR health check becomes, shared read-only
// by every cluster asking for it.
type builtHealthCheck struct {
	common  *clusterv3.Cluster_CommonLbConfig
	checks  []*corev3.HealthCheck
	outlier *clusterv3.OutlierDetection
}

type healthCheckCache map[*ir.HealthCheck]*builtHealthCheck

func patchHealthCheck(b *builder, d *ir.RouteDestination, _ []*ir.Backend, c *clusterv3.Cluster) error {
	hc := d.Cluster.GetHealthCheck()
	if hc == nil {
		return nil
	}
	cache := *featureState(b, "healthCheckCache", func() *healthCheckCache { return &healthCheckCache{} })
	built, ok := cache[hc]
	if !ok {
		built = &builtHealthCheck{}
		if t := hc.PanicThreshold; t != nil && *t != 50 {
			built.common = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: float64(*t)}}
		}
		if a := hc.Active; a != nil {
			h, err := activeHealthCheck(a)
			if err != nil {
				return err
			}
			built.checks = []*corev3.HealthCheck{h}
		}
		if p := hc.Passive; p != nil {
			built.outlier = outlierDetection(p)
		}
		cache[hc] = built
	}
	c.CommonLbConfig, c.HealthChecks, c.OutlierDetection = built.common, built.checks, built.outlier
	if a := hc.Active; a != nil && a.Port > 0 {
		probePort(b, c, a.Port)
	}
	return nil
}

func activeHealthCheck(a *ir.ActiveHealthCheck) (*corev3.HealthCheck, error) {
	h := &corev3.HealthCheck{
		Timeout:            durationpb.New(a.Timeout),
		Interval:           durationpb.New(a.Interval),
		UnhealthyThreshold: wrapperspb.UInt32(a.UnhealthyThreshold),
		HealthyThreshold:   wrapperspb.UInt32(a.HealthyThreshold),
	}
	if a.InitialJitter > 0 {
		h.InitialJitter = durationpb.New(a.InitialJitter)
	}
	switch a.Type {
	case ir.HealthCheckHTTP:
		hh := &corev3.HealthCheck_HttpHealthCheck{
			Host:              a.Host,
			Path:              a.Path,
			ExpectedStatuses:  statusRanges(a.ExpectedStatuses),
			RetriableStatuses: statusRanges(a.RetriableStatuses),
		}
		if a.Method != "" {
			hh.Method = corev3.RequestMethod(corev3.RequestMethod_value[a.Method])
		}
		if len(a.Send) > 0 {
			hh.Send = payload(a.Send, a.SendBinary)
		}
		if len(a.Receive) > 0 {
			hh.Receive = []*corev3.HealthCheck_Payload{payload(a.Receive, a.ReceiveBinary)}
		}
		h.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: hh}
	case ir.HealthCheckTCP:
		th := &corev3.HealthCheck_TcpHealthCheck{}
		if len(a.Send) > 0 {
			th.Send = payload(a.Send, a.SendBinary)
		}
		if len(a.Receive) > 0 {
			th.Receive = []*corev3.HealthCheck_Payload{payload(a.Receive, a.ReceiveBinary)}
		}
		h.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: th}
	case ir.HealthCheckGRPC:
		h.HealthChecker = &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{ServiceName: a.GRPCService}}
	}
	if l := a.Log; l != nil {
		sink, err := toAny(&hcfilev3.HealthCheckEventFileSink{EventLogPath: l.Path})
		if err != nil {
			return nil, err
		}
		h.EventLogger = []*corev3.TypedExtensionConfig{{Name: "envoy.health_check.event_sinks.file", TypedConfig: sink}}
		h.AlwaysLogHealthCheckFailures = l.AlwaysFailure
		h.AlwaysLogHealthCheckSuccess = l.AlwaysSuccess
	}
	return h, nil
}

// probePort sends the cluster's probes to port on every endpoint (Envoy
// sets it per endpoint). The hosts of a Service are shared between
// clusters (endpoint.go), so this cluster gets its own copy.
func probePort(b *builder, c *clusterv3.Cluster, port uint32) {
	cla := c.GetLoadAssignment()
	eds := cla == nil
	if eds {
		cla = b.endpoints[c.GetName()]
	}
	if cla == nil {
		return
	}
	cp := cloneOf(cla)
	for _, loc := range cp.GetEndpoints() {
		for _, ep := range loc.GetLbEndpoints() {
			if e := ep.GetEndpoint(); e != nil {
				e.HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: port}
			}
		}
	}
	if eds {
		b.endpoints[c.GetName()] = cp
	} else {
		c.LoadAssignment = cp
	}
}

// payload: Envoy wants text payloads hex-encoded; a payload given as
// binary is written as bytes, as Envoy Gateway writes it.
func payload(b []byte, binary bool) *corev3.HealthCheck_Payload {
	if binary {
		return &corev3.HealthCheck_Payload{Payload: &corev3.HealthCheck_Payload_Binary{Binary: b}}
	}
	return &corev3.HealthCheck_Payload{Payload: &corev3.HealthCheck_Payload_Text{Text: hex.EncodeToString(b)}}
}

// statusRanges folds sorted statuses into half-open ranges.
func statusRanges(codes []uint32) []*typev3.Int64Range {
	if len(codes) == 0 {
		return nil
	}
	s := append([]uint32(nil), codes...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var out []*typev3.Int64Range
	start, end := int64(s[0]), int64(s[0])+1
	for _, c := range s[1:] {
		switch {
		case int64(c) == end:
			end++
		case int64(c) < end:
		default:
			out = append(out, &typev3.Int64Range{Start: start, End: end})
			start, end = int64(c), int64(c)+1
		}
	}
	return append(out, &typev3.Int64Range{Start: start, End: end})
}

func outlierDetection(p *ir.OutlierDetection) *clusterv3.OutlierDetection {
	od := &clusterv3.OutlierDetection{
		Interval:                       durationpb.New(p.Interval),
		BaseEjectionTime:               durationpb.New(p.BaseEjectionTime),
		MaxEjectionPercent:             wrapperspb.UInt32(p.MaxEjectionPercent),
		SplitExternalLocalOriginErrors: p.SplitExternalLocalOriginErrors,
	}
	if v := p.Consecutive5xxErrors; v != nil {
		od.Consecutive_5Xx = wrapperspb.UInt32(*v)
	}
	if v := p.ConsecutiveLocalOriginFailures; v != nil {
		od.ConsecutiveLocalOriginFailure = wrapperspb.UInt32(*v)
	}
	if v := p.ConsecutiveGatewayErrors; v != nil {
		od.ConsecutiveGatewayFailure = wrapperspb.UInt32(*v)
		od.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(100)
	}
	if v := p.FailurePercentageThreshold; v != nil {
		od.FailurePercentageThreshold = wrapperspb.UInt32(*v)
		od.EnforcingFailurePercentage = wrapperspb.UInt32(100)
	}
	if v := p.AlwaysEjectOneEndpoint; v != nil {
		// Spelled out when set, false included, as Envoy Gateway does.
		od.AlwaysEjectOneHost = wrapperspb.Bool(*v)
	}
	return od
}
