package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	"github.com/egctl/egctl/ir"
)

// HTTP/1 settings of a ClientTrafficPolicy that need the upstream side too:
// header case is only preserved if the cluster's codec writes (and reads
// back) headers with the recorded case, and trailers only pass if the
// cluster accepts them. As Envoy Gateway does, the clusters of every route
// of such a listener get them. A cluster shared with routes of listeners
// that did not ask keeps them as well: they only act on what the
// downstream side recorded or let through, so those listeners' traffic is
// unchanged.
func init() {
	register(&feature{name: "client.upstream-http1", resources: patchUpstreamHTTP1})
}

type upstreamHTTP1 struct{ trailers, preserveCase bool }

func patchUpstreamHTTP1(b *builder, p *ir.Proxy) error {
	want := map[string]upstreamHTTP1{}
	var names []string // in the order met, which is deterministic
	mark := func(d *ir.RouteDestination, u upstreamHTTP1) {
		if d == nil {
			return
		}
		one := func(n string) {
			if _, ok := b.clusters[n]; !ok {
				return
			}
			w, seen := want[n]
			if !seen {
				names = append(names, n)
			}
			w.trailers = w.trailers || u.trailers
			w.preserveCase = w.preserveCase || u.preserveCase
			want[n] = w
		}
		// The destination's cluster, or one per backend when it is split.
		one(d.Name)
		for _, be := range d.Backends {
			one(be.Name)
		}
	}
	for _, e := range p.HTTP {
		if e.Client == nil || e.Client.HTTP == nil || e.Client.HTTP.HTTP1 == nil {
			continue
		}
		h1 := e.Client.HTTP.HTTP1
		u := upstreamHTTP1{trailers: h1.EnableTrailers, preserveCase: h1.PreserveHeaderCase}
		if u == (upstreamHTTP1{}) {
			continue
		}
		for _, vh := range e.VirtualHosts {
			for _, r := range vh.Routes {
				mark(r.Destination, u)
				for _, m := range r.Mirrors {
					mark(m.Destination, u)
				}
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	// Most clusters have no protocol options yet: they share one built
	// options map per variant (nothing edits a built cluster's parts).
	plain := map[upstreamHTTP1]map[string]*anyMsg{}
	h1s := map[upstreamHTTP1]*corev3.Http1ProtocolOptions{}
	for _, n := range names {
		c := b.clusters[n]
		u := want[n]
		h1 := h1s[u]
		if h1 == nil {
			var err error
			if h1, err = http1Options(&ir.ClientHTTP1{EnableTrailers: u.trailers, PreserveHeaderCase: u.preserveCase}, false); err != nil { // client_hcm.go
				return err
			}
			h1s[u] = h1
		}
		existing := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]
		if len(c.GetTypedExtensionProtocolOptions()) == 0 {
			m := plain[u]
			if m == nil {
				a, err := toAny(&httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
					ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
						ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: h1},
					},
				}})
				if err != nil {
					return err
				}
				m = map[string]*anyMsg{httpProtocolOptionsKey: a}
				plain[u] = m
			}
			c.TypedExtensionProtocolOptions = m
			continue
		}
		opts := &httpv3.HttpProtocolOptions{}
		if existing != nil {
			if err := existing.UnmarshalTo(opts); err != nil {
				return fmt.Errorf("cluster %q: %w", n, err)
			}
		}
		// Merged into this cluster's own copy, never into the shared h1.
		h1 = cloneOf(h1)
		switch pc := opts.GetUpstreamProtocolOptions().(type) {
		case nil:
			opts.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: h1},
			}}
		case *httpv3.HttpProtocolOptions_ExplicitHttpConfig_:
			pc1, ok := pc.ExplicitHttpConfig.GetProtocolConfig().(*httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions)
			if !ok {
				continue // an HTTP/2 (or HTTP/3) cluster: no HTTP/1 codec
			}
			pc1.HttpProtocolOptions = mergeHTTP1(pc1.HttpProtocolOptions, h1)
		case *httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig:
			pc.UseDownstreamProtocolConfig.HttpProtocolOptions = mergeHTTP1(pc.UseDownstreamProtocolConfig.HttpProtocolOptions, h1)
		case *httpv3.HttpProtocolOptions_AutoConfig:
			pc.AutoConfig.HttpProtocolOptions = mergeHTTP1(pc.AutoConfig.HttpProtocolOptions, h1)
		}
		a, err := toAny(opts)
		if err != nil {
			return fmt.Errorf("cluster %q: %w", n, err)
		}
		setProtocolOptions(c, a)
	}
	return nil
}

// setProtocolOptions sets the cluster's HTTP protocol options. The map may
// be shared with other clusters: it is replaced, never edited.
func setProtocolOptions(c *clusterv3.Cluster, a *anyMsg) {
	m := make(map[string]*anyMsg, len(c.TypedExtensionProtocolOptions)+1)
	for k, v := range c.TypedExtensionProtocolOptions {
		m[k] = v
	}
	m[httpProtocolOptionsKey] = a
	c.TypedExtensionProtocolOptions = m
}

// mergeHTTP1 adds trailers and header case from add to what another
// feature set on the cluster.
func mergeHTTP1(have, add *corev3.Http1ProtocolOptions) *corev3.Http1ProtocolOptions {
	if have == nil {
		return add
	}
	have.EnableTrailers = have.EnableTrailers || add.EnableTrailers
	if add.HeaderKeyFormat != nil {
		have.HeaderKeyFormat = add.HeaderKeyFormat
	}
	return have
}
