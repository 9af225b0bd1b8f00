package xds

import (
	"fmt"
	"strconv"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	previousprioritiesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/priority/previous_priorities/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// BackendTrafficPolicy on the route itself: retries, timeouts, protocol
// upgrades, tracing and the stat prefix (ir.TrafficSettings). The filters a
// policy needs (fault, compressor, …) are their own features.
func init() {
	register(&feature{
		name:          "backendtrafficpolicy.route",
		patchRoute:    patchTrafficRoute,
		patchTCPRoute: patchTrafficTCP,
		patchUDPRoute: patchTrafficUDP,
	})
}

// trafficRetryCache keys the retry policies built for one proxy by the IR
// retry they come from: a policy on many routes builds one, shared
// read-only.
type trafficRetryCache map[*ir.TrafficRetry]*routev3.RetryPolicy

func patchTrafficRoute(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
	ts := r.Traffic
	if ts == nil {
		return nil
	}
	if ts.StatName != "" {
		out.StatPrefix = expandStatName(ts.StatName, r)
	}
	if ts.Tracing != nil {
		out.Tracing = buildRouteTracing(ts.Tracing)
	}
	a := out.GetRoute()
	if a == nil {
		return nil // redirect or direct response: nothing goes upstream
	}
	// The route's own Gateway API retry and timeouts (set in route.go)
	// take precedence, as in Envoy Gateway.
	if ts.Retry != nil && r.Retry == nil {
		cache := *featureState(b, "trafficRetryCache", func() *trafficRetryCache { return &trafficRetryCache{} })
		rp, ok := cache[ts.Retry]
		if !ok {
			var err error
			if rp, err = buildTrafficRetry(ts.Retry); err != nil {
				return fmt.Errorf("retry: %w", err)
			}
			cache[ts.Retry] = rp
		}
		a.RetryPolicy = rp
	}
	if t := ts.Timeout; t != nil {
		if t.Request != nil && a.Timeout == nil {
			a.Timeout = b.sharedDuration(*t.Request)
		}
		if t.MaxStreamDuration != nil {
			a.MaxStreamDuration = &routev3.RouteAction_MaxStreamDuration{MaxStreamDuration: durationpb.New(*t.MaxStreamDuration)}
		}
		switch {
		case t.StreamIdle != nil:
			a.IdleTimeout = b.sharedDuration(*t.StreamIdle)
		case t.Request != nil && a.Timeout != nil && a.Timeout.AsDuration() == *t.Request:
			a.IdleTimeout = b.requestIdleTimeout(a.Timeout)
		}
	}
	switch {
	case isGRPCRoute(r):
		// gRPC routes carry no upgrades (route.go), whatever the policy.
	case ts.NoUpgrades:
		a.UpgradeConfigs = nil
	case len(ts.Upgrades) > 0:
		ups := make([]*routev3.RouteAction_UpgradeConfig, 0, len(ts.Upgrades))
		for _, u := range ts.Upgrades {
			uc := &routev3.RouteAction_UpgradeConfig{UpgradeType: u.Type}
			if strings.EqualFold(u.Type, "CONNECT") {
				if u.ConnectTerminate {
					uc.ConnectConfig = &routev3.RouteAction_UpgradeConfig_ConnectConfig{}
				}
				// CONNECT requests carry no path: the route must match
				// them by method alone (Envoy's connect_matcher).
				if out.Match.GetConnectMatcher() == nil {
					out.Match.PathSpecifier = &routev3.RouteMatch_ConnectMatcher_{ConnectMatcher: &routev3.RouteMatch_ConnectMatcher{}}
				}
			}
			ups = append(ups, uc)
		}
		a.UpgradeConfigs = ups
	}
	return nil
}

const hour = 3600_000_000_000 // time.Hour, as a Duration literal for comparisons

// requestIdleTimeout is the stream idle timeout of a route whose request
// timeout is t: Envoy's stream idle timeout (5 minutes by default) must not
// end a request before its own, longer timeout does, so, as in Envoy
// Gateway, at least an hour, and off when the request has no timeout. A
// listener whose ClientTrafficPolicy sets the stream idle timeout keeps
// it (nil).
func (b *builder) requestIdleTimeout(t *durationpb.Duration) *durationpb.Duration {
	if l := b.listener; l != nil && l.Client != nil && l.Client.HTTP != nil && l.Client.HTTP.StreamIdleTimeout != nil {
		return nil
	}
	idle := t.AsDuration()
	if idle > 0 && idle < hour {
		idle = hour
	}
	return b.sharedDuration(idle)
}

func buildTrafficRetry(r *ir.TrafficRetry) (*routev3.RetryPolicy, error) {
	prev, err := toAny(&previoushostsv3.PreviousHostsPredicate{})
	if err != nil {
		return nil, err
	}
	rp := &routev3.RetryPolicy{
		RetryOn:              strings.Join(r.RetryOn, ","),
		NumRetries:           wrapperspb.UInt32(r.NumRetries),
		RetriableStatusCodes: append([]uint32(nil), r.StatusCodes...),
		// Retry on another endpoint when there is one, as Envoy Gateway.
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       "envoy.retry_host_predicates.previous_hosts",
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: prev},
		}},
		HostSelectionRetryMaxAttempts: 5,
	}
	if r.AttemptsPerPriority > 0 {
		pp, err := toAny(&previousprioritiesv3.PreviousPrioritiesConfig{UpdateFrequency: int32(r.AttemptsPerPriority)})
		if err != nil {
			return nil, err
		}
		rp.RetryPriority = &routev3.RetryPolicy_RetryPriority{
			Name:       "envoy.retry_priorities.previous_priorities",
			ConfigType: &routev3.RetryPolicy_RetryPriority_TypedConfig{TypedConfig: pp},
		}
	}
	if r.PerTryTimeout > 0 {
		rp.PerTryTimeout = durationpb.New(r.PerTryTimeout)
	}
	if r.BackoffBase > 0 || r.BackoffMax > 0 {
		bo := &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(r.BackoffBase)}
		if r.BackoffMax > 0 {
			bo.MaxInterval = durationpb.New(r.BackoffMax)
		}
		rp.RetryBackOff = bo
	}
	return rp, nil
}

// expandStatName fills the route operators of a stat name template.
func expandStatName(tmpl string, r *ir.HTTPRoute) string {
	var kind, ns, name, rule string
	if md := r.Metadata; md != nil {
		kind, ns, name, rule = md.Kind, md.Namespace, md.Name, md.SectionName
	}
	if rule == "" {
		rule = "-"
	}
	return strings.NewReplacer(
		"%ROUTE_NAME%", name, "%ROUTE_NAMESPACE%", ns, "%ROUTE_KIND%", kind,
		"%ROUTE_RULE_NAME%", rule, "%ROUTE_RULE_NUMBER%", ruleNumber(r.Name),
	).Replace(tmpl)
}

// ruleNumber reads I from "<kind>/ns/name/rule/I/…".
func ruleNumber(name string) string {
	_, rest, ok := strings.Cut(name, "/rule/")
	if !ok {
		return "-"
	}
	n, _, _ := strings.Cut(rest, "/")
	if _, err := strconv.Atoi(n); err != nil {
		return "-"
	}
	return n
}

func buildRouteTracing(t *ir.RouteTracing) *routev3.Tracing {
	out := &routev3.Tracing{
		RandomSampling:    perMillion(t.RandomSampling),
		ClientSampling:    perMillion(t.ClientSampling),
		OverallSampling:   perMillion(t.OverallSampling),
		Operation:         t.ClientSpan,
		UpstreamOperation: t.ServerSpan,
	}
	if out.ClientSampling == nil {
		// Client-forced tracing is off unless asked for (Envoy Gateway).
		out.ClientSampling = &typev3.FractionalPercent{Denominator: typev3.FractionalPercent_HUNDRED}
	}
	for _, tag := range t.Tags {
		ct := &tracingv3.CustomTag{Tag: tag.Name}
		switch tag.Type {
		case ir.TagLiteral:
			ct.Type = &tracingv3.CustomTag_Literal_{Literal: &tracingv3.CustomTag_Literal{Value: tag.Value}}
		case ir.TagEnvironment:
			ct.Type = &tracingv3.CustomTag_Environment_{Environment: &tracingv3.CustomTag_Environment{Name: tag.Value, DefaultValue: tag.Default}}
		case ir.TagRequestHeader:
			ct.Type = &tracingv3.CustomTag_RequestHeader{RequestHeader: &tracingv3.CustomTag_Header{Name: tag.Value, DefaultValue: tag.Default}}
		default:
			ct.Type = &tracingv3.CustomTag_Value{Value: tag.Value}
		}
		out.CustomTags = append(out.CustomTags, ct)
	}
	return out
}

func perMillion(v *uint32) *typev3.FractionalPercent {
	if v == nil {
		return nil
	}
	return &typev3.FractionalPercent{Numerator: *v, Denominator: typev3.FractionalPercent_MILLION}
}

func patchTrafficTCP(_ *builder, _ *ir.TCPListener, r *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
	if r.Traffic != nil && r.Traffic.StatName != "" {
		tp.StatPrefix = expandL4StatName(r.Traffic.StatName, r.Metadata)
	}
	return nil, nil
}

func patchTrafficUDP(_ *builder, _ *ir.UDPListener, r *ir.UDPRoute, up *udpproxyv3.UdpProxyConfig) error {
	if r.Traffic != nil && r.Traffic.StatName != "" {
		up.StatPrefix = expandL4StatName(r.Traffic.StatName, r.Metadata)
	}
	return nil
}

// expandL4StatName: TCP, TLS and UDP routes have one rule, -1.
func expandL4StatName(tmpl string, md *ir.Metadata) string {
	return expandStatName(tmpl, &ir.HTTPRoute{Metadata: md, Name: "x/rule/-1"})
}
