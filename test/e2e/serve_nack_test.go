package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// badRegexPatch is an EnvoyPatchPolicy that passes every check of egctl's
// (the patched RouteConfiguration is valid for its proto's rules) and that
// Envoy rejects: RE2 refuses the regex. A realistic mistake: a patch is
// the escape hatch where nothing but Envoy checks what is written.
const badRegexPatch = `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyPatchPolicy
metadata: {name: user-header, namespace: default}
spec:
  type: JSONPatch
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  jsonPatches:
  - type: type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: default/gw/http
    operation:
      op: add
      path: /virtual_hosts/0/routes/0/match/headers
      value: [{name: x-user, string_match: {safe_regex: {regex: "user-(\\d+"}}}]
`

// nackStatus is the part of serve's /status this test reads.
type nackStatus struct {
	Proxies []struct {
		Node     string            `json:"node"`
		Version  string            `json:"version"`
		InSync   bool              `json:"inSync"`
		Rejected map[string]string `json:"rejected"`
	} `json:"proxies"`
	Gateways map[string]string `json:"gateways"`
	LastGood map[string]string `json:"lastGood"`
	Rejected map[string]struct {
		Version, Node, Type, Message, Serving string
	} `json:"rejected"`
}

func (s *serveProc) nackStatus(t *testing.T) nackStatus {
	t.Helper()
	resp, err := http.Get("http://" + s.status + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer resp.Body.Close()
	var st nackStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("/status: %v", err)
	}
	return st
}

// TestServeEnvoyRejectsSnapshot: an edit egctl accepts and a real Envoy
// rejects (NACK). x status --serve shows the NACK with the node id and
// Envoy's error; serve goes back to the last snapshot the Gateway's
// proxies acknowledged, so traffic keeps its old routing and an Envoy that
// starts afterwards gets the good snapshot, not the rejected one; the next
// edit is applied as usual.
func TestServeEnvoyRejectsSnapshot(t *testing.T) {
	envoyTest(t) // parallel
	port := FreePort(t)
	dir := WriteManifests(t, serveManifests, map[string]any{
		"Port": port, "Blue": StartEchoBasic(t, "blue").Port, "Green": StartEchoBasic(t, "green").Port,
	})
	routeFile := filepath.Join(dir, "route.yaml")
	writeAtomically(t, routeFile, serveRoute("blue"))
	s := startServe(t, "-f", dir)
	e1 := startServedEnvoy(t, dir, s, "envoy-sotw")
	if err := WaitTCP(fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var good string
	Eventually(t, 30*time.Second, func() error {
		st := s.nackStatus(t)
		good = st.Gateways["default/gw"]
		if len(st.Proxies) != 1 || !st.Proxies[0].InSync || st.LastGood["default/gw"] != good {
			return fmt.Errorf("not in sync: %+v", st)
		}
		return nil
	})
	l := startLoop(t, port)
	l.onlyPod(t, "blue", 10*time.Second)

	// One edit: the route to green (new endpoints: EDS, which Envoy
	// accepts) and the patch (RDS, which it rejects).
	writeAtomically(t, routeFile, serveRoute("green")+badRegexPatch)
	var st nackStatus
	Eventually(t, 15*time.Second, func() error {
		st = s.nackStatus(t)
		r, ok := st.Rejected["default/gw"]
		if !ok || r.Serving == "" || st.Gateways["default/gw"] != good {
			return fmt.Errorf("no snapshot rejected and taken back yet: %+v", st)
		}
		return nil
	})
	r := st.Rejected["default/gw"]
	if r.Node != "envoy-sotw" || r.Type != "RouteConfiguration" || !strings.Contains(r.Message, "missing )") || r.Serving != good || r.Version == good {
		t.Errorf("rejected = %+v, want envoy-sotw's NACK of the RouteConfiguration (RE2's \"missing )\"), serving %s", r, good)
	}
	// Envoy itself counted the rejected update.
	if stats := e1.Admin(t, "/stats?filter=rds.*update_rejected"); !regexp.MustCompile(`update_rejected: [1-9]`).MatchString(stats) {
		t.Errorf("Envoy counted no rejected RDS update:\n%s", stats)
	}
	// The endpoints Envoy had accepted go back with the snapshot: all
	// traffic on blue, as before the edit.
	l.onlyPod(t, "blue", 10*time.Second)

	res := RunEgctl(t, "x", "status", "--serve", s.status)
	if res.Code != 1 {
		t.Errorf("x status --serve: exit %d, want 1 (a proxy rejected its configuration)\n%s", res.Code, res)
	}
	for _, want := range []string{
		// The proxy's node id, the type and Envoy's own error text.
		`(?m)^NACK: envoy-sotw rejected RouteConfiguration: .*missing \)`,
		`(?m)^Rejected: Gateway default/gw version ` + regexp.QuoteMeta(r.Version) + ` by envoy-sotw at \S+ \(RouteConfiguration\): .*missing \).*; serving ` + regexp.QuoteMeta(good) + `, the last version`,
		`(?m)^default/gw +` + regexp.QuoteMeta(good) + ` +` + regexp.QuoteMeta(good) + ` +1$`,
		// egctl accepted the patch: only Envoy could tell.
		`(?m)^EnvoyPatchPolicy +default/user-header +default/gw +True +`,
	} {
		if !regexp.MustCompile(want).MatchString(res.Stdout) {
			t.Errorf("x status --serve does not match %s:\n%s", want, res.Stdout)
		}
	}

	// An Envoy that starts now is given the good snapshot: in sync with
	// it, nothing rejected, serving blue.
	e2 := startServedEnvoy(t, dir, s, "envoy-late", "--xds-delta")
	Eventually(t, 30*time.Second, func() error {
		for _, p := range s.nackStatus(t).Proxies {
			if p.Node == "envoy-late" && p.InSync && p.Version == good && len(p.Rejected) == 0 {
				return nil
			}
		}
		return fmt.Errorf("envoy-late not in sync with %s: %+v", good, s.nackStatus(t).Proxies)
	})
	if got := e2.Admin(t, "/config_dump?resource=dynamic_route_configs"); strings.Contains(got, "x-user") {
		t.Errorf("the late Envoy holds the rejected route configuration:\n%s", got)
	}
	l.onlyPod(t, "blue", 5*time.Second)

	// The fix is pushed: both Envoys route to green, nothing is rejected.
	writeAtomically(t, routeFile, serveRoute("green"))
	l.onlyPod(t, "green", 10*time.Second)
	Eventually(t, 15*time.Second, func() error {
		st := s.nackStatus(t)
		v := st.Gateways["default/gw"]
		if v == good || len(st.Rejected) != 0 || len(st.Proxies) != 2 {
			return fmt.Errorf("fix not applied: %+v", st)
		}
		for _, p := range st.Proxies {
			if !p.InSync || p.Version != v || len(p.Rejected) != 0 {
				return fmt.Errorf("proxy %s not in sync with %s: %+v", p.Node, v, p)
			}
		}
		return nil
	})
	l.end()
	if _, fails, total := l.snapshot(); len(fails) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(fails), total, fails[0])
	}
}
