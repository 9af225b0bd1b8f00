package xds

import (
	"container/list"
	"fmt"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"

	"github.com/egctl/egctl/ir"
)

// A feature is one thing the IR can ask of Envoy beyond plain routing —
// usually one HTTP filter (JWT, ext_authz, rate limits, compression …),
// sometimes settings on the HCM, the listener or the clusters. Each lives in
// its own file and registers here; the builders walk the list and no
// feature knows another. Every hook is optional.
type feature struct {
	// name identifies the feature in errors: its filter type name where it
	// has one ("envoy.filters.http.jwt_authn").
	name string

	// httpFilters returns the HTTP filters an HCM needs for the routes it
	// serves, none when no route asks for the feature. Filter names are
	// the filter type, or "<type>/<suffix>" where one HCM holds several of
	// one type (one ext_authz per SecurityPolicy, …); sortHTTPFilters
	// orders them by type.
	httpFilters func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error)
	// patchHCM sets HCM fields (timeouts, headers, …) for the listeners
	// the HCM serves.
	patchHCM func(b *builder, h *hcmBuild, mgr *hcmv3.HttpConnectionManager) error
	// patchRoute changes one Envoy route built from r: per-filter
	// configuration, retry and hash policies, …
	patchRoute func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error
	// patchTCPRoute changes the tcp_proxy of a TCP/TLS route and returns
	// network filters to run before it (RBAC, rate limits, …).
	patchTCPRoute func(b *builder, e *ir.TCPListener, r *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error)
	// patchUDPRoute changes the udp_proxy of a UDP route.
	patchUDPRoute func(b *builder, e *ir.UDPListener, r *ir.UDPRoute, up *udpproxyv3.UdpProxyConfig) error
	// patchCluster changes a cluster built for destination d (backends are
	// the ones the cluster balances over).
	patchCluster func(b *builder, d *ir.RouteDestination, backends []*ir.Backend, c *clusterv3.Cluster) error
	// patchListener changes a finished Envoy listener and is told which IR
	// listeners it serves (any of the slices may be empty).
	patchListener func(b *builder, l *listenerv3.Listener, http []*ir.HTTPListener, tcp []*ir.TCPListener, udp []*ir.UDPListener) error
	// resources runs once per proxy after listeners and routes are built:
	// what the feature adds once (shared clusters, secrets) goes into the
	// builder's maps (b.clusters, b.endpoints, b.secrets).
	resources func(b *builder, p *ir.Proxy) error
	// finish runs once per proxy over the finished, sorted b.res, before
	// validation: last passes over the whole set (EnvoyPatchPolicy).
	finish func(b *builder, p *ir.Proxy) error
	// staticRoutes changes a route configuration (a copy) inlined into a
	// static bootstrap: SDS references the feature put in per-route
	// configuration become references to static secrets.
	staticRoutes func(rc *routev3.RouteConfiguration) error
	// staticHTTPFilter changes an HCM's HTTP filter (a copy) for a static
	// bootstrap: SDS references in its configuration become references to
	// the bootstrap's static secrets.
	staticHTTPFilter func(f *hcmv3.HttpFilter) error
}

var features, finishers []*feature

// register adds f; files register in init, so the order is the file order
// of the package and deterministic.
func register(f *feature) {
	for _, o := range features {
		if o.name == f.name {
			panic("xds: feature registered twice: " + f.name)
		}
	}
	features = append(features, f)
	if f.finish != nil {
		finishers = append(finishers, f)
	}
}

// hcmBuild is what an HCM is built for: the IR listeners it serves (several
// plain HTTP listeners share one HCM on a port; an HTTPS listener has its
// own) and the proxy they belong to.
type hcmBuild struct {
	proxy      *ir.Proxy
	listeners  []*ir.HTTPListener
	statPrefix string
	routeName  string // the route configuration's name
	secure     bool
	// quic: the HCM of an HTTP/3 (QUIC) listener (client_http3.go).
	quic bool
}

// routes calls fn for every IR route the HCM serves, stopping at the first
// false.
func (h *hcmBuild) routes(fn func(r *ir.HTTPRoute) bool) {
	for _, l := range h.listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if !fn(r) {
					return
				}
			}
		}
	}
}

// anyRoute reports whether some route the HCM serves satisfies pred.
func (h *hcmBuild) anyRoute(pred func(r *ir.HTTPRoute) bool) bool {
	found := false
	h.routes(func(r *ir.HTTPRoute) bool {
		found = pred(r)
		return !found
	})
	return found
}

// httpFilterOrder is the default position of a filter type in the HCM, as
// Envoy Gateway orders them: local replies first (custom response), then
// health checks, early rejections (fault, CORS, CSRF), header mutation,
// authentication and authorization, extensions, rate limits, transforms of
// the response, and the router last. Several filters of one extension type
// keep their relative order (the index suffix). Unknown types sit at 50.
func httpFilterOrder(name string) int {
	typ, idx := filterTypeAndIndex(name)
	switch typ {
	case "envoy.filters.http.custom_response":
		return 0
	case "envoy.filters.http.health_check":
		return 1
	case "envoy.filters.http.fault":
		return 2
	case corsFilterName:
		return 3
	case "envoy.filters.http.csrf":
		return 4
	case "envoy.filters.http.header_mutation":
		return 5
	case "envoy.filters.http.ext_authz":
		return 6
	case "envoy.filters.http.api_key_auth":
		return 7
	case "envoy.filters.http.basic_auth":
		return 8
	case "envoy.filters.http.oauth2":
		return 9
	case "envoy.filters.http.jwt_authn":
		return 10
	case "envoy.filters.http.stateful_session":
		return 11
	case "envoy.filters.http.buffer":
		return 12
	case "envoy.filters.http.lua":
		return 13 + idx
	case "envoy.filters.http.ext_proc":
		return 100 + idx
	case "envoy.filters.http.wasm":
		return 200 + idx
	case "envoy.filters.http.dynamic_modules":
		return 250 + idx
	case "envoy.filters.http.geoip":
		return 300
	case "envoy.filters.http.rbac":
		return 301
	case "envoy.filters.http.local_ratelimit":
		return 302
	case "envoy.filters.http.ratelimit":
		return 303
	case "envoy.filters.http.bandwidth_limit":
		return 304
	case "envoy.filters.http.grpc_web":
		return 305
	case "envoy.filters.http.grpc_stats":
		return 306
	case "envoy.filters.http.credential_injector":
		return 307
	case compressorFilterName:
		return 308
	case "envoy.filters.http.dynamic_forward_proxy":
		return 309
	case routerFilterName:
		return 310
	}
	return 50
}

// filterTypeAndIndex splits "envoy.filters.http.lua/envoyextensionpolicy/ns/name/idx/2"
// style names into the type and, for the extension types whose filters are
// numbered, the trailing index.
func filterTypeAndIndex(name string) (string, int) {
	typ, rest, ok := strings.Cut(name, "/")
	// Compressors are named after their library, as Envoy Gateway names
	// them: envoy.filters.http.compressor.gzip (compressor.go).
	if strings.HasPrefix(typ, compressorFilterName+".") {
		typ = compressorFilterName
	}
	if !ok {
		return typ, 0
	}
	idx := 0
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		fmt.Sscanf(rest[i+1:], "%d", &idx)
	}
	return typ, idx
}

func isFilterType(f *hcmv3.HttpFilter, typ string) bool {
	n := f.GetName()
	if typ == compressorFilterName && strings.HasPrefix(n, typ+".") {
		return true
	}
	return n == typ || strings.HasPrefix(n, typ+"/")
}

// sortHTTPFilters puts filters in their default order (ties by name, so
// the order is stable and listeners are not drained for nothing), then
// applies the proxy's filterOrder: every filter of a named type moves before
// the first filter of its Before type, or after the last of its After type.
func sortHTTPFilters(filters []*hcmv3.HttpFilter, order []ir.FilterPosition) []*hcmv3.HttpFilter {
	sort.SliceStable(filters, func(i, j int) bool {
		oi, oj := httpFilterOrder(filters[i].GetName()), httpFilterOrder(filters[j].GetName())
		if oi != oj {
			return oi < oj
		}
		return filters[i].GetName() < filters[j].GetName()
	})
	if len(order) == 0 {
		return filters
	}
	l := list.New()
	for _, f := range filters {
		l.PushBack(f)
	}
	for _, pos := range order {
		var mine []*list.Element
		for e := l.Front(); e != nil; e = e.Next() {
			if isFilterType(e.Value.(*hcmv3.HttpFilter), pos.Name) {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			continue
		}
		switch {
		case pos.Before != "":
			for e := l.Front(); e != nil; e = e.Next() {
				if isFilterType(e.Value.(*hcmv3.HttpFilter), pos.Before) {
					for _, m := range mine {
						if m != e {
							l.MoveBefore(m, e)
						}
					}
					break
				}
			}
		case pos.After != "":
			var last *list.Element
			for e := l.Front(); e != nil; e = e.Next() {
				if isFilterType(e.Value.(*hcmv3.HttpFilter), pos.After) {
					last = e
				}
			}
			if last != nil {
				for i := len(mine) - 1; i >= 0; i-- {
					if mine[i] != last {
						l.MoveAfter(mine[i], last)
					}
				}
			}
		}
	}
	out := filters[:0]
	for e := l.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*hcmv3.HttpFilter))
	}
	return out
}

// featureHTTPFilters collects, orders and returns the HTTP filters of every
// feature for h, the router last.
func (b *builder) featureHTTPFilters(h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
	var out []*hcmv3.HttpFilter
	for _, f := range features {
		if f.httpFilters == nil {
			continue
		}
		fs, err := f.httpFilters(b, h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out = append(out, fs...)
	}
	router, err := b.routerFilter()
	if err != nil {
		return nil, err
	}
	out = append(out, router)
	var order []ir.FilterPosition
	if h.proxy != nil {
		order = h.proxy.FilterOrder
	}
	out = sortHTTPFilters(out, order)
	if out[len(out)-1] != router {
		return nil, fmt.Errorf("filterOrder moves %q after the router, which must be the last HTTP filter", out[len(out)-1].GetName())
	}
	return out, nil
}

func (b *builder) patchRouteFeatures(r *ir.HTTPRoute, out *routev3.Route) error {
	for _, f := range features {
		if f.patchRoute == nil {
			continue
		}
		if err := f.patchRoute(b, r, out); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func (b *builder) patchTCPRouteFeatures(e *ir.TCPListener, r *ir.TCPRoute, tp *tcpproxyv3.TcpProxy) ([]*listenerv3.Filter, error) {
	var out []*listenerv3.Filter
	for _, f := range features {
		if f.patchTCPRoute == nil {
			continue
		}
		fs, err := f.patchTCPRoute(b, e, r, tp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

func (b *builder) patchUDPRouteFeatures(e *ir.UDPListener, r *ir.UDPRoute, up *udpproxyv3.UdpProxyConfig) error {
	for _, f := range features {
		if f.patchUDPRoute == nil {
			continue
		}
		if err := f.patchUDPRoute(b, e, r, up); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func (b *builder) patchHCMFeatures(h *hcmBuild, mgr *hcmv3.HttpConnectionManager) error {
	for _, f := range features {
		if f.patchHCM == nil {
			continue
		}
		if err := f.patchHCM(b, h, mgr); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func (b *builder) patchClusterFeatures(d *ir.RouteDestination, backends []*ir.Backend, c *clusterv3.Cluster) error {
	for _, f := range features {
		if f.patchCluster == nil {
			continue
		}
		if err := f.patchCluster(b, d, backends, c); err != nil {
			return fmt.Errorf("cluster %q: %s: %w", c.GetName(), f.name, err)
		}
	}
	return nil
}

func (b *builder) patchListenerFeatures(l *listenerv3.Listener, http []*ir.HTTPListener, tcp []*ir.TCPListener, udp []*ir.UDPListener) error {
	for _, f := range features {
		if f.patchListener == nil {
			continue
		}
		if err := f.patchListener(b, l, http, tcp, udp); err != nil {
			return fmt.Errorf("listener %q: %s: %w", l.GetName(), f.name, err)
		}
	}
	return nil
}

func (b *builder) resourceFeatures(p *ir.Proxy) error {
	for _, f := range features {
		if f.resources == nil {
			continue
		}
		if err := f.resources(b, p); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// staticRouteFeatures prepares an inlined route configuration for a
// static bootstrap.
func staticRouteFeatures(rc *routev3.RouteConfiguration) error {
	for _, f := range features {
		if f.staticRoutes == nil {
			continue
		}
		if err := f.staticRoutes(rc); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func (b *builder) finishFeatures(p *ir.Proxy) error {
	for _, f := range finishers {
		if err := f.finish(b, p); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// featureState returns the per-proxy state a feature keeps between its
// hooks (configurations built once and shared by many routes), made by mk
// on first use. key is the feature's name.
func featureState[T any](b *builder, key string, mk func() *T) *T {
	if st, ok := b.featState[key].(*T); ok {
		return st
	}
	if b.featState == nil {
		b.featState = map[string]any{}
	}
	st := mk()
	b.featState[key] = st
	return st
}

// staticHTTPFilterFeatures prepares the HTTP filters of an HCM inlined into
// a static bootstrap.
func staticHTTPFilterFeatures(hcm *hcmv3.HttpConnectionManager) error {
	for _, f := range features {
		if f.staticHTTPFilter == nil {
			continue
		}
		for _, hf := range hcm.GetHttpFilters() {
			if err := f.staticHTTPFilter(hf); err != nil {
				return fmt.Errorf("%s: HTTP filter %q: %w", f.name, hf.GetName(), err)
			}
		}
	}
	return nil
}
