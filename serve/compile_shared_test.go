package serve

import (
	"path/filepath"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	egcompile "github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/internal/envoytest"
)

// serve compiles through cli/compile as every command does: the
// rate-limit service of the flags reaches the clusters, and what
// EnvoyPatchPolicies did (known only once the resources are built) is a
// problem like any other, so a change that breaks a patch is held back.
func TestServeCompilesAsTheOtherCommands(t *testing.T) {
	in := func(name string) string {
		return filepath.Join(envoytest.RepoRoot(), "testdata", "translate", "in", name)
	}
	o := egcompile.NewOptions()
	o.RateLimitService = "rls.internal:9999"
	if err := o.Complete(false); err != nil {
		t.Fatal(err)
	}
	settings, err := o.Settings(true)
	if err != nil {
		t.Fatal(err)
	}

	c := compile(CompileOptions{Files: []string{in("ratelimit-global.yaml")}, Manifest: o.LoadOptions(nil), Settings: settings}, nil, nil)
	if c.err != nil {
		t.Fatal(c.err)
	}
	found := false
	for _, ps := range c.proxies {
		for _, it := range ps.snap.types[resource.ClusterType].items {
			if it.name != "ratelimit_cluster" {
				continue
			}
			var cl clusterv3.Cluster
			if err := proto.Unmarshal(it.any.Value, &cl); err != nil {
				t.Fatal(err)
			}
			addr := cl.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
			if addr.GetAddress() != "rls.internal" || addr.GetPortValue() != 9999 {
				t.Errorf("ratelimit_cluster goes to %s:%d, want rls.internal:9999 (--ratelimit-service)", addr.GetAddress(), addr.GetPortValue())
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no ratelimit_cluster served")
	}

	c = compile(CompileOptions{Files: []string{in("epp-invalid.yaml")}, Manifest: o.LoadOptions(nil), Settings: settings}, nil, nil)
	if c.err != nil {
		t.Fatal(c.err)
	}
	var texts []string
	for _, p := range c.problems {
		texts = append(texts, p.text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"EnvoyPatchPolicy default/missing-resource: Programmed", "EnvoyPatchPolicy default/invalid-result: Programmed"} {
		if !strings.Contains(all, want) {
			t.Errorf("serve's problems lack %q (patch results not recorded):\n%s", want, all)
		}
	}

	// An input emptied by mistake is a problem, so serve holds it back.
	c = compile(CompileOptions{Files: []string{t.TempDir()}, Manifest: o.LoadOptions(nil), Settings: settings}, nil, nil)
	if len(c.problems) != 1 || !strings.Contains(c.problems[0].text, "no objects in the input") {
		t.Errorf("empty input: problems %v", c.problems)
	}
}
