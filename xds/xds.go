package xds

import (
	"errors"
	"fmt"
	"sort"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

// Resources is the xDS of one proxy. Every slice is sorted by name.
type Resources struct {
	// Name is the proxy name, "namespace/gateway".
	Name      string
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret

	// secretContext are ext-auth context extension values read from
	// Secrets: redacted in dumps like secrets are (extauth.go).
	secretContext map[string]bool
	// PatchResults say how each EnvoyPatchPolicy of the proxy applied
	// (patch.go); translate.Result.RecordPatchResults turns them into status.
	PatchResults []ir.PatchResult
	// settings are the proxy's EnvoyProxy settings, for the bootstrap;
	// bootClusters the clusters that live in the bootstrap, not in CDS
	// (stat sinks). See bootstrap_envoyproxy.go.
	settings     *ir.ProxySettings
	bootClusters []*clusterv3.Cluster
}

// validator is what every generated Envoy message implements (protoc-gen-validate).
type validator interface {
	ValidateAll() error
}

// Translate builds the xDS resources of every proxy in cfg, in cfg's proxy
// order. Every resource passes ValidateAll; an error names the proxy, the
// resource and the field.
func Translate(cfg *ir.Config) ([]*Resources, error) {
	if cfg == nil {
		return nil, errors.New("xds: nil ir.Config")
	}
	out := make([]*Resources, 0, len(cfg.Proxies))
	for i, p := range cfg.Proxies {
		if p == nil {
			return nil, fmt.Errorf("xds: Proxies[%d] is nil", i)
		}
		r, err := translateProxy(p)
		if err != nil {
			return nil, fmt.Errorf("xds: proxy %s: %w", p.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// builder accumulates the resources of one proxy, deduplicating clusters,
// endpoints and secrets shared by several routes or listeners.
type builder struct {
	res       *Resources
	clusters  map[string]*clusterv3.Cluster
	endpoints map[string]*endpointv3.ClusterLoadAssignment
	secrets   map[string]*tlsv3.Secret
	// Pieces built once per proxy and shared, read-only, by many resources
	// (see metadata.go, endpoint.go, cluster.go). Nothing modifies a
	// resource after it is built; code that needs a changed copy (static
	// bootstraps, redacted dumps) deep-clones first.
	lbPolicy       *clusterv3.LoadBalancingPolicy
	connectTimeout *durationpb.Duration
	// durations: sharedDuration's values (duration_shared.go).
	durations     map[time.Duration]*durationpb.Duration
	bufferLimit   *wrapperspb.UInt32Value
	edsSource     *corev3.ConfigSource
	h2Options     *anyMsg
	failoverOD    *clusterv3.OutlierDetection // failover.go
	sessions      map[sessionKey]*anyMsg      // sessionpersistence.go
	websocket     []*routev3.RouteAction_UpgradeConfig
	metadataCache map[ir.Metadata]*corev3.Metadata
	// policyMetaCache: route metadata naming a policy (metadata.go).
	policyMetaCache map[[2]ir.Metadata]*corev3.Metadata
	// policyValues: the "policies" value of that metadata, per policy.
	policyValues map[ir.Metadata]*structpb.Value
	recentMeta   [4]recentMetadata
	recentNext   int
	hosts        map[hostsKey][]*endpointv3.LbEndpoint
	weights      map[uint32]*wrapperspb.UInt32Value
	// secure is set while building the routes of an HTTPS entry, and
	// listener is the IR listener whose routes are being built.
	secure   bool
	listener *ir.HTTPListener
	// rateLimit holds what the rate limit features build once per proxy
	// (ratelimit.go).
	rateLimit rateLimitCache
	// proxy is the IR proxy being built.
	proxy  *ir.Proxy
	router *anyMsg
	// servedBy records which IR listeners each Envoy listener serves
	// (features.go: patchListener).
	servedBy map[*listenerv3.Listener]*servedBy
	// auth caches what the OIDC and ext-auth features share (oidc.go).
	auth *authCache
	// ext is what EnvoyExtensionPolicy's filters share (extension.go).
	ext *extBuild
	// featState is what features keep per proxy (features.go: featureState).
	featState map[string]any
	// ep is what the proxy's EnvoyProxy settings build once (envoyproxy.go).
	ep *proxyState
}

func translateProxy(p *ir.Proxy) (*Resources, error) {
	b := &builder{
		proxy:     p,
		res:       &Resources{Name: p.Name, settings: p.Settings},
		clusters:  map[string]*clusterv3.Cluster{},
		endpoints: map[string]*endpointv3.ClusterLoadAssignment{},
		secrets:   map[string]*tlsv3.Secret{},
	}
	if err := b.buildListeners(p.HTTP); err != nil {
		return nil, err
	}
	if err := b.buildL4(p); err != nil { // tcp.go, udp.go
		return nil, err
	}
	for _, l := range b.res.Listeners {
		s := b.served(l)
		if err := b.patchListenerFeatures(l, s.http, s.tcp, s.udp); err != nil {
			return nil, err
		}
	}
	if err := b.resourceFeatures(p); err != nil { // features.go
		return nil, err
	}
	for _, c := range b.clusters {
		b.res.Clusters = append(b.res.Clusters, c)
	}
	for _, e := range b.endpoints {
		b.res.Endpoints = append(b.res.Endpoints, e)
	}
	for _, s := range b.secrets {
		b.res.Secrets = append(b.res.Secrets, s)
	}
	sortResources(b.res)
	if err := b.applyDefaults(p); err != nil { // defaults.go
		return nil, err
	}
	if len(finishers) > 0 {
		if err := b.finishFeatures(p); err != nil { // features.go
			return nil, err
		}
		sortResources(b.res)
	}
	if err := validateResources(b.res); err != nil {
		return nil, nameInvalidRoute(p, err)
	}
	return b.res, nil
}

func sortResources(r *Resources) {
	sort.Slice(r.Listeners, func(i, j int) bool { return r.Listeners[i].GetName() < r.Listeners[j].GetName() })
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].GetName() < r.Routes[j].GetName() })
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].GetName() < r.Clusters[j].GetName() })
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].GetClusterName() < r.Endpoints[j].GetClusterName() })
	sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].GetName() < r.Secrets[j].GetName() })
}

// validateResources runs protoc-gen-validate on everything, so a bad IR value
// is reported here, by resource name, rather than by Envoy at load time.
// Each resource is validated once: a route configuration's check covers its
// routes (validation is 40% of Translate at scale, so routes are not also
// checked one by one; nameInvalidRoute finds the culprit only on failure).
func validateResources(r *Resources) error {
	check := func(kind, name string, m validator) error {
		if err := m.ValidateAll(); err != nil {
			return fmt.Errorf("%s %q: %w", kind, name, err)
		}
		return nil
	}
	for _, l := range r.Listeners {
		if err := check("listener", l.GetName(), l); err != nil {
			return err
		}
	}
	for _, rc := range r.Routes {
		if err := rc.ValidateAll(); err != nil {
			return &routeConfigError{rc: rc, err: err}
		}
	}
	for _, c := range r.Clusters {
		if err := check("cluster", c.GetName(), c); err != nil {
			return err
		}
	}
	for _, e := range r.Endpoints {
		if err := check("cluster load assignment", e.GetClusterName(), e); err != nil {
			return err
		}
	}
	for _, s := range r.Secrets {
		if err := check("secret", s.GetName(), s); err != nil {
			return err
		}
	}
	return nil
}

// routeConfigError is a failed check of a whole route configuration; it
// lets nameInvalidRoute find which one without parsing messages.
type routeConfigError struct {
	rc  *routev3.RouteConfiguration
	err error
}

func (e *routeConfigError) Error() string {
	return fmt.Sprintf("route configuration %q: %v", e.rc.GetName(), e.err)
}

func (e *routeConfigError) Unwrap() error { return e.err }

// nameInvalidRoute narrows a failed route configuration check down to the
// first invalid route of an IR virtual host, so the error names the
// listener, virtual host and route (as an error found while building
// does). Anything else, or a failure outside the routes, is returned as is.
func nameInvalidRoute(p *ir.Proxy, err error) error {
	var rce *routeConfigError
	if !errors.As(err, &rce) {
		return err
	}
	listenerOf := map[string]string{}
	for _, e := range p.HTTP {
		if e == nil {
			continue
		}
		for _, vh := range e.VirtualHosts {
			if vh == nil {
				continue
			}
			if _, ok := listenerOf[vh.Name]; !ok {
				listenerOf[vh.Name] = e.Name
			}
		}
	}
	for _, vh := range rce.rc.GetVirtualHosts() {
		listener, ok := listenerOf[vh.GetName()]
		if !ok {
			continue // added by xds itself (misdirected.go), not from the IR
		}
		for _, route := range vh.GetRoutes() {
			if rerr := route.ValidateAll(); rerr != nil {
				return fmt.Errorf("listener %q: virtual host %q: route %q: %w", listener, vh.GetName(), route.GetName(), rerr)
			}
		}
	}
	return err
}
