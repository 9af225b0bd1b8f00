package translate

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/ir"
)

// Destinations with BackendTrafficPolicy cluster settings.
//
// A rule's destination (cluster httproute/ns/name/rule/I) is shared by every
// listener and hostname the route serves. When the route is reached through
// listeners whose policies ask for different cluster settings, one Envoy
// cluster cannot honour both. Envoy Gateway builds the cluster once and
// silently gives every listener the first one's settings; egctl keeps the
// Envoy Gateway name for the first variant (in listener order) and names
// each further one <name>/variant/<k>, and says so in the policies' status.

// destination returns orig with cluster settings cs and backends routed as
// en's routingType says, one shared copy per combination.
func (t *btpTranslator) destination(en *btpEntry, orig *ir.RouteDestination, cs *ir.ClusterSettings) (*ir.RouteDestination, error) {
	if en.dests == nil {
		en.dests = map[string]bool{}
	}
	en.dests[orig.Name] = true
	routing := en.routing
	k := destKey{orig: orig, cluster: cs}
	if routing != nil {
		k.routing = *routing
	}
	if d, ok := t.dests[k]; ok {
		return d, nil
	}
	d := *orig
	d.Cluster = cs
	if routing != nil {
		backends, err := t.b.routeBackends(orig.Backends, *routing)
		if err != nil {
			return nil, err
		}
		d.Backends = backends
	}
	t.dests[k] = &d
	return &d, nil
}

// routeBackends re-resolves the endpoints of Service backends: the cluster
// IP for routingType Service, the EndpointSlices' endpoints for Endpoint.
// Other backends (Envoy Gateway Backends, ExternalName Services) have one
// way to be reached and are kept.
func (b *builder) routeBackends(in []*ir.Backend, routing egv1a1.RoutingType) ([]*ir.Backend, error) {
	out := make([]*ir.Backend, len(in))
	for i, be := range in {
		out[i] = be
		md := be.Metadata
		if md == nil || md.Kind != "Service" || be.AddressType != ir.AddressIP {
			continue
		}
		svc := b.services[nsName{md.Namespace, md.Name}]
		port, err := strconv.Atoi(md.SectionName)
		if svc == nil || err != nil {
			continue
		}
		var sp *corev1.ServicePort
		for j := range svc.Spec.Ports {
			if int(svc.Spec.Ports[j].Port) == port {
				sp = &svc.Spec.Ports[j]
				break
			}
		}
		if sp == nil {
			continue
		}
		cp := *be
		switch routing {
		case egv1a1.ServiceRoutingType:
			ip := svc.Spec.ClusterIP
			if ip == "" || ip == corev1.ClusterIPNone || !endpointIP(ip) {
				return nil, fmt.Errorf("spec.routingType Service: Service %s/%s has no cluster IP to route to", md.Namespace, md.Name)
			}
			cp.Endpoints = []ir.Endpoint{{Host: ip, Port: uint32(sp.Port)}}
		case egv1a1.EndpointRoutingType:
			cp.Endpoints = b.serviceEndpoints(svc, sp)
		}
		out[i] = &cp
	}
	return out, nil
}

// needsRouteHost: an HTTP health check without a hostname sends the route's
// hostname, as Envoy Gateway does.
func needsRouteHost(cs *ir.ClusterSettings) bool {
	return cs != nil && cs.HealthCheck != nil && cs.HealthCheck.Active != nil &&
		cs.HealthCheck.Active.Type == ir.HealthCheckHTTP && cs.HealthCheck.Active.Host == ""
}

// hostVariant returns en's cluster settings with the health check Host set
// to the first route host seen for this destination on this proxy.
func (t *btpTranslator) hostVariant(en *btpEntry, gw nsName, dest, host string) *ir.ClusterSettings {
	k := hcHostKey{gw: gw, dest: dest, en: en}
	if cs, ok := t.hcHosts[k]; ok {
		return cs
	}
	if en.hostVariants == nil {
		en.hostVariants = map[string]*ir.ClusterSettings{}
	}
	cs, ok := en.hostVariants[host]
	if !ok {
		c := *en.cluster
		hc := *c.HealthCheck
		a := *hc.Active
		a.Host = host
		hc.Active = &a
		c.HealthCheck = &hc
		cs = intern(&t.intern, "cluster", &c)
		en.hostVariants[host] = cs
	}
	t.hcHosts[k] = cs
	return cs
}

// routeHost reads the hostname back from an IR route name
// ("…/match/J/www_example_com"): hostnames have no underscores, so the
// mapping is exact.
func routeHost(name string) string {
	i := strings.LastIndexByte(name, '/')
	return strings.ReplaceAll(name[i+1:], "_", ".")
}

// variant is one distinct destination sharing a name.
type variant struct {
	d     *ir.RouteDestination
	where []string // listeners that reach it, in order
	sets  []*ir.RouteDestination
}

// splitClusters names apart destinations that share a name but not their
// settings, per proxy. The common case (nothing to split) costs one map
// entry per destination name.
func (t *btpTranslator) splitClusters(cfg *ir.Config) {
	for _, px := range cfg.Proxies {
		if !mayBeSplit(px) {
			continue
		}
		byName := map[string][]*variant{}
		var names []string
		split := false
		// find records d, reached through listener l, under its variant.
		find := func(d *ir.RouteDestination, l string) {
			vs := byName[d.Name]
			for _, v := range vs {
				if v.d == d {
					v.where = appendOnce(v.where, l)
					return
				}
			}
			for _, v := range vs {
				if reflect.DeepEqual(v.d.Cluster, d.Cluster) && reflect.DeepEqual(v.d.Backends, d.Backends) {
					v.sets = append(v.sets, d)
					v.where = appendOnce(v.where, l)
					return
				}
			}
			if len(vs) == 0 {
				names = append(names, d.Name)
			} else {
				split = true
			}
			byName[d.Name] = append(vs, &variant{d: d, where: []string{l}})
		}
		walkDestinations(px, func(d **ir.RouteDestination, l string) { find(*d, l) })
		if !split {
			continue
		}
		renamed := map[*ir.RouteDestination]*ir.RouteDestination{}
		for _, name := range names {
			vs := byName[name]
			if len(vs) < 2 {
				continue
			}
			var parts []string
			for k, v := range vs {
				n, nd := name, v.d
				if k > 0 {
					n = fmt.Sprintf("%s/variant/%d", name, k)
					nd = renameDestination(v.d, n)
					renamed[v.d] = nd
				}
				for _, o := range v.sets {
					renamed[o] = nd
				}
				parts = append(parts, fmt.Sprintf("%s (listener %s)", n, strings.Join(v.where, ", ")))
			}
			t.warnSplit(name, parts)
		}
		walkDestinations(px, func(d **ir.RouteDestination, _ string) {
			if nd, ok := renamed[*d]; ok {
				*d = nd
			}
		})
	}
}

// mayBeSplit is the cheap first look: does any destination name come with
// two destinations whose settings differ? Most proxies have none, and then
// splitClusters has nothing to record.
func mayBeSplit(px *ir.Proxy) bool {
	first := map[string]*ir.RouteDestination{}
	split := false
	walkDestinations(px, func(dp **ir.RouteDestination, _ string) {
		d := *dp
		f, ok := first[d.Name]
		switch {
		case !ok:
			first[d.Name] = d
		case f != d && !split:
			split = !reflect.DeepEqual(f.Cluster, d.Cluster) || !reflect.DeepEqual(f.Backends, d.Backends)
		}
	})
	return split
}

// walkDestinations calls fn with every route destination of px (a pointer
// to the route's field) and the listener it is reached through.
// A destination whose every backend went to a shared cluster
// (mergebackends.go) has no cluster of its own and is left out.
func walkDestinations(px *ir.Proxy, fn func(d **ir.RouteDestination, listener string)) {
	for _, l := range px.HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Destination != nil && !r.Destination.AllMerged() {
					fn(&r.Destination, l.Name)
				}
			}
		}
	}
	for _, l := range px.TCP {
		for _, r := range l.Routes {
			if r.Destination != nil && !r.Destination.AllMerged() {
				fn(&r.Destination, l.Name)
			}
		}
	}
	for _, l := range px.UDP {
		if r := l.Route; r != nil && r.Destination != nil && !r.Destination.AllMerged() {
			fn(&r.Destination, l.Name)
		}
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// renameDestination copies d under a new cluster name; backends named
// after the destination follow.
func renameDestination(d *ir.RouteDestination, name string) *ir.RouteDestination {
	nd := *d
	nd.Name = name
	nd.Backends = make([]*ir.Backend, len(d.Backends))
	for i, be := range d.Backends {
		cp := *be
		if strings.HasPrefix(cp.Name, d.Name+"/") {
			cp.Name = name + cp.Name[len(d.Name):]
		}
		nd.Backends[i] = &cp
	}
	return &nd
}

// warnSplit tells every policy whose settings reach the split destination.
func (t *btpTranslator) warnSplit(name string, parts []string) {
	msg := fmt.Sprintf("cluster %s is reached through listeners with different BackendTrafficPolicy cluster settings; it is split into %s",
		name, strings.Join(parts, ", "))
	var keys []btpKey
	for k := range t.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].policy.order < keys[j].policy.order })
	for _, k := range keys {
		en := t.entries[k]
		if en.err != nil || !t.reaches(en, name) {
			continue
		}
		for _, cs := range k.policy.st.scopes {
			t.warn(effective{policy: k.policy, at: cs.s}, msg)
		}
	}
}

// reaches reports whether en gave settings to a destination of that name.
func (t *btpTranslator) reaches(en *btpEntry, name string) bool {
	return en.dests[name]
}
