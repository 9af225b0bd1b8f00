package xds

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
)

// TestEnvoyServesAuthOverADS: OIDC and ext-auth policies served over ADS
// rather than in a static bootstrap: the OAuth2 settings in RDS name their
// generic secrets over SDS, the ext-auth service's cluster comes over EDS.
// The login redirect (which needs both secrets loaded) and an ext-auth
// allow and deny must work.
func TestEnvoyServesAuthOverADS(t *testing.T) {
	bin := envoyBinary(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend %s", r.URL.Path)
	}))
	defer backend.Close()
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Decision") == "deny" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer authz.Close()
	port, admin := freePort(t), freePort(t)
	in := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: %d}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec: {endpoints: [{ip: {address: 127.0.0.1, port: %d}}]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: authz, namespace: default}
spec: {endpoints: [{ip: {address: 127.0.0.1, port: %d}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
  - name: login
    matches: [{path: {type: PathPrefix, value: /login}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
  - name: ext
    matches: [{path: {type: PathPrefix, value: /ext}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r, sectionName: login}]
  oidc:
    provider: {issuer: "https://idp.example.com", authorizationEndpoint: "https://idp.example.com/authorize", tokenEndpoint: "https://idp.example.com/token"}
    clientID: app
    clientSecret: {name: app-oidc}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: ext, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r, sectionName: ext}]
  extAuth:
    http: {backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: authz}]}
    headersToExtAuth: [x-decision]
---
apiVersion: v1
kind: Secret
metadata: {name: app-oidc, namespace: default}
stringData: {client-secret: s3cr3t}
---
apiVersion: v1
kind: Secret
metadata: {name: envoy-oidc-hmac, namespace: envoy-gateway-system}
stringData: {hmac-secret: 0123456789abcdef0123456789abcdef}
`, port, backend.Listener.Addr().(*net.TCPAddr).Port, authz.Listener.Addr().(*net.TCPAddr).Port)
	set, _, err := manifest.LoadBytes("in.yaml", []byte(in), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := translate.Translate(set, translate.Options{KeepPrivilegedPorts: true})
	if err != nil || len(tr.Problems) > 0 {
		t.Fatalf("translate: %v %v", err, tr.Problems)
	}
	for _, l := range tr.IR.Proxies[0].HTTP {
		l.Address = "127.0.0.1"
	}
	res := translateOne(t, tr.IR)
	snap, err := Snapshot(res, "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatalf("snapshot not consistent: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	snapshots := cache.NewSnapshotCache(true, cache.IDHash{}, nil)
	if err := snapshots.SetSnapshot(ctx, res.Name, snap); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, snapshots, nil))
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	bs, err := DynamicBootstrap(DynamicBootstrapOptions{
		NodeID: res.Name, XDSHost: "127.0.0.1", XDSPort: uint32(lis.Addr().(*net.TCPAddr).Port), AdminPort: admin,
	})
	if err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(bs, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, y, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd := exec.CommandContext(ctx, bin, "-c", path, "--log-level", "warn", "--use-dynamic-base-id", "--concurrency", "1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("envoy output:\n%s", logs.String())
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, hdr ...string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = "www.example.com"
		if len(hdr) == 2 {
			req.Header.Set(hdr[0], hdr[1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, h := get("/login/page")
		if code == http.StatusFound && strings.HasPrefix(h.Get("Location"), "https://idp.example.com/authorize?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login redirect over ADS after 30s: %d %v", code, h)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := get("/ext/x", "X-Decision", "allow"); code != http.StatusOK {
		t.Errorf("ext-auth allow: %d", code)
	}
	if code, _ := get("/ext/x", "X-Decision", "deny"); code != http.StatusForbidden {
		t.Errorf("ext-auth deny: %d", code)
	}
}
