package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// CompileOptions are the translate settings of a serve.
type CompileOptions struct {
	Files               []string
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
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
	// proxies by name ("namespace/gateway"), each with its snapshot.
	proxies map[string]*proxySnapshot
	// objects counts the input objects.
	objects int
}

// problem is one not-accepted condition: key identifies it whatever line
// it moved to, text is what people read ("file:line: Kind ns/name:
// Condition Reason: message").
type problem struct{ key, text string }

type proxySnapshot struct {
	// version names the whole snapshot; types the version of each
	// resource type, by type URL.
	version  string
	types    map[string]string
	snapshot *cache.Snapshot
}

// compile reads and translates the manifests and builds one snapshot per
// proxy, versioned by the hash of its resources: an unchanged proxy keeps its
// version, so Envoys are not sent what they already have, and a restarted
// serve hands out the versions its proxies already acknowledged.
func compile(o CompileOptions) *compiled {
	c := &compiled{at: time.Now()}
	defer func() { c.duration = time.Since(c.at) }()
	set, warns, err := manifest.Load(o.Files, manifest.Options{Namespace: o.Namespace})
	for _, w := range warns {
		c.warnings = append(c.warnings, w.String())
	}
	if err != nil {
		c.err = err
		return c
	}
	c.objects = len(set.Origins)
	res, err := translate.Translate(set, translate.Options{
		ControllerName:      o.ControllerName,
		KeepPrivilegedPorts: o.KeepPrivilegedPorts,
		SkipStatus:          true,
	})
	if err != nil {
		c.err = err
		return c
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
	if err := res.IR.Validate(); err != nil {
		c.err = fmt.Errorf("internal error: the translation broke an invariant: %w", err)
		return c
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		c.err = err
		return c
	}
	c.proxies = make(map[string]*proxySnapshot, len(all))
	for _, r := range all {
		ps, err := newProxySnapshot(r)
		if err != nil {
			c.err = err
			return c
		}
		c.proxies[r.Name] = ps
	}
	return c
}

// newProxySnapshot builds r's snapshot with one version per resource type,
// the hash of that type's resources: a type that did not change keeps its
// version, so Envoys are sent only what changed (state of the world resends
// a whole type, delta only the changed resources), and a restarted serve
// hands out versions its proxies already acknowledged.
func newProxySnapshot(r *xds.Resources) (*proxySnapshot, error) {
	groups := []struct {
		typ  resource.Type
		msgs []proto.Message
	}{
		{resource.ListenerType, msgsOf(r.Listeners)},
		{resource.RouteType, msgsOf(r.Routes)},
		{resource.ClusterType, msgsOf(r.Clusters)},
		{resource.EndpointType, msgsOf(r.Endpoints)},
		{resource.SecretType, msgsOf(r.Secrets)},
	}
	ps := &proxySnapshot{snapshot: &cache.Snapshot{}, types: map[string]string{}}
	all := sha256.New()
	for _, g := range groups {
		v, err := hashMessages(g.msgs)
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %w", r.Name, err)
		}
		items := make([]types.Resource, len(g.msgs))
		for i, m := range g.msgs {
			items[i] = m
		}
		ps.snapshot.Resources[cache.GetResponseType(g.typ)] = cache.NewResources(v, items)
		ps.types[g.typ] = v
		all.Write([]byte(v))
	}
	ps.version = hex.EncodeToString(all.Sum(nil))[:16]
	if err := ps.snapshot.Consistent(); err != nil {
		return nil, fmt.Errorf("proxy %s: %w", r.Name, err)
	}
	return ps, nil
}

func msgsOf[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// hashMessages is a short content hash of msgs, in order. They are
// marshalled deterministically in parallel; the hash is taken over their
// digests in order, so it does not depend on scheduling.
func hashMessages(msgs []proto.Message) (string, error) {
	sums := make([][sha256.Size]byte, len(msgs))
	errs := make([]error, len(msgs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(msgs)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := proto.MarshalOptions{Deterministic: true}
			var buf []byte
			for i := w; i < len(msgs); i += workers {
				var err error
				buf, err = opts.MarshalAppend(buf[:0], msgs[i])
				if err != nil {
					errs[i] = err
					continue
				}
				sums[i] = sha256.Sum256(buf)
			}
		}()
	}
	wg.Wait()
	h := sha256.New()
	for i := range msgs {
		if errs[i] != nil {
			return "", errs[i]
		}
		h.Write(sums[i][:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
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
