package translate

import (
	"fmt"
	"slices"
	"sort"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// mergeGateways (EnvoyProxy of a GatewayClass): every Gateway of the class
// is served by one Envoy, named after the class as Envoy Gateway names it.
// Their listeners then share ports, so a listener that another Gateway of
// the class already has on its port, with the same hostname or another
// protocol, is Conflicted; the Gateway read first keeps it (Envoy Gateway
// keeps the first too).

// mergedClass returns the class name when g's class merges its Gateways.
func (b *builder) mergedClass(g *gatewayState) (string, bool) {
	if b.ep == nil {
		return "", false
	}
	cls := string(g.gw.Spec.GatewayClassName)
	ep := b.ep.class[cls]
	if ep == nil || ep.Spec.MergeGateways == nil || !*ep.Spec.MergeGateways {
		return "", false
	}
	return cls, true
}

// markMergedConflicts marks the listeners that collide across the Gateways
// of a merging class, before routes attach.
func (b *builder) markMergedConflicts() {
	type portKey struct {
		class string
		port  int32
		udp   bool
	}
	taken := map[portKey][]*listenerState{}
	for _, g := range b.gwOrder {
		cls, ok := b.mergedClass(g)
		if !ok || !g.accepted {
			continue
		}
		// Within one Gateway, conflicts are already settled; only earlier
		// Gateways' listeners count against this one's.
		mine := map[portKey][]*listenerState{}
		for _, l := range slices.Concat(g.listeners, g.setListeners) {
			if !l.ready {
				continue
			}
			k := portKey{cls, l.spec.Port, l.spec.Protocol == gwv1.UDPProtocolType}
			conflict := ""
			for _, o := range taken[k] {
				switch {
				case portProtocol(o) != portProtocol(l):
					conflict = "ProtocolConflict"
				case o.host == l.host:
					conflict = "HostnameConflict"
				default:
					continue
				}
				l.conflicted, l.ready = true, false
				l.cond.set("Conflicted", true, conflict, fmt.Sprintf("port %d: listener %s of Gateway %s, merged into the same proxy (mergeGateways), already uses it with %s",
					l.spec.Port, o.spec.Name, o.gw.key(), map[string]string{"ProtocolConflict": "another protocol", "HostnameConflict": fmt.Sprintf("hostname %q", domain(l.host))}[conflict]))
				l.cond.set("Programmed", false, "Invalid", "Listener is invalid; see its other conditions")
				break
			}
			if conflict == "" {
				mine[k] = append(mine[k], l)
				continue
			}
			if pg := g.ports[l.spec.Port]; pg != nil {
				pg.listeners = slices.DeleteFunc(pg.listeners, func(x *listenerState) bool { return x == l })
			}
		}
		for k, ls := range mine {
			taken[k] = append(taken[k], ls...)
		}
		if !slices.ContainsFunc(slices.Concat(g.listeners, g.setListeners), func(l *listenerState) bool { return l.ready }) {
			g.cond.set("Programmed", false, "Invalid", "No listener could be programmed")
		}
	}
}

// mergeGatewayProxies replaces the proxies of the Gateways of each merging
// class by one proxy named after the class, whose listeners are theirs, by
// port then in Gateway order.
func (b *builder) mergeGatewayProxies(ps []*ir.Proxy) []*ir.Proxy {
	if b.ep == nil {
		return ps
	}
	merged := map[string]*ir.Proxy{}
	byProxy := map[*ir.Proxy]string{}
	for _, g := range b.gwOrder {
		if g.proxy == nil {
			continue
		}
		cls, ok := b.mergedClass(g)
		if !ok {
			continue
		}
		byProxy[g.proxy] = cls
		m := merged[cls]
		if m == nil {
			m = &ir.Proxy{Name: cls}
			if cfg := g.ep; cfg != nil {
				m.Settings = cfg.settingsFor(cls)
				m.FilterOrder = cfg.filterOrder
			}
			merged[cls] = m
		}
		m.HTTP = append(m.HTTP, g.proxy.HTTP...)
		m.TCP = append(m.TCP, g.proxy.TCP...)
		m.UDP = append(m.UDP, g.proxy.UDP...)
		m.Patches = append(m.Patches, g.proxy.Patches...)
	}
	if len(merged) == 0 {
		return ps
	}
	out := make([]*ir.Proxy, 0, len(ps))
	for _, p := range ps {
		if _, ok := byProxy[p]; !ok {
			out = append(out, p)
		}
	}
	// From here on each merged Gateway's proxy is the shared one, so what
	// still applies per Gateway (EnvoyPatchPolicy on the class) reaches it.
	for _, g := range b.gwOrder {
		if cls, ok := byProxy[g.proxy]; ok {
			g.proxy = merged[cls]
		}
	}
	for _, m := range merged {
		sort.SliceStable(m.HTTP, func(i, j int) bool { return m.HTTP[i].Port < m.HTTP[j].Port })
		sort.SliceStable(m.TCP, func(i, j int) bool { return m.TCP[i].Port < m.TCP[j].Port })
		sort.SliceStable(m.UDP, func(i, j int) bool { return m.UDP[i].Port < m.UDP[j].Port })
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
