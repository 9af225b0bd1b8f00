package xds

import (
	"fmt"
	"net"
	"sync"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	earlymutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	preservecasev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/header_formatters/preserve_case/v3"
	customheaderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/custom_header/v3"
	xffv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/xff/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Filter names as Envoy Gateway names them.
const (
	healthCheckFilterName    = "envoy.filters.http.health_check"
	grpcWebFilterName        = "envoy.filters.http.grpc_web"
	headerMutationFilterName = "envoy.filters.http.header_mutation"
	rateLimitFilterName      = "envoy.filters.http.ratelimit"
)

type protoMessage = proto.Message

// ClientTrafficPolicy settings of the HTTP connection manager, and the HTTP
// filters they bring (health check, gRPC-Web, late response headers).
func init() {
	register(&feature{
		name:        "client.hcm",
		httpFilters: clientHTTPFilters,
		patchHCM:    patchClientHCM,
	})
}

// clientHTTP is the ClientTrafficPolicy HTTP settings of the listeners an
// HCM serves; translate made them agree (ir.ClientSettings).
func clientHTTP(h *hcmBuild) *ir.ClientHTTP {
	for _, l := range h.listeners {
		if l.Client != nil && l.Client.HTTP != nil {
			return l.Client.HTTP
		}
	}
	return nil
}

// grpcWebOn: a ClientTrafficPolicy's spec.grpc.enableWeb when it gives
// spec.grpc (Envoy Gateway reads an absent enableWeb there as false);
// otherwise on for the listeners that serve a GRPCRoute, which the API
// documents as the default.
func grpcWebOn(c *ir.ClientHTTP, h *hcmBuild) bool {
	if c != nil && c.GRPCSet {
		return c.GRPCWeb
	}
	return h.anyRoute(isGRPCRoute)
}

func clientHTTPFilters(_ *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	c := clientHTTP(h)
	web := grpcWebOn(c, h)
	if c == nil && !web {
		return nil, nil
	}
	if c == nil {
		c = &ir.ClientHTTP{}
	}
	var out []*hcmv3.HttpFilter
	add := func(name string, m protoMessage) error {
		a, err := toAny(m)
		if err != nil {
			return err
		}
		out = append(out, &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}})
		return nil
	}
	if c.HealthCheckPath != "" {
		// Envoy answers the path itself (200, or 503 while draining).
		if err := add(healthCheckFilterName, &healthcheckv3.HealthCheck{
			PassThroughMode: wrapperspb.Bool(false),
			Headers: []*routev3.HeaderMatcher{{
				Name:                 ":path",
				HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher(c.HealthCheckPath)},
			}},
		}); err != nil {
			return nil, err
		}
	}
	if web {
		if err := add(grpcWebFilterName, &grpcwebv3.GrpcWeb{}); err != nil {
			return nil, err
		}
	}
	if hd := c.Headers; hd != nil && hd.LateResponseHeaders != nil {
		rules, err := headerMutationRules(hd.LateResponseHeaders)
		if err != nil {
			return nil, fmt.Errorf("late response headers: %w", err)
		}
		if err := add(headerMutationFilterName, &headermutationv3.HeaderMutation{
			Mutations: &headermutationv3.Mutations{ResponseMutations: rules},
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// headerMutationRules: removals first (they apply to what the client or
// backend sent), then set, add, add-if-absent.
func headerMutationRules(m *ir.HeaderMutation) ([]*mutationrulesv3.HeaderMutation, error) {
	var out []*mutationrulesv3.HeaderMutation
	for _, name := range m.Remove {
		out = append(out, &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_Remove{Remove: name}})
	}
	for i, sm := range m.RemoveOnMatch {
		km, err := valueMatcher(sm) // client_tls.go
		if err != nil {
			return nil, fmt.Errorf("RemoveOnMatch[%d]: %w", i, err)
		}
		out = append(out, &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_RemoveOnMatch_{
			RemoveOnMatch: &mutationrulesv3.HeaderMutation_RemoveOnMatch{KeyMatcher: km},
		}})
	}
	appendRule := func(hs []ir.Header, action corev3.HeaderValueOption_HeaderAppendAction) {
		for _, h := range hs {
			out = append(out, &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
				AppendAction: action,
			}}})
		}
	}
	appendRule(m.Set, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
	appendRule(m.Add, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)
	appendRule(m.AddIfAbsent, corev3.HeaderValueOption_ADD_IF_ABSENT)
	return out, nil
}

// routerWithEnvoyHeaders is the router that adds x-envoy-* headers
// (headers.enableEnvoyHeaders), built once.
var routerWithEnvoyHeaders = sync.OnceValues(func() (*anyMsg, error) {
	return toAny(&routerv3.Router{SuppressEnvoyHeaders: false})
})

func patchClientHCM(_ *builder, h *hcmBuild, mgr *hcmv3.HttpConnectionManager) error {
	if h.quic {
		mgr.CodecType = hcmv3.HttpConnectionManager_HTTP3
		mgr.Http3ProtocolOptions = &corev3.Http3ProtocolOptions{}
	}
	c := clientHTTP(h)
	if c == nil {
		return nil
	}
	if err := applyClientIP(mgr, c.ClientIP); err != nil {
		return err
	}
	mgr.MergeSlashes = !c.DisableMergeSlashes
	switch c.EscapedSlashes {
	case "":
	case "KeepUnchanged":
		mgr.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_KEEP_UNCHANGED
	case "RejectRequest":
		mgr.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_REJECT_REQUEST
	case "UnescapeAndForward":
		mgr.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD
	case "UnescapeAndRedirect":
		mgr.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT
	default:
		return fmt.Errorf("unknown EscapedSlashes %q", c.EscapedSlashes)
	}
	if err := applyClientHeaders(mgr, c.Headers); err != nil {
		return err
	}
	common := mgr.CommonHttpProtocolOptions
	if d := c.RequestTimeout; d != nil {
		mgr.RequestTimeout = durationpb.New(d.D())
	}
	if d := c.RequestHeadersTimeout; d != nil {
		mgr.RequestHeadersTimeout = durationpb.New(d.D())
	}
	if d := c.IdleTimeout; d != nil {
		common.IdleTimeout = durationpb.New(d.D())
	}
	if d := c.StreamIdleTimeout; d != nil {
		mgr.StreamIdleTimeout = durationpb.New(d.D())
	}
	if d := c.MaxConnectionDuration; d != nil {
		common.MaxConnectionDuration = durationpb.New(d.D())
		// Close an HTTP/1 connection between requests, not under one.
		mgr.Http1SafeMaxConnectionDuration = c.HTTP1 == nil || !c.HTTP1.DisableSafeMaxConnectionDuration
	}
	if d := c.MaxStreamDuration; d != nil {
		common.MaxStreamDuration = durationpb.New(d.D())
	}
	if n := c.MaxRequestsPerConnection; n != nil {
		common.MaxRequestsPerConnection = wrapperspb.UInt32(*n)
	}
	if c.HTTP1 != nil {
		opts, err := http1Options(c.HTTP1, true)
		if err != nil {
			return err
		}
		mgr.HttpProtocolOptions = opts
	}
	if h2 := c.HTTP2; h2 != nil && mgr.Http2ProtocolOptions != nil {
		o := mgr.Http2ProtocolOptions
		if h2.InitialStreamWindowSize != nil {
			o.InitialStreamWindowSize = wrapperspb.UInt32(*h2.InitialStreamWindowSize)
		}
		if h2.InitialConnectionWindowSize != nil {
			o.InitialConnectionWindowSize = wrapperspb.UInt32(*h2.InitialConnectionWindowSize)
		}
		if h2.MaxConcurrentStreams != nil {
			o.MaxConcurrentStreams = wrapperspb.UInt32(*h2.MaxConcurrentStreams)
		}
		if h2.ResetStreamOnError != nil {
			o.OverrideStreamErrorOnInvalidHttpMessage = wrapperspb.Bool(*h2.ResetStreamOnError)
		}
		if k := h2.Keepalive; k != nil {
			ka := &corev3.KeepaliveSettings{}
			if k.Interval != nil {
				ka.Interval = durationpb.New(k.Interval.D())
			}
			if k.Timeout != nil {
				ka.Timeout = durationpb.New(k.Timeout.D())
			}
			if k.IntervalJitter != nil {
				ka.IntervalJitter = &typev3.Percent{Value: float64(*k.IntervalJitter)}
			}
			if k.IdleInterval != nil {
				ka.ConnectionIdleInterval = durationpb.New(k.IdleInterval.D())
			}
			o.ConnectionKeepalive = ka
		}
	}
	if c.MatchBackendScheme {
		mgr.SchemeHeaderTransformation = &corev3.SchemeHeaderTransformation{MatchUpstream: true}
	}
	return nil
}

// http1Options spells the HTTP/1 settings; downstream adds what only a
// server does (HTTP/1.0 default host, ignored upgrades).
func http1Options(s *ir.ClientHTTP1, downstream bool) (*corev3.Http1ProtocolOptions, error) {
	o := &corev3.Http1ProtocolOptions{EnableTrailers: s.EnableTrailers, AcceptHttp_10: s.HTTP10}
	if s.PreserveHeaderCase {
		pc, err := toAny(&preservecasev3.PreserveCaseFormatterConfig{})
		if err != nil {
			return nil, err
		}
		o.HeaderKeyFormat = &corev3.Http1ProtocolOptions_HeaderKeyFormat{
			HeaderFormat: &corev3.Http1ProtocolOptions_HeaderKeyFormat_StatefulFormatter{
				StatefulFormatter: &corev3.TypedExtensionConfig{Name: "preserve_case", TypedConfig: pc},
			},
		}
	}
	if !downstream {
		return o, nil
	}
	o.DefaultHostForHttp_10 = s.HTTP10DefaultHost
	for i, m := range s.IgnoredUpgradeTypes {
		sm, err := valueMatcher(m)
		if err != nil {
			return nil, fmt.Errorf("IgnoredUpgradeTypes[%d]: %w", i, err)
		}
		o.IgnoreHttp_11Upgrade = append(o.IgnoreHttp_11Upgrade, sm)
	}
	return o, nil
}

// applyClientIP makes the client address come from X-Forwarded-For or a
// custom header instead of the connection (use_remote_address off, an
// original IP detection extension on). Envoy Gateway's numTrustedHops N
// is Envoy's xff_num_trusted_hops N-1: the client is the Nth address from
// the right of X-Forwarded-For.
func applyClientIP(mgr *hcmv3.HttpConnectionManager, ip *ir.ClientIPDetection) error {
	if ip == nil || ip.DirectSourceIP {
		return nil
	}
	var name string
	var cfg protoMessage
	switch {
	case ip.CustomHeader != "":
		ch := &customheaderv3.CustomHeaderConfig{HeaderName: ip.CustomHeader, AllowExtensionToSetAddressAsTrusted: true}
		if ip.CustomHeaderFailClosed {
			ch.RejectWithStatus = &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden}
		}
		name, cfg = "envoy.extensions.http.original_ip_detection.custom_header", ch
	case len(ip.XFFTrustedCIDRs) > 0:
		x := &xffv3.XffConfig{XffTrustedCidrs: &xffv3.XffTrustedCidrs{}, SkipXffAppend: wrapperspb.Bool(ip.SkipXFFAppend)}
		for _, c := range ip.XFFTrustedCIDRs {
			addr, nw, err := net.ParseCIDR(c)
			if err != nil {
				return fmt.Errorf("XFFTrustedCIDRs: %w", err)
			}
			ones, _ := nw.Mask.Size()
			x.XffTrustedCidrs.Cidrs = append(x.XffTrustedCidrs.Cidrs, &corev3.CidrRange{AddressPrefix: addr.String(), PrefixLen: wrapperspb.UInt32(uint32(ones))})
		}
		name, cfg = "envoy.extensions.http.original_ip_detection.xff", x
	case ip.XFFTrustedHops != nil:
		hops := uint32(0)
		if *ip.XFFTrustedHops > 0 {
			hops = *ip.XFFTrustedHops - 1
		}
		name, cfg = "envoy.extensions.http.original_ip_detection.xff", &xffv3.XffConfig{XffNumTrustedHops: hops, SkipXffAppend: wrapperspb.Bool(ip.SkipXFFAppend)}
	default:
		return nil
	}
	a, err := toAny(cfg)
	if err != nil {
		return err
	}
	mgr.UseRemoteAddress = wrapperspb.Bool(false)
	mgr.OriginalIpDetectionExtensions = []*corev3.TypedExtensionConfig{{Name: name, TypedConfig: a}}
	return nil
}

func applyClientHeaders(mgr *hcmv3.HttpConnectionManager, hd *ir.ClientHeaders) error {
	if hd == nil {
		return nil
	}
	switch hd.WithUnderscores {
	case "", "RejectRequest":
		mgr.CommonHttpProtocolOptions.HeadersWithUnderscoresAction = corev3.HttpProtocolOptions_REJECT_REQUEST
	case "Allow":
		mgr.CommonHttpProtocolOptions.HeadersWithUnderscoresAction = corev3.HttpProtocolOptions_ALLOW
	case "DropHeader":
		mgr.CommonHttpProtocolOptions.HeadersWithUnderscoresAction = corev3.HttpProtocolOptions_DROP_HEADER
	default:
		return fmt.Errorf("unknown WithUnderscores %q", hd.WithUnderscores)
	}
	switch hd.XFCCMode {
	case "", "Sanitize":
		mgr.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE
	case "ForwardOnly":
		mgr.ForwardClientCertDetails = hcmv3.HttpConnectionManager_FORWARD_ONLY
	case "AppendForward":
		mgr.ForwardClientCertDetails = hcmv3.HttpConnectionManager_APPEND_FORWARD
	case "SanitizeSet":
		mgr.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE_SET
	case "AlwaysForwardOnly":
		mgr.ForwardClientCertDetails = hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY
	default:
		return fmt.Errorf("unknown XFCCMode %q", hd.XFCCMode)
	}
	if len(hd.XFCCDetails) > 0 {
		d := &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{}
		for _, f := range hd.XFCCDetails {
			switch f {
			case "Subject":
				d.Subject = wrapperspb.Bool(true)
			case "Cert":
				d.Cert = true
			case "Chain":
				d.Chain = true
			case "DNS":
				d.Dns = true
			case "URI":
				d.Uri = true
			default:
				return fmt.Errorf("unknown XFCC detail %q", f)
			}
		}
		mgr.SetCurrentClientCertDetails = d
	}
	switch hd.RequestID {
	case "":
	case "PreserveOrGenerate":
		mgr.GenerateRequestId, mgr.PreserveExternalRequestId = wrapperspb.Bool(true), true
	case "Preserve":
		mgr.GenerateRequestId, mgr.PreserveExternalRequestId = wrapperspb.Bool(false), true
	case "Generate":
		mgr.GenerateRequestId, mgr.PreserveExternalRequestId = wrapperspb.Bool(true), false
	case "Disable":
		mgr.GenerateRequestId, mgr.PreserveExternalRequestId = wrapperspb.Bool(false), false
	default:
		return fmt.Errorf("unknown RequestID %q", hd.RequestID)
	}
	if hd.EarlyRequestHeaders != nil {
		rules, err := headerMutationRules(hd.EarlyRequestHeaders)
		if err != nil {
			return fmt.Errorf("early request headers: %w", err)
		}
		a, err := toAny(&earlymutationv3.HeaderMutation{Mutations: rules})
		if err != nil {
			return err
		}
		mgr.EarlyHeaderMutationExtensions = []*corev3.TypedExtensionConfig{{Name: "envoy.http.early_header_mutation.header_mutation", TypedConfig: a}}
	}
	mgr.StripTrailingHostDot = hd.StripTrailingHostDot
	if hd.EnableEnvoyHeaders {
		r, err := routerWithEnvoyHeaders()
		if err != nil {
			return err
		}
		for _, f := range mgr.HttpFilters {
			if f.GetName() == routerFilterName {
				f.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: r}
			}
		}
	}
	if hd.DisableRateLimitHeaders || hd.EnableEnvoyHeaders {
		if err := patchRateLimitHeaders(mgr, hd); err != nil {
			return err
		}
	}
	return nil
}

// patchRateLimitHeaders sets the rate limit filter's response headers as
// the listener asks: no x-ratelimit-* with disableRateLimitHeaders, and
// x-envoy-ratelimited only with enableEnvoyHeaders.
func patchRateLimitHeaders(mgr *hcmv3.HttpConnectionManager, hd *ir.ClientHeaders) error {
	for i, f := range mgr.HttpFilters {
		if !isFilterType(f, rateLimitFilterName) || f.GetTypedConfig() == nil {
			continue
		}
		rl := &ratelimitv3.RateLimit{}
		if err := f.GetTypedConfig().UnmarshalTo(rl); err != nil {
			return fmt.Errorf("%s: %w", f.GetName(), err)
		}
		if hd.DisableRateLimitHeaders {
			rl.EnableXRatelimitHeaders = ratelimitv3.RateLimit_OFF
		}
		if hd.EnableEnvoyHeaders {
			rl.DisableXEnvoyRatelimitedHeader = false
		}
		a, err := toAny(rl)
		if err != nil {
			return err
		}
		mgr.HttpFilters[i] = &hcmv3.HttpFilter{Name: f.GetName(), ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}, IsOptional: f.GetIsOptional(), Disabled: f.GetDisabled()}
	}
	return nil
}
