package compile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/cli/rootcmd"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
)

// Every command that compiles manifests takes the same compile flags,
// so that the same manifests mean the same thing to each of them.
func TestCompilingCommandsShareFlags(t *testing.T) {
	root := rootcmd.NewCmd(&cli.IOStreams{})
	shared := []string{
		"namespace", "controller-name", "keep-privileged-ports", "admin-address",
		"ratelimit-service", "ratelimit-timeout", "ratelimit-fail-closed", "dns-domain",
		"oidc-discovery", "oidc-discovery-fetch", "add-missing-resources",
		"exclude", "max-input-size", "allow-empty",
	}
	withFiles := append(slices.Clone(shared), "file", "kustomize")
	for _, c := range []struct {
		path []string
		want []string
	}{
		{[]string{"x", "translate"}, withFiles},
		{[]string{"x", "validate"}, withFiles},
		{[]string{"x", "status"}, withFiles},
		{[]string{"x", "serve"}, withFiles},
		{[]string{"x", "diff"}, shared},
	} {
		cmd, _, err := root.Find(c.path)
		if err != nil || cmd.Name() != c.path[len(c.path)-1] {
			t.Errorf("%v: no such command (%v)", c.path, err)
			continue
		}
		var missing []string
		for _, f := range c.want {
			if cmd.Flags().Lookup(f) == nil {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			t.Errorf("egctl %v lacks the shared compile flags %v", c.path, missing)
		}
		// The same flag means the same thing: same default, same usage.
		ref, _, _ := root.Find([]string{"x", "translate"})
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !slices.Contains(c.want, f.Name) {
				return
			}
			r := ref.Flags().Lookup(f.Name)
			if r.DefValue != f.DefValue || r.Usage != f.Usage && f.Name != "file" {
				t.Errorf("egctl %v --%s differs from translate's: default %q usage %q", c.path, f.Name, f.DefValue, f.Usage)
			}
		})
	}
}

// --add-missing-resources invents what Envoy Gateway's egctl invents
// (Services that routes name, cluster IPs, ports) and a GatewayClass
// that Gateways name; the result is accepted and routable.
func TestAddMissing(t *testing.T) {
	const in = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 8080}, {name: tcp, protocol: TCP, port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: known}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  rules:
  - backendRefs: [{name: backend, port: 3000}]
  - backendRefs: [{name: known, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp}
spec:
  parentRefs: [{name: eg, sectionName: tcp}]
  rules: [{backendRefs: [{name: backend, port: 3001}]}]
`
	set, _, err := manifest.LoadBytes("in.yaml", []byte(in), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := (&compile.Settings{}).Compile(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.IR.Proxies) != 0 {
		t.Fatal("without a GatewayClass nothing compiles")
	}

	set, _, _ = manifest.LoadBytes("in.yaml", []byte(in), manifest.Options{})
	res, err := (&compile.Settings{AddMissing: true, Translate: translate.Options{ControllerName: translate.DefaultControllerName}}).Compile(set)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"added Service default/backend (ports 3001/TCP, 3000/TCP, cluster IP 1.2.3.4), which routes reference (--add-missing-resources)",
		"added port 8080/TCP to Service default/known, which routes reference (--add-missing-resources)",
		"gave Service default/known cluster IP 1.2.3.4 (--add-missing-resources)",
		"added GatewayClass eg (controllerName gateway.envoyproxy.io/gatewayclass-controller), which Gateways name (--add-missing-resources)",
	}
	if !slices.Equal(res.Added, want) {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(res.Added, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems: %v", res.Problems)
	}
	if len(res.IR.Proxies) != 1 {
		t.Fatalf("proxies: %d", len(res.IR.Proxies))
	}
	var eps []string
	for _, l := range res.IR.Proxies[0].HTTP {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				for _, d := range r.Destination.Backends {
					for _, e := range d.Endpoints {
						eps = append(eps, e.Host)
					}
				}
			}
		}
	}
	if len(eps) != 2 || eps[0] != compile.DummyClusterIP || eps[1] != compile.DummyClusterIP {
		t.Errorf("route endpoints %v, want both at %s", eps, compile.DummyClusterIP)
	}
}
