package serve

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/egctl/egctl/serve/servetest"
)

// rejectHost makes a client reject, as Envoy would, route configurations
// naming host.
func rejectHost(host string) func(string, []*anypb.Any) string {
	return func(typeURL string, rs []*anypb.Any) string {
		if typeURL != resource.RouteType {
			return ""
		}
		for _, r := range rs {
			if bytes.Contains(r.GetValue(), []byte(host)) {
				return "refused: " + host
			}
		}
		return ""
	}
}

// TestServeTakesBackRejectedSnapshots checks serve's answer to a NACK on
// both protocols (the e2e test has a real Envoy NACK; this one covers the
// delta NACK too): the Gateway goes back to the last snapshot its proxies
// acknowledged, for every proxy (one that accepted the rejected one is
// sent the good one again, one that connects later gets the good one), the
// rejected version is not served again by a recompile that makes it again,
// and the next change is pushed.
func TestServeTakesBackRejectedSnapshots(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"gw.yaml": gatewayYAML, "route.yaml": routeYAML("a.example.com", "be")})
	addr := f.s.XDSAddr().String()
	dial := func(node string, delta bool) *servetest.Client {
		c, err := servetest.Dial(addr, node, "default/eg", delta)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	sotw, delta := dial("sotw", false), dial("delta", true)
	inSync := func(version string, nodes ...string) func() bool {
		return func() bool {
			st := f.s.Status()
			n := 0
			for _, p := range st.Proxies {
				if p.InSync && p.Version == version {
					n++
				}
			}
			return st.Gateways["default/eg"] == version && n == len(nodes)
		}
	}
	v1 := f.s.Status().Gateways["default/eg"]
	waitFor(t, inSync(v1, "sotw", "delta"), "both in sync", f)
	waitFor(t, func() bool { return f.s.Status().LastGood["default/eg"] == v1 }, "v1 good", f)

	for _, step := range []struct {
		name     string
		rejecter *servetest.Client
	}{{"sotw", sotw}, {"delta", delta}} {
		good := f.s.Status().Gateways["default/eg"]
		bad := step.name + ".bad.example.com"
		step.rejecter.RejectWith(rejectHost(bad))
		write(t, filepath.Join(f.dir, "route.yaml"), routeYAML(bad, "be"))
		waitFor(t, func() bool {
			r := f.s.Status().Rejected["default/eg"]
			return r != nil && r.Serving == good
		}, step.name+": the rejected snapshot taken back", f)
		st := f.s.Status()
		r := st.Rejected["default/eg"]
		if r.Node != step.name || r.Type != "RouteConfiguration" || r.Message != "refused: "+bad || r.Version == good || st.Gateways["default/eg"] != good {
			t.Fatalf("%s: rejected %+v, gateways %v; want %s's NACK, serving %s", step.name, r, st.Gateways, step.name, good)
		}
		// Both clients hold the good routes again (the one that accepted
		// the rejected snapshot is sent the good one), and are in sync.
		for _, c := range []*servetest.Client{sotw, delta} {
			if err := c.Wait(10*time.Second, func(c *servetest.Client) bool { return !hasDomain(t, bad)(c) && len(domains(t, c)) > 0 }); err != nil {
				t.Fatalf("%s: %s holds %v: %v", step.name, c.Node.GetId(), domains(t, c), err)
			}
		}
		waitFor(t, inSync(good, "sotw", "delta"), step.name+": both in sync with the good version", f)
		// A proxy that connects now gets the good snapshot.
		late := dial(step.name+"-late", false)
		if err := late.Wait(10*time.Second, func(c *servetest.Client) bool { return len(domains(t, c)) > 0 }); err != nil || hasDomain(t, bad)(late) {
			t.Fatalf("%s: the late proxy holds %v (%v)", step.name, domains(t, late), err)
		}
		late.Close()

		// The next change is pushed, and the NACK is forgotten.
		next := step.name + ".ok.example.com"
		write(t, filepath.Join(f.dir, "route.yaml"), routeYAML(next, "be"))
		waitFor(t, func() bool {
			st := f.s.Status()
			v := st.Gateways["default/eg"]
			return v != good && st.Rejected == nil && inSync(v, "sotw", "delta")()
		}, step.name+": the next change applied", f)
		for _, p := range f.s.Status().Proxies {
			if len(p.Rejected) != 0 {
				t.Errorf("%s: %s still shows a rejection: %v", step.name, p.Node, p.Rejected)
			}
		}
		step.rejecter.RejectWith(nil)
	}
}
