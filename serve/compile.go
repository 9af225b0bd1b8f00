package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/cli"
	egcompile "github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/manifest"
	egresource "github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
)

// CompileOptions are the translate settings of a serve.
type CompileOptions struct {
	Files []string
	// Manifest are the loader's settings: default namespace, --exclude
	// globs, the input size limit.
	Manifest manifest.Options
	// Settings are how every egctl command compiles (cli/compile):
	// controller name, ports, the rate-limit service, OIDC discovery, Wasm
	// images. Nil means the defaults.
	Settings *egcompile.Settings
}

// compiled is one compilation of the manifests.
type compiled struct {
	at       time.Time
	duration time.Duration
	// err is set when nothing could be built: manifests that do not load,
	// or a translation egctl cannot turn into valid Envoy configuration.
	err error
	// problems are the objects not accepted, warnings what no status says.
	problems []problem
	warnings []string
	// status is every object with the status the translator wrote (shells
	// that share their specs with the input: read-only), and found every
	// problem, for /status/objects; nil when the manifests did not
	// compile.
	status *egresource.Set
	found  []translate.Problem
	// proxies by name ("namespace/gateway"), each with its snapshot.
	proxies map[string]*proxySnapshot
	// objects counts the input objects.
	objects int
	// stages are the time each step took, for the log and /status.
	stages stageTimes
	// decoded counts the files read and decoded again, unchanged those
	// whose objects came from the load cache.
	decoded, unchanged int
	// reused counts the resources taken from the previous compilation and
	// those marshalled (in a Gateway that changed, a route configuration
	// counts as its virtual hosts; one kept whole counts its resources);
	// reuse is what this one leaves for the next.
	reused reuseCount
	reuse  *reuseState
}

// stageTimes splits a compilation's time.
type stageTimes struct {
	Load, Translate, Build, Version time.Duration
	// Fingerprint is the part of Build spent fingerprinting the IR
	// (incremental.go).
	Fingerprint time.Duration
}

func (s stageTimes) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("load %s, translate %s, build %s (fingerprints %s), version %s", r(s.Load), r(s.Translate), r(s.Build), r(s.Fingerprint), r(s.Version))
}

// problem is one not-accepted condition: key identifies it whatever line
// it moved to, text is what people read ("file:line: Kind ns/name:
// Condition Reason: message").
type problem struct{ key, text string }

type proxySnapshot struct {
	// version names the whole snapshot; types the version of each
	// resource type, by type URL.
	version string
	types   map[string]string
	snap    *resourceSnapshot
}

// compile reads and translates the manifests and builds one snapshot per
// proxy, versioned by the hash of its resources: an unchanged proxy keeps its
// version, so Envoys are not sent what they already have, and a restarted
// serve hands out the versions its proxies already acknowledged.
//
// loads keeps the decoded objects of files that did not change since the
// last compile (manifest.Cache): after an edit of one file among many, only
// that file is decoded and validated again.
//
// prev is what the previous compilation left for reuse (c.reuse), or nil:
// what did not change is not built or marshalled again (incremental.go).
func compile(o CompileOptions, loads *manifest.Cache, prev *reuseState) *compiled {
	c := &compiled{at: time.Now()}
	defer func() { c.duration = time.Since(c.at) }()
	mark := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d, mark = now.Sub(mark), now
	}
	hits, misses := loads.Stats()
	mo := o.Manifest
	mo.Cache = loads
	set, warns, err := manifest.Load(o.Files, mo)
	lap(&c.stages.Load)
	h, m := loads.Stats()
	c.unchanged, c.decoded = h-hits, m-misses
	for _, w := range warns {
		c.warnings = append(c.warnings, w.String())
	}
	if err != nil {
		c.err = err
		return c
	}
	c.objects = len(set.Origins)
	settings := o.Settings
	if settings == nil {
		settings = &egcompile.Settings{Translate: translate.Options{SkipStatus: true}}
	}
	res, err := settings.Compile(set)
	if err != nil {
		c.err = err
		return c
	}
	c.warnings = append(c.warnings, res.Added...)
	lap(&c.stages.Translate)
	// EnvoyPatchPolicies apply to the built resources: their problems are
	// known once those are. A Gateway whose IR did not change is not built
	// again (incremental.go).
	built, err := buildProxies(res, prev, &c.stages.Fingerprint)
	if err != nil {
		c.err = err
		return c
	}
	if res.Empty && !settings.AllowEmpty {
		// A change that empties the input (a bad merge, a moved directory)
		// is held back like any other that brings a problem.
		c.problems = append(c.problems, problem{key: cli.EmptyInputMessage, text: cli.EmptyInputMessage})
	}
	// Kept for /status/objects, which turns them into JSON when asked:
	// the translator wrote them anyway.
	c.status, c.found = res.Status, res.Problems
	if c.status != nil && c.status.Origins == nil {
		c.status.Origins = set.Origins
	}
	for _, p := range res.Problems {
		line := p.String()
		if loc := p.Origin.String(); loc != "" {
			line = loc + ": " + line
		}
		c.problems = append(c.problems, problem{key: p.String(), text: line})
	}
	for _, w := range res.Warnings {
		line := w.String()
		if loc := w.Origin.String(); loc != "" {
			line = loc + ": " + line
		}
		c.warnings = append(c.warnings, line)
	}
	lap(&c.stages.Build)
	defer lap(&c.stages.Version)
	c.proxies = make(map[string]*proxySnapshot, len(built))
	next := &reuseState{proxies: make(map[string]*proxyReuse, len(built))}
	for _, b := range built {
		if b.res == nil { // unchanged: kept whole
			c.proxies[b.name] = b.kept.snap
			next.proxies[b.name] = b.kept
			c.reused.Reused += b.kept.snap.size()
			continue
		}
		ps, state, n, err := marshalProxy(b.res, b.prints, b.old)
		if err != nil {
			c.err = err
			return c
		}
		c.proxies[b.name] = ps
		next.proxies[b.name] = state
		c.reused.add(n)
	}
	c.reuse = next
	return c
}

// size counts the resources of a snapshot.
func (ps *proxySnapshot) size() int {
	n := 0
	for _, set := range ps.snap.types {
		n += len(set.items)
	}
	return n
}

func msgsOf[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// marshalSet marshals msgs deterministically, in parallel, into the
// resources of one type, each with the hash of its bytes as version; a
// resource keep returns (keep may be nil) is taken as it is instead.
func marshalSet(typ string, msgs []proto.Message, keep func(name string) *resourceItem, n *reuseCount) (*resourceSet, error) {
	items := make([]*resourceItem, len(msgs))
	errs := make([]error, len(msgs))
	var todo []int
	for i, m := range msgs {
		if keep != nil {
			if it := keep(cache.GetResourceName(m)); it != nil {
				items[i] = it
				continue
			}
		}
		todo = append(todo, i)
	}
	n.Reused += len(msgs) - len(todo)
	n.Marshalled += len(todo)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(todo); k += workers {
				i := todo[k]
				b, err := deterministic.Marshal(msgs[i])
				if err != nil {
					errs[i] = err
					continue
				}
				items[i] = newItem(typ, cache.GetResourceName(msgs[i]), b)
			}
		})
	}
	wg.Wait()
	return assembleSet(typ, items, errs)
}

// assembleSet sorts items by name and versions the type: its version hashes
// the resources' names and versions in order, so it does not depend on
// scheduling.
func assembleSet(typ string, items []*resourceItem, errs []error) (*resourceSet, error) {
	set := &resourceSet{items: items, byName: make(map[string]*resourceItem, len(items))}
	for i, it := range items {
		if errs != nil && errs[i] != nil {
			return nil, errs[i]
		}
		if _, dup := set.byName[it.name]; dup {
			return nil, fmt.Errorf("two %s resources named %q", typ, it.name)
		}
		set.byName[it.name] = it
	}
	sort.Slice(set.items, func(i, j int) bool { return set.items[i].name < set.items[j].name })
	h := sha256.New()
	for _, it := range set.items {
		h.Write([]byte(it.name))
		h.Write([]byte{0})
		h.Write([]byte(it.version))
	}
	set.version = hex.EncodeToString(h.Sum(nil))[:16]
	return set, nil
}

// newProblems lists the problems of c that last did not have: a change that
// introduced them is one serve holds back.
func newProblems(last, c *compiled) []string {
	had := map[string]bool{}
	if last != nil {
		for _, p := range last.problems {
			had[p.key] = true
		}
	}
	var out []string
	for _, p := range c.problems {
		if !had[p.key] {
			out = append(out, p.text)
		}
	}
	sort.Strings(out)
	return out
}
