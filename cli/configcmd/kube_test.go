package configcmd

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/internal/kubetest"
)

var envoyLabels = map[string]string{
	"app.kubernetes.io/name":       "envoy",
	"app.kubernetes.io/component":  "proxy",
	"app.kubernetes.io/managed-by": "envoy-gateway",
}

func withLabels(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range envoyLabels {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Envoy Gateway's `egctl config envoy-proxy TYPE [POD]` against a cluster:
// pods selected as Envoy Gateway selects them, their admin ports reached
// by port-forwarding through the API server (client-go, SPDY after the
// WebSocket attempt is refused), the output shaped {namespace: {pod: ...}}.
func TestEnvoyProxyFromCluster(t *testing.T) {
	a := newProxy(t, "dump.json")
	b := newProxy(t, "dump.json")
	api := kubetest.Start(t,
		kubetest.Pod{Namespace: "envoy-gateway-system", Name: "envoy-default-eg-aaaa", Labels: withLabels(nil), Ports: map[int]string{19000: a.addr}},
		kubetest.Pod{Namespace: "envoy-gateway-system", Name: "envoy-default-eg-bbbb", Labels: withLabels(nil), Phase: "Pending"},
		kubetest.Pod{Namespace: "envoy-gateway-system", Name: "envoy-gateway-5d8f", Labels: map[string]string{"app.kubernetes.io/name": "gateway-helm"}},
		kubetest.Pod{Namespace: "apps", Name: "envoy-apps-gw-cccc", Labels: withLabels(map[string]string{"gateway.envoyproxy.io/owning-gateway-name": "gw"}), Ports: map[int]string{19000: b.addr}},
		kubetest.Pod{Namespace: "apps", Name: "envoy-apps-wrongport", Labels: withLabels(nil), Ports: map[int]string{19001: b.addr}},
	)
	kc := api.Kubeconfig(t)

	// Every Envoy Gateway proxy of the default namespace; the pending one
	// cannot be reached and is said so (exit 1), the others still print.
	out, errOut, code := run(t, "", "envoy-proxy", "listener", "--kubeconfig", kc)
	if code != cli.ExitProblems || !strings.Contains(errOut, "pod envoy-gateway-system/envoy-default-eg-bbbb is not running") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON {ns: {pod: dump}}: %v\n%s", err, out)
	}
	if len(got) != 1 || len(got["envoy-gateway-system"]) != 1 {
		t.Fatalf("pods: %v", keys2(got))
	}
	if typ := got["envoy-gateway-system"]["envoy-default-eg-aaaa"]["@type"]; typ != "type.googleapis.com/envoy.admin.v3.ListenersConfigDump" {
		t.Errorf("@type %v", typ)
	}
	if a.lastURL() != "/config_dump" {
		t.Errorf("asked %s", a.lastURL())
	}
	if api.Forwards.Load() == 0 || api.WebSocketAttempts.Load() == 0 {
		t.Errorf("forwards %d, websocket attempts %d: want the SPDY fallback used", api.Forwards.Load(), api.WebSocketAttempts.Load())
	}

	// One pod by name, all of it (with EDS, as Envoy Gateway's "all"), YAML.
	out, errOut, code = run(t, "", "proxy", "all", "envoy-default-eg-aaaa", "--kubeconfig", kc, "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var y map[string]map[string]map[string]any
	if err := yaml.Unmarshal([]byte(out), &y); err != nil || y["envoy-gateway-system"]["envoy-default-eg-aaaa"]["configs"] == nil {
		t.Fatalf("yaml %v:\n%.400s", err, out)
	}
	if a.lastURL() != "/config_dump?include_eds=" {
		t.Errorf("asked %s, want EDS", a.lastURL())
	}

	// Every namespace, narrowed by a label (-l is ANDed with nothing else).
	out, errOut, code = run(t, "", "envoy-proxy", "route", "-A", "-l", "gateway.envoyproxy.io/owning-gateway-name=gw", "--kubeconfig", kc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got = nil
	_ = json.Unmarshal([]byte(out), &got)
	if len(got) != 1 || got["apps"]["envoy-apps-gw-cccc"] == nil {
		t.Fatalf("-A -l: %v", keys2(got))
	}

	// -n, and a pod whose admin port is not the one asked.
	_, errOut, code = run(t, "", "envoy-proxy", "cluster", "envoy-apps-wrongport", "-n", "apps", "--kubeconfig", kc)
	if code != cli.ExitProblems || !strings.Contains(errOut, "envoy-apps-wrongport") {
		t.Errorf("wrong port: exit %d %q", code, errOut)
	}
	_, errOut, code = run(t, "", "envoy-proxy", "cluster", "envoy-apps-wrongport", "-n", "apps", "--pod-admin-port", "19001", "--kubeconfig", kc)
	if code != 0 {
		t.Errorf("--pod-admin-port: exit %d %q", code, errOut)
	}

	// Nothing selected, a pod that does not exist: said, exit 1.
	_, errOut, code = run(t, "", "envoy-proxy", "all", "-l", "app=none", "--kubeconfig", kc)
	if code != cli.ExitProblems || !strings.Contains(errOut, "no pods in namespace envoy-gateway-system match app=none") {
		t.Errorf("no match: exit %d %q", code, errOut)
	}
	_, errOut, code = run(t, "", "envoy-proxy", "all", "nope", "--kubeconfig", kc)
	if code != cli.ExitProblems || !strings.Contains(errOut, `pods "nope" not found`) {
		t.Errorf("no pod: exit %d %q", code, errOut)
	}

	// --context picks another cluster (unreachable here).
	_, errOut, code = run(t, "", "envoy-proxy", "all", "--kubeconfig", kc, "--context", "other", "--timeout", "2s")
	if code != cli.ExitProblems || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("--context other: exit %d %q", code, errOut)
	}

	// Without flags, $KUBECONFIG is used, as kubectl uses it.
	t.Setenv("KUBECONFIG", kc)
	out, errOut, code = run(t, "", "envoy-proxy", "secret", "envoy-default-eg-aaaa")
	if code != 0 || !strings.Contains(out, "envoy-default-eg-aaaa") {
		t.Errorf("$KUBECONFIG: exit %d %q\n%.200s", code, errOut, out)
	}
}

func keys2[V any](m map[string]map[string]V) []string {
	var out []string
	for ns, pods := range m {
		for p := range pods {
			out = append(out, ns+"/"+p)
		}
	}
	return out
}
