package serve

import (
	"context"
	"errors"
	"sort"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// fleetCache is the configuration cache behind serve's ADS server, for
// state-of-the-world and delta streams. It differs from go-control-plane's
// snapshot cache in one way that matters for a fleet: every resource is
// marshalled once per compilation, not once per stream. The snapshot cache
// marshals a response's resources for each stream it answers; with 10,000
// routes and 100 Envoys that was most of the time from a file change to the
// fleet acknowledging it. Here a response is a new envelope around shared,
// already-marshalled resources (the server sets its nonce on the envelope).
//
// Responses follow the xDS protocol as the snapshot cache does: a state-of-
// the-world watch is answered when the type's version differs from the one
// the client acknowledged or it subscribed to a name it was not sent; a
// delta watch with the resources whose version differs from what the client
// holds, and the names it holds that are gone. New snapshots answer open
// watches in the order ADS wants: clusters, endpoints, secrets, listeners,
// routes — what is referenced arrives before what references it.
type fleetCache struct {
	mu      sync.Mutex
	proxies map[string]*proxyWatches
}

type proxyWatches struct {
	snap  *resourceSnapshot
	sotw  map[*sotwWatch]struct{}
	delta map[*deltaWatch]struct{}
}

// resourceSnapshot is one proxy's resources, by type URL.
type resourceSnapshot struct {
	types map[string]*resourceSet
}

// resourceSet is one type's resources, sorted by name, with the type's
// version (a hash of every resource's).
type resourceSet struct {
	version string
	items   []*resourceItem
	byName  map[string]*resourceItem
}

type resourceItem struct {
	name    string
	version string // hash of the marshalled resource
	any     *anypb.Any
	delta   *discoveryv3.Resource
}

// typeOrder is the order new snapshots answer watches in.
var typeOrder = []string{resource.ClusterType, resource.EndpointType, resource.SecretType, resource.ListenerType, resource.RouteType}

func typeRank(t string) int {
	for i, o := range typeOrder {
		if o == t {
			return i
		}
	}
	return len(typeOrder)
}

type sotwWatch struct {
	req *cache.Request
	sub cache.Subscription
	ch  chan cache.Response
}

type deltaWatch struct {
	req *cache.DeltaRequest
	sub cache.Subscription
	ch  chan cache.DeltaResponse
}

func newFleetCache() *fleetCache {
	return &fleetCache{proxies: map[string]*proxyWatches{}}
}

func (c *fleetCache) proxy(name string) *proxyWatches {
	p := c.proxies[name]
	if p == nil {
		p = &proxyWatches{sotw: map[*sotwWatch]struct{}{}, delta: map[*deltaWatch]struct{}{}}
		c.proxies[name] = p
	}
	return p
}

// set installs a proxy's new snapshot and answers the watches it changes.
func (c *fleetCache) set(name string, snap *resourceSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proxy(name)
	p.snap = snap
	sw := make([]*sotwWatch, 0, len(p.sotw))
	for w := range p.sotw {
		sw = append(sw, w)
	}
	sort.SliceStable(sw, func(i, j int) bool { return typeRank(sw[i].req.GetTypeUrl()) < typeRank(sw[j].req.GetTypeUrl()) })
	for _, w := range sw {
		if c.answerSotW(p, w) {
			delete(p.sotw, w)
		}
	}
	dw := make([]*deltaWatch, 0, len(p.delta))
	for w := range p.delta {
		dw = append(dw, w)
	}
	sort.SliceStable(dw, func(i, j int) bool { return typeRank(dw[i].req.GetTypeUrl()) < typeRank(dw[j].req.GetTypeUrl()) })
	for _, w := range dw {
		if c.answerDelta(p, w) {
			delete(p.delta, w)
		}
	}
}

// clear forgets a proxy's snapshot: Envoys already connected keep what they
// have, new ones wait.
func (c *fleetCache) clear(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.proxies[name]; p != nil {
		p.snap = nil
	}
}

// CreateWatch answers at once when the snapshot already differs from what
// the client has, else keeps the watch for the next snapshot.
func (c *fleetCache) CreateWatch(req *cache.Request, sub cache.Subscription, ch chan cache.Response) (func(), error) {
	name := proxyOf(req.GetNode())
	w := &sotwWatch{req: req, sub: sub, ch: ch}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proxy(name)
	if c.answerSotW(p, w) {
		return func() {}, nil
	}
	p.sotw[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(p.sotw, w)
		c.mu.Unlock()
	}, nil
}

// CreateDeltaWatch is CreateWatch for delta streams.
func (c *fleetCache) CreateDeltaWatch(req *cache.DeltaRequest, sub cache.Subscription, ch chan cache.DeltaResponse) (func(), error) {
	name := proxyOf(req.GetNode())
	w := &deltaWatch{req: req, sub: sub, ch: ch}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proxy(name)
	if c.answerDelta(p, w) {
		return func() {}, nil
	}
	p.delta[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(p.delta, w)
		c.mu.Unlock()
	}, nil
}

// answerSotW sends w its response if the snapshot has news for it. The
// channel has room: a stream holds one watch per type, and its channel one
// slot per type.
func (c *fleetCache) answerSotW(p *proxyWatches, w *sotwWatch) bool {
	if p.snap == nil {
		return false
	}
	typ := w.req.GetTypeUrl()
	set := p.snap.types[typ]
	if set == nil {
		set = &resourceSet{}
	}
	wild := w.sub.IsWildcard()
	respond := w.req.GetVersionInfo() != set.version
	if respond && w.req.GetErrorDetail() != nil && sentVersion(w.sub) == set.version {
		// The client rejected this very version: sending it again would
		// only be rejected again. The next snapshot answers.
		respond = false
	}
	if !respond && !wild {
		returned := w.sub.ReturnedResources()
		for n := range w.sub.SubscribedResources() {
			if _, ok := returned[n]; !ok {
				respond = true
				break
			}
		}
	}
	if !respond {
		return false
	}
	out := &discoveryv3.DiscoveryResponse{VersionInfo: set.version, TypeUrl: typ}
	returned := map[string]string{}
	if wild {
		out.Resources = make([]*anypb.Any, len(set.items))
		for i, it := range set.items {
			out.Resources[i] = it.any
			returned[it.name] = set.version
		}
	} else {
		names := make([]string, 0, len(w.sub.SubscribedResources()))
		for n := range w.sub.SubscribedResources() {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if it := set.byName[n]; it != nil {
				out.Resources = append(out.Resources, it.any)
				returned[n] = set.version
			}
		}
	}
	w.ch <- &cache.PassthroughResponse{Request: w.req, DiscoveryResponse: out, ReturnedResources: returned}
	return true
}

// answerDelta sends w the resources it lacks and the names it holds that
// are gone, if any; the first request of a stream is always answered so
// the client knows the current state, even when it is empty.
func (c *fleetCache) answerDelta(p *proxyWatches, w *deltaWatch) bool {
	if p.snap == nil {
		return false
	}
	typ := w.req.GetTypeUrl()
	set := p.snap.types[typ]
	if set == nil {
		set = &resourceSet{}
	}
	returned := w.sub.ReturnedResources()
	wild := w.sub.IsWildcard()
	out := &discoveryv3.DeltaDiscoveryResponse{SystemVersionInfo: set.version, TypeUrl: typ}
	next := make(map[string]string, len(returned))
	for n, v := range returned {
		next[n] = v
	}
	send := func(it *resourceItem) {
		if returned[it.name] != it.version {
			out.Resources = append(out.Resources, it.delta)
			next[it.name] = it.version
		}
	}
	if wild {
		for _, it := range set.items {
			send(it)
		}
	} else {
		names := make([]string, 0, len(w.sub.SubscribedResources()))
		for n := range w.sub.SubscribedResources() {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if it := set.byName[n]; it != nil {
				send(it)
			}
		}
	}
	var gone []string
	for n := range returned {
		_, have := set.byName[n]
		_, subscribed := w.sub.SubscribedResources()[n]
		if !have || (!wild && !subscribed) {
			gone = append(gone, n)
			delete(next, n)
		}
	}
	sort.Strings(gone)
	out.RemovedResources = gone
	first := w.req.GetResponseNonce() == "" && len(returned) == 0
	if len(out.Resources) == 0 && len(gone) == 0 && !first {
		return false
	}
	w.ch <- &cache.DeltaPassthroughResponse{DeltaRequest: w.req, DeltaDiscoveryResponse: out, NextVersionMap: next}
	return true
}

// sentVersion is the version of the last response on a state-of-the-world
// subscription ("" before the first).
func sentVersion(sub cache.Subscription) string {
	for _, v := range sub.ReturnedResources() {
		return v
	}
	return ""
}

// Fetch is the REST (polling) xDS API, which serve does not offer: Envoys
// use ADS.
func (c *fleetCache) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errors.New("egctl x serve offers ADS only, not REST xDS")
}
