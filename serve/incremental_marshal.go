package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/xds"
)

// reuseCount says how much of a proxy's resources a compilation reused.
type reuseCount struct {
	Reused, Marshalled int
}

func (c *reuseCount) add(o reuseCount) { c.Reused += o.Reused; c.Marshalled += o.Marshalled }

var deterministic = proto.MarshalOptions{Deterministic: true}

// marshalProxy marshals r's resources once, for every stream that will be
// sent them, and versions each resource and each type by content hash: a
// type that did not change keeps its version, so Envoys are sent only what
// changed (state of the world resends a changed type, delta only changed
// resources), and a restarted serve hands out versions its proxies already
// hold. What old (the proxy's last compilation, or nil) marshalled and the
// fingerprints pr allow to reuse is not marshalled again (incremental.go).
func marshalProxy(r *xds.Resources, pr *proxyPrints, old *proxyReuse) (*proxySnapshot, *proxyReuse, reuseCount, error) {
	var n reuseCount
	fail := func(err error) (*proxySnapshot, *proxyReuse, reuseCount, error) {
		return nil, nil, n, fmt.Errorf("proxy %s: %w", r.Name, err)
	}
	next := &proxyReuse{prints: pr, routes: make(map[string]*routeBytes, len(r.Routes)), sigs: make(map[string]uint64, len(r.Clusters))}
	listeners, err := marshalSet(resource.ListenerType, msgsOf(r.Listeners), nil, &n)
	if err != nil {
		return fail(err)
	}
	secrets, err := marshalSet(resource.SecretType, msgsOf(r.Secrets), nil, &n)
	if err != nil {
		return fail(err)
	}
	next.guard = listeners.version + "/" + secrets.version
	if !old.sameFrame(pr, next.guard) {
		old = nil
	}
	routes, refs, err := marshalRoutes(r.Routes, pr, old, next, &n)
	if err != nil {
		return fail(err)
	}
	// A cluster's signature is that of the virtual hosts whose routes
	// send to it; its load assignment (named as the cluster) shares it.
	for _, c := range r.Clusters {
		name := c.GetName()
		if sigs := refs.sigs[name]; len(sigs) > 0 && !refs.unknown[name] {
			slices.Sort(sigs)
			next.sigs[name] = mix(sigs)
		}
	}
	kept := func(typ string) func(string) *resourceItem {
		if old == nil {
			return nil
		}
		byName := old.snap.snap.types[typ].byName
		return func(name string) *resourceItem {
			now, ok := next.sigs[name]
			if !ok {
				return nil
			}
			if was, ok := old.sigs[name]; !ok || was != now {
				return nil
			}
			return byName[name]
		}
	}
	clusters, err := marshalSet(resource.ClusterType, msgsOf(r.Clusters), kept(resource.ClusterType), &n)
	if err != nil {
		return fail(err)
	}
	endpoints, err := marshalSet(resource.EndpointType, msgsOf(r.Endpoints), kept(resource.EndpointType), &n)
	if err != nil {
		return fail(err)
	}
	ps := &proxySnapshot{snap: &resourceSnapshot{types: map[string]*resourceSet{}}, types: map[string]string{}}
	all := sha256.New()
	for _, g := range []struct {
		typ string
		set *resourceSet
	}{
		{resource.ClusterType, clusters},
		{resource.EndpointType, endpoints},
		{resource.SecretType, secrets},
		{resource.ListenerType, listeners},
		{resource.RouteType, routes},
	} {
		ps.snap.types[g.typ] = g.set
		ps.types[g.typ] = g.set.version
		all.Write([]byte(g.set.version))
	}
	ps.version = hex.EncodeToString(all.Sum(nil))[:16]
	next.snap = ps
	next.patchResults = r.PatchResults
	return ps, next, n, nil
}

// clusterRefs are the clusters the routes of the built virtual hosts send
// to, with the signatures of those virtual hosts; unknown the clusters a
// virtual host without a usable fingerprint sends to.
type clusterRefs struct {
	sigs    map[string][]uint64
	unknown map[string]bool
}

func (c *clusterRefs) add(vh *routev3.VirtualHost, sig uint64, known bool) {
	ref := func(name string) {
		if name == "" {
			return
		}
		if !known {
			c.unknown[name] = true
			return
		}
		c.sigs[name] = append(c.sigs[name], sig)
	}
	for _, rt := range vh.GetRoutes() {
		a := rt.GetRoute()
		if a == nil {
			continue
		}
		ref(a.GetCluster())
		for _, w := range a.GetWeightedClusters().GetClusters() {
			ref(w.GetName())
		}
		for _, m := range a.GetRequestMirrorPolicies() {
			ref(m.GetCluster())
		}
	}
}

// marshalRoutes marshals the route configurations a virtual host at a
// time, in parallel, and joins their bytes: a route configuration's bytes
// are its own fields' with every virtual host's in the middle (protobuf
// writes fields in number order: name is 1, virtual_hosts 2, the rest come
// after), so the result is the bytes of marshalling it whole. A virtual
// host old has with the same fingerprint keeps its bytes.
func marshalRoutes(rcs []*routev3.RouteConfiguration, pr *proxyPrints, old, next *proxyReuse, n *reuseCount) (*resourceSet, *clusterRefs, error) {
	refs := &clusterRefs{sigs: map[string][]uint64{}, unknown: map[string]bool{}}
	type vhJob struct {
		vh    *routev3.VirtualHost
		sig   uint64
		known bool
		bytes []byte
		err   error
	}
	type rcJob struct {
		rc    *routev3.RouteConfiguration
		shell []byte
		split int
		vhs   []*vhJob
		now   *routeBytes
	}
	var todo []*vhJob
	jobs := make([]*rcJob, len(rcs))
	for i, rc := range rcs {
		shell, err := marshalShell(rc)
		if err != nil {
			return nil, nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
		}
		split, err := splitAfterName(shell)
		if err != nil {
			return nil, nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
		}
		now := &routeBytes{shell: shell, vhosts: make(map[string]vhostBytes, len(rc.GetVirtualHosts()))}
		next.routes[rc.GetName()] = now
		var was *routeBytes
		if old != nil {
			if w := old.routes[rc.GetName()]; w != nil && bytes.Equal(w.shell, shell) {
				was = w
			}
		}
		j := &rcJob{rc: rc, shell: shell, split: split, vhs: make([]*vhJob, len(rc.GetVirtualHosts())), now: now}
		before := len(todo)
		for k, vh := range rc.GetVirtualHosts() {
			fp := pr.vhosts[vh.GetName()]
			v := &vhJob{vh: vh, sig: fp.sum, known: fp.ok}
			if was != nil && v.known {
				if w, ok := was.vhosts[vh.GetName()]; ok && w.sig == v.sig {
					v.bytes = w.bytes
				}
			}
			if v.bytes == nil {
				todo = append(todo, v)
			}
			refs.add(vh, v.sig, v.known)
			j.vhs[k] = v
		}
		n.Reused += len(j.vhs) - (len(todo) - before)
		jobs[i] = j
	}
	n.Marshalled += len(todo)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(todo); i += workers {
				todo[i].bytes, todo[i].err = deterministic.Marshal(todo[i].vh)
			}
		})
	}
	wg.Wait()
	items := make([]*resourceItem, len(jobs))
	for i, j := range jobs {
		size := len(j.shell)
		for _, v := range j.vhs {
			if v.err != nil {
				return nil, nil, fmt.Errorf("route configuration %q: virtual host %q: %w", j.rc.GetName(), v.vh.GetName(), v.err)
			}
			size += len(v.bytes) + 2*binaryMaxVarint
		}
		out := make([]byte, 0, size)
		out = append(out, j.shell[:j.split]...)
		for _, v := range j.vhs {
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			out = protowire.AppendVarint(out, uint64(len(v.bytes)))
			start := len(out)
			out = append(out, v.bytes...)
			if v.known {
				j.now.vhosts[v.vh.GetName()] = vhostBytes{sig: v.sig, bytes: out[start:len(out):len(out)]}
			}
		}
		out = append(out, j.shell[j.split:]...)
		items[i] = newItem(resource.RouteType, j.rc.GetName(), out)
	}
	set, err := assembleSet(resource.RouteType, items, nil)
	return set, refs, err
}

const binaryMaxVarint = 10

// marshalShell marshals rc without its virtual hosts.
func marshalShell(rc *routev3.RouteConfiguration) ([]byte, error) {
	shell := &routev3.RouteConfiguration{}
	dst := shell.ProtoReflect()
	src := rc.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Number() != 2 {
			dst.Set(fd, v)
		}
		return true
	})
	dst.SetUnknown(src.GetUnknown())
	return deterministic.Marshal(shell)
}

// splitAfterName is where the virtual hosts go in a shell's bytes: after
// field 1 (name), before the others.
func splitAfterName(b []byte) (int, error) {
	pos := 0
	for pos < len(b) {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		if num >= 2 {
			if num == 2 {
				return 0, errors.New("virtual hosts in a route configuration's shell")
			}
			return pos, nil
		}
		m := protowire.ConsumeFieldValue(num, typ, b[pos+n:])
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		pos += n + m
	}
	return pos, nil
}

// newItem is a resource of typ marshalled to b, versioned by its hash.
func newItem(typ, name string, b []byte) *resourceItem {
	sum := sha256.Sum256(b)
	a := &anypb.Any{TypeUrl: typ, Value: b}
	it := &resourceItem{name: name, version: hex.EncodeToString(sum[:8]), any: a}
	it.delta = &discoveryv3.Resource{Name: it.name, Version: it.version, Resource: a}
	return it
}
