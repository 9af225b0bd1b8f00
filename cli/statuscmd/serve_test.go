package statuscmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/serve"
	"github.com/egctl/egctl/serve/servetest"
)

const serveManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: 8080}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
  - backendRefs: [{name: missing, port: 80}]
`

// TestStatusFromServe starts a real `egctl x serve` (its server, on free
// ports), connects two xDS clients that acknowledge what they are sent,
// and reads the fleet with `x status --serve`.
func TestStatusFromServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "eg.yaml"), []byte(serveManifests), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, dir, "--lean") // serve_objects_test.go
	for _, c := range []struct {
		node  string
		delta bool
	}{{"envoy-1", false}, {"envoy-2", true}} {
		cl, err := servetest.Dial(s.XDSAddr().String(), c.node, "default/eg", c.delta)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Status()
		if len(st.Proxies) == 2 && st.Proxies[0].InSync && st.Proxies[1].InSync {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxies not in sync after 10s: %+v", st.Proxies)
		}
		time.Sleep(10 * time.Millisecond)
	}
	version := s.Status().Gateways["default/eg"]
	addr := s.StatusAddr().String()

	r := runStatus(t, "--serve", addr)
	if r.code != 1 {
		t.Errorf("exit status %d, want 1 (the route's backend is missing)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		`(?m)^GATEWAY +VERSION +LAST-GOOD +PROXIES$`,
		`(?m)^default/eg +` + regexp.QuoteMeta(version) + ` +` + regexp.QuoteMeta(version) + ` +2$`,
		`(?m)^NODE +GATEWAY +XDS +CONNECTED +ACKNOWLEDGED +IN-SYNC +REJECTED$`,
		`(?m)^envoy-1 +default/eg +sotw +\S+ +` + regexp.QuoteMeta(version) + ` +yes +0$`,
		`(?m)^envoy-2 +default/eg +delta +\S+ +` + regexp.QuoteMeta(version) + ` +yes +0$`,
		`(?m)^Applied: 3 objects compiled at `,
		`(?m)^  problem: .*HTTPRoute default/r.*Service default/missing not found`,
		// Every object's conditions, as -f prints them.
		`(?m)^KIND +NAMESPACE/NAME +PARENT +ACCEPTED +RESOLVEDREFS +PROGRAMMED +REASON +MESSAGE$`,
		`(?m)^Gateway +default/eg +- +True +True +True +Accepted `,
		`(?m)^HTTPRoute +default/r +default/eg +True +False +- +BackendNotFound +.*default/missing`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("stdout does not match %s:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "1 object row is not OK") {
		t.Errorf("stderr: %q", r.stderr)
	}

	r = runStatus(t, "--serve", "http://"+addr+"/status", "-o", "json")
	for _, want := range []string{`"node": "envoy-1"`, `"inSync": true`, `"default/eg": "` + version + `"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("-o json: no %s in:\n%s", want, r.stdout)
		}
	}

	r = runStatus(t, "--serve", addr, "-f", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "--serve goes without -f") {
		t.Errorf("--serve with -f: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStatusFromServeUnreachable: no serve there is a problem (exit 1)
// that names the address.
func TestStatusFromServeUnreachable(t *testing.T) {
	t.Parallel()
	r := runStatus(t, "--serve", "127.0.0.1:1", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "egctl x serve at 127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServeNACKsPrinted checks the table for what a real serve reports
// when an Envoy rejects a push (serve's own tests make Envoys NACK).
func TestServeNACKsPrinted(t *testing.T) {
	st := &serve.Status{
		Gateways: map[string]string{"default/eg": "v2"},
		Proxies: []serve.ProxyStatus{{
			Node: "envoy-1", Gateway: "default/eg", Connected: time.Unix(0, 0),
			Acked:    map[string]string{"Listener": "v1", "Cluster": "v2"},
			Rejected: map[string]string{"Listener": "duplicate listener name"},
			Version:  "v9",
		}},
		Applied: &serve.CompileStatus{Objects: 3, Duration: "4ms"},
	}
	var sb strings.Builder
	writeServe(&sb, st)
	for _, want := range []string{
		`(?m)^envoy-1 +default/eg +sotw +1970-01-01T00:00:00Z +Cluster=v2,Listener=v1 +no +1$`,
		`(?m)^NACK: envoy-1 rejected Listener: duplicate listener name$`,
		`(?m)^  every object accepted$`,
	} {
		if !regexp.MustCompile(want).MatchString(sb.String()) {
			t.Errorf("no match for %s in:\n%s", want, sb.String())
		}
	}
}
