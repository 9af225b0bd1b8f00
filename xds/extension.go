package xds

import (
	"fmt"
	"net"
	"reflect"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// EnvoyExtensionPolicy's filters (extproc.go, wasm.go, lua.go,
// dynamicmodule.go) are configured as Envoy Gateway configures them: each
// extension is one HTTP filter "<type>/<name>" in the HCM of every listener
// one of its routes is served by, disabled there, and enabled on exactly
// those routes through typed_per_filter_config.

// extServiceTimeout bounds a call to an external service or a fetch of
// remote code (Envoy Gateway's value).
const extServiceTimeout = 10 * time.Second

func b32(v uint32) *wrapperspb.UInt32Value { return wrapperspb.UInt32(v) }

func isIP(host string) bool { return net.ParseIP(host) != nil }

// extBuild caches, per proxy, what the extension filters share.
type extBuild struct {
	enable  *anypb.Any                   // FilterConfig{} enabling a filter on a route
	filters map[string]*hcmv3.HttpFilter // by filter name
	from    map[string]any               // the IR value each filter was built from
	remote  map[string]*ir.RemoteSource  // fetch clusters built, by name
}

func (b *builder) extState() *extBuild {
	if b.ext == nil {
		b.ext = &extBuild{filters: map[string]*hcmv3.HttpFilter{}, from: map[string]any{}, remote: map[string]*ir.RemoteSource{}}
	}
	return b.ext
}

// extFilter returns the disabled HCM filter name, built once per proxy by
// build. Two extensions of one name must be the same.
func (b *builder) extFilter(name string, src any, build func() (proto.Message, error)) (*hcmv3.HttpFilter, error) {
	st := b.extState()
	if f, ok := st.filters[name]; ok {
		if prev := st.from[name]; prev != src && !reflect.DeepEqual(prev, src) {
			return nil, fmt.Errorf("filter %q: two different configurations under one name", name)
		}
		return f, nil
	}
	cfg, err := build()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", name, err)
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	f := &hcmv3.HttpFilter{Name: name, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}
	st.filters[name] = f
	st.from[name] = src
	return f, nil
}

// collectExt walks the routes of h and returns, in first-use order, the
// filters pick names for each route's extensions.
func (b *builder) collectExt(h *hcmBuild, pick func(e *ir.ExtensionSettings, add func(*hcmv3.HttpFilter, error))) ([]*hcmv3.HttpFilter, error) {
	var out []*hcmv3.HttpFilter
	var firstErr error
	seen := map[*hcmv3.HttpFilter]bool{}
	add := func(f *hcmv3.HttpFilter, err error) {
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	var last *ir.ExtensionSettings
	h.routes(func(r *ir.HTTPRoute) bool {
		// Routes of one policy share their settings: skip repeats cheaply.
		if r.Extensions == nil || r.Extensions == last {
			return true
		}
		last = r.Extensions
		pick(r.Extensions, add)
		return firstErr == nil
	})
	return out, firstErr
}

// enableOnRoute enables the filter name on route out, with cfg as its
// per-route configuration, or none (nil).
func (b *builder) enableOnRoute(out *routev3.Route, name string, cfg proto.Message) error {
	st := b.extState()
	var a *anypb.Any
	if cfg == nil {
		if st.enable == nil {
			var err error
			if st.enable, err = toAny(&routev3.FilterConfig{Config: &anypb.Any{}}); err != nil {
				return err
			}
		}
		a = st.enable
	} else {
		var err error
		if a, err = toAny(cfg); err != nil {
			return err
		}
	}
	if out.TypedPerFilterConfig == nil {
		out.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	if _, dup := out.TypedPerFilterConfig[name]; dup {
		return fmt.Errorf("filter %q enabled twice on route %q", name, out.GetName())
	}
	out.TypedPerFilterConfig[name] = a
	return nil
}

// asyncSource is where Envoy loads a module from.
func asyncSource(c *ir.ExtensionCode) (*corev3.AsyncDataSource, error) {
	switch {
	case c == nil:
		return nil, fmt.Errorf("no code")
	case c.Remote != nil:
		return &corev3.AsyncDataSource{Specifier: &corev3.AsyncDataSource_Remote{Remote: &corev3.RemoteDataSource{
			HttpUri: &corev3.HttpUri{
				Uri:              c.Remote.URL,
				HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: c.Remote.Cluster},
				Timeout:          durationpb.New(extServiceTimeout),
			},
			Sha256: c.Remote.SHA256,
			// Envoy retries a failed fetch once by default and then keeps
			// the filter failed until the next configuration: retry for
			// longer, as Envoy Gateway does.
			RetryPolicy: &corev3.RetryPolicy{
				NumRetries: b32(10),
				RetryBackOff: &corev3.BackoffStrategy{
					BaseInterval: durationpb.New(time.Second),
					MaxInterval:  durationpb.New(30 * time.Second),
				},
			},
		}}}, nil
	case c.Local != "":
		return &corev3.AsyncDataSource{Specifier: &corev3.AsyncDataSource_Local{Local: &corev3.DataSource{
			Specifier: &corev3.DataSource_Filename{Filename: c.Local}}}}, nil
	case len(c.Inline) > 0:
		return &corev3.AsyncDataSource{Specifier: &corev3.AsyncDataSource_Local{Local: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineBytes{InlineBytes: c.Inline}}}}, nil
	}
	return nil, fmt.Errorf("no code source")
}

// remoteCluster adds, once, the cluster Envoy fetches remote code through:
// STATIC for an IP, STRICT_DNS for a name, TLS for https (SNI the host,
// trusting the given CA, else the system's).
func (b *builder) remoteCluster(rs *ir.RemoteSource) error {
	if rs == nil {
		return nil
	}
	st := b.extState()
	if prev, ok := st.remote[rs.Cluster]; ok {
		if prev.Host != rs.Host || prev.Port != rs.Port || prev.TLS != rs.TLS || prev.CACertificate != rs.CACertificate {
			return fmt.Errorf("cluster %q: two different fetch targets under one name", rs.Cluster)
		}
		return nil
	}
	if _, taken := b.clusters[rs.Cluster]; taken {
		return fmt.Errorf("cluster %q: the name is already used by another cluster", rs.Cluster)
	}
	st.remote[rs.Cluster] = rs
	typ := clusterv3.Cluster_STRICT_DNS
	if isIP(rs.Host) {
		typ = clusterv3.Cluster_STATIC
	}
	c := &clusterv3.Cluster{
		Name:                 rs.Cluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: typ},
		ConnectTimeout:       durationpb.New(clusterConnectTimeout),
		DnsLookupFamily:      clusterv3.Cluster_V4_PREFERRED,
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: rs.Cluster,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(rs.Host, rs.Port)}},
			}}}},
		},
	}
	if rs.TLS {
		// The chain must be trusted and name the host: without a SAN
		// matcher Envoy would accept any trusted certificate.
		san := &tlsv3.SubjectAltNameMatcher{SanType: tlsv3.SubjectAltNameMatcher_DNS,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: rs.Host}}}
		if isIP(rs.Host) {
			san.SanType = tlsv3.SubjectAltNameMatcher_IP_ADDRESS
		}
		vc := &tlsv3.CertificateValidationContext{
			TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: SystemCABundle}},
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san},
		}
		if len(rs.CACertificate) > 0 {
			vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: rs.CACertificate}}
		}
		a, err := toAny(&tlsv3.UpstreamTlsContext{
			Sni: rs.Host,
			CommonTlsContext: &tlsv3.CommonTlsContext{
				// TLS 1.3 allowed, as Envoy Gateway does (Envoy's
				// automatic maximum for upstreams is 1.2).
				TlsParams:             &tlsv3.TlsParameters{TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3},
				ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc},
			},
		})
		if err != nil {
			return err
		}
		c.TransportSocket = &corev3.TransportSocket{Name: tlsTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}
	}
	b.clusters[rs.Cluster] = c
	return nil
}
