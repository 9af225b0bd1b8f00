package serve

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"time"
	"unsafe"

	egcompile "github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/xds"
)

// A recompile after a one-file edit builds the Envoy resources of the
// changed Gateway again (xds has no incremental build), but it need not
// marshal and hash all of them again: what it marshalled last time is kept,
// with a fingerprint of the IR it came from, and reused where the
// fingerprints say the resource cannot have changed. Two levels:
//
//   - A Gateway whose IR did not change at all keeps its whole snapshot
//     and is not even built again (its EnvoyPatchPolicy results are kept
//     with it: they are per proxy).
//   - In a Gateway that changed, when its frame did not (the IR without
//     the contents of the virtual hosts: listeners, their settings, the
//     proxy's settings; and no EnvoyPatchPolicy, whose JSON patches may
//     address anything by position), and its listeners and secrets
//     marshal to what they did: a virtual host of the same name with the
//     same fingerprint keeps its bytes inside its route configuration,
//     which is then spliced together from its virtual hosts' bytes rather
//     than marshalled whole; a cluster whose routes are all in virtual
//     hosts that kept their fingerprints keeps its bytes and version, and
//     so does its load assignment.
//
// What this rests on: the Envoy resources of a virtual host, and the
// clusters its routes send to, are made from that virtual host's IR and
// the proxy's frame only — or, where xds shares something between virtual
// hosts, it shows in the listeners: filters named by order of first use
// (compressors, custom responses) rename another virtual host's per-route
// configuration only when the listener's HTTP filters change too, which is
// why the listeners' bytes guard the reuse. Resources made from several virtual hosts at once
// (listeners, secrets, the clusters of filters such as JWKS or ext-auth,
// virtual hosts xds adds for misdirected requests, a route configuration's
// own fields) are marshalled every time. The differential tests
// (incremental_test.go) compare the result of every edit with a
// compilation from scratch, byte for byte.

// reuseState is what the compilation of every proxy leaves for the next.
type reuseState struct {
	proxies map[string]*proxyReuse
}

// proxyReuse is what one proxy's last compilation leaves.
type proxyReuse struct {
	prints       *proxyPrints
	snap         *proxySnapshot
	patchResults []ir.PatchResult
	// guard is the version of the listeners and the secrets: when either
	// changed nothing below is reused.
	guard string
	// routes are the route configurations by name: their bytes without
	// virtual hosts, and their virtual hosts' signatures and bytes; sigs
	// the signatures of the clusters (and of the load assignments named
	// as them).
	routes map[string]*routeBytes
	sigs   map[string]uint64
}

type routeBytes struct {
	shell  []byte
	vhosts map[string]vhostBytes
}

type vhostBytes struct {
	sig   uint64
	bytes []byte
}

// proxyPrints are the fingerprints of one IR proxy.
type proxyPrints struct {
	whole  fingerprint
	frame  fingerprint
	vhosts map[string]fingerprint
	// patched is set when the proxy has EnvoyPatchPolicies.
	patched bool
}

// printProxy fingerprints p: its frame, and each virtual host, in
// parallel. A name that two virtual hosts share gets no usable
// fingerprint.
func printProxy(p *ir.Proxy) *proxyPrints {
	type job struct {
		vh *ir.VirtualHost
		fp fingerprint
	}
	var jobs []job
	for _, l := range p.HTTP {
		if l == nil {
			continue
		}
		for _, vh := range l.VirtualHosts {
			if vh != nil {
				jobs = append(jobs, job{vh: vh})
			}
		}
	}
	pr := &proxyPrints{vhosts: make(map[string]fingerprint, len(jobs)), patched: len(p.Patches) > 0}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(jobs)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			h := newHasher()
			if w == 0 {
				pr.frame = fingerprintOf(h, framePlans, p)
			}
			for i := w; i < len(jobs); i += workers {
				jobs[i].fp = fingerprintOf(h, fullPlans, jobs[i].vh)
			}
		})
	}
	wg.Wait()
	var whole maphash.Hash
	whole.SetSeed(hashSeed)
	var buf [8]byte
	add := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		whole.Write(buf[:])
	}
	ok := pr.frame.ok
	add(pr.frame.sum)
	for _, j := range jobs {
		ok = ok && j.fp.ok
		add(j.fp.sum)
		if _, dup := pr.vhosts[j.vh.Name]; dup {
			pr.vhosts[j.vh.Name] = fingerprint{}
			continue
		}
		pr.vhosts[j.vh.Name] = j.fp
	}
	pr.whole = fingerprint{sum: whole.Sum64(), ok: ok}
	return pr
}

// unchanged says whether old's proxy had the IR p now has.
func (old *proxyReuse) unchanged(pr *proxyPrints) bool {
	return old != nil && old.snap != nil && pr.whole.ok && old.prints.whole == pr.whole
}

// sameFrame says whether old's resources below the frame may be reused.
func (old *proxyReuse) sameFrame(pr *proxyPrints, guard string) bool {
	return old != nil && !pr.patched && !old.prints.patched && pr.frame.ok && old.prints.frame == pr.frame && old.guard == guard
}

// mix combines signatures in order.
func mix(sums []uint64) uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	h.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(sums))), len(sums)*8))
	return h.Sum64()
}

// builtProxy is one proxy of a compilation: built (res), or kept whole
// from the last compilation (kept).
type builtProxy struct {
	name   string
	prints *proxyPrints
	res    *xds.Resources
	old    *proxyReuse
	kept   *proxyReuse
}

// buildProxies builds the xDS resources of res's proxies, but for those
// whose IR is what prev built, and records every proxy's EnvoyPatchPolicy
// results (the kept ones' from prev) in res's statuses, as
// compile.Result.Build does. printing adds up the time spent
// fingerprinting.
func buildProxies(res *egcompile.Result, prev *reuseState, printing *time.Duration) ([]builtProxy, error) {
	out := make([]builtProxy, 0, len(res.IR.Proxies))
	var patches []ir.PatchResult
	for i, p := range res.IR.Proxies {
		if p == nil {
			return nil, fmt.Errorf("xds: Proxies[%d] is nil", i)
		}
		start := time.Now()
		b := builtProxy{name: p.Name, prints: printProxy(p)}
		*printing += time.Since(start)
		if prev != nil {
			b.old = prev.proxies[p.Name]
		}
		if b.old.unchanged(b.prints) {
			b.kept = b.old
			patches = append(patches, b.old.patchResults...)
			out = append(out, b)
			continue
		}
		all, err := xds.Translate(&ir.Config{Proxies: []*ir.Proxy{p}})
		if err != nil {
			return nil, err
		}
		b.res = all[0]
		patches = append(patches, b.res.PatchResults...)
		out = append(out, b)
	}
	res.RecordPatchResults(patches)
	return out, nil
}
