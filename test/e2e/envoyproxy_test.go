package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// Behaviour tests of EnvoyProxy settings: egctl compiles the manifests,
// the real Envoy runs the bootstrap, and traffic (or Envoy's admin API)
// shows the setting took effect.

// epProxy is an Envoy started by epDeploy.
type epProxy struct {
	*Envoy
	Bootstrap string
	Stderr    string
}

// epDeploy compiles manifests with extra egctl flags, has Envoy validate
// the bootstrap, binds its wildcard listeners to loopback (IPv4 "0.0.0.0"
// to 127.0.0.1, IPv6 "::" to ::1), starts Envoy and waits until every
// address in waitFor accepts connections.
func epDeploy(t *testing.T, manifests string, args []string, waitFor ...string) *epProxy {
	t.Helper()
	requireEnvoy(t)
	requireEgctl(t)
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	args = append([]string{"x", "translate", "-f", dir, "--to", "bootstrap", "--admin-address", admin}, args...)
	res := RunEgctl(t, append(args, DefaultListenerPorts(t, args)...)...)
	if res.Code != 0 {
		t.Fatalf("egctl exit %d\n%s\n--- manifests ---\n%s", res.Code, res, manifests)
	}
	boot := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(boot, []byte(res.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- bootstrap ---\n%s", readForLog(boot))
		}
	})
	ValidateBootstrap(t, boot)
	runnable := filepath.Join(filepath.Dir(boot), "envoy-loopback.json")
	if err := loopbackBothFamilies(boot, runnable); err != nil {
		t.Fatal(err)
	}
	e := StartEnvoy(t, runnable, admin)
	for _, a := range waitFor {
		if err := WaitTCP(a, 10*time.Second); err != nil {
			t.Fatalf("Envoy is ready but %s is not: %v", a, err)
		}
	}
	return &epProxy{Envoy: e, Bootstrap: boot, Stderr: res.Stderr}
}

// loopbackBothFamilies is LoopbackBootstrap keeping the address family:
// egctl binds all interfaces as a proxy in a cluster must; tests stay on
// loopback, IPv4 or IPv6.
func loopbackBothFamilies(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	static, _ := field(doc, "static_resources", "staticResources").(map[string]any)
	listeners, _ := field(static, "listeners").([]any)
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		addr, _ := field(lm, "address").(map[string]any)
		sock, _ := field(addr, "socket_address", "socketAddress").(map[string]any)
		if sock == nil {
			continue
		}
		switch sock["address"] {
		case "0.0.0.0":
			sock["address"] = "127.0.0.1"
		case "::":
			sock["address"] = "::1"
		}
		delete(sock, "ipv4_compat")
		delete(sock, "ipv4Compat")
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// listenerAddrs returns the address each Envoy listener is bound to.
func (p *epProxy) listenerAddrs(t *testing.T) map[string]string {
	t.Helper()
	var got struct {
		ListenerStatuses []struct {
			Name         string `json:"name"`
			LocalAddress struct {
				SocketAddress struct {
					Address string `json:"address"`
				} `json:"socket_address"`
			} `json:"local_address"`
		} `json:"listener_statuses"`
	}
	body := p.Admin(t, "/listeners?format=json")
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("admin /listeners: %v", err)
	}
	out := map[string]string{}
	for _, l := range got.ListenerStatuses {
		out[l.Name] = l.LocalAddress.SocketAddress.Address
	}
	return out
}

// get sends GET url with Host host and returns the status and body.
func get(t *testing.T, url, host string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, resp.Header, string(b)
}

// textBackend answers 200 with body on a fresh loopback port.
func textBackend(t *testing.T, body string) *HTTPBackend {
	return StartHTTPBackend(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
}

// epClass is the GatewayClass "eg" naming EnvoyProxy default/proxy.
const epClass = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: proxy, namespace: default}
---
`

// epManifests is epClass, EnvoyProxy default/proxy with spec, Gateway
// default/gw on port, and rest.
func epManifests(spec string, port int, rest string) string {
	return epClass + "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {name: proxy, namespace: default}\nspec:\n" +
		spec + "\n---\n" + gatewayYAML("gw", port) + "---\n" + rest
}

// staticService is a Service with cluster IP 127.0.0.1 on port: without an
// EndpointSlice egctl sends to the cluster IP, which here is the backend.
func staticService(name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %s, namespace: default}
spec:
  clusterIP: 127.0.0.1
  ports: [{name: http, port: %d}]
---
`, name, port)
}

func httpRoute(name, rules string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ` + name + `, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
` + rules + "---\n"
}

// TestEnvoyProxyIPv6Listener: with ipFamily IPv6 the Gateway listener
// binds IPv6 only (reached on [::1], refused on 127.0.0.1), and a Backend
// at ::1 is reached over IPv6 (written 0:0:0:0:0:0:0:1: the Backend CRD
// pattern, which egctl validates as EG does, rejects the short "::1").
func TestEnvoyProxyIPv6Listener(t *testing.T) {
	envoyTest(t)
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "v6 backend saw %s", r.RemoteAddr)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	v6port := l.Addr().(*net.TCPAddr).Port

	port := FreePort(t)
	p := epDeploy(t, epManifests("  ipFamily: IPv6", port, fmt.Sprintf(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: v6, namespace: default}
spec:
  endpoints: [{ip: {address: "0:0:0:0:0:0:0:1", port: %d}}]
---
`, v6port)+httpRoute("r", "  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: v6}]\n")), nil,
		fmt.Sprintf("[::1]:%d", port))

	if a := p.listenerAddrs(t)["default/gw/http"]; a != "::1" {
		t.Fatalf("listener bound to %q, want ::1 (the bootstrap's :: moved to loopback)", a)
	}
	code, _, body := get(t, fmt.Sprintf("http://[::1]:%d/", port), "www.example.com")
	if code != 200 || !strings.HasPrefix(body, "v6 backend saw [::1]:") {
		t.Fatalf("GET over IPv6: %d %q", code, body)
	}
	// An IPv6 listener without DualStack does not take IPv4.
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Fatalf("the IPv6-only listener accepted an IPv4 connection")
	}
}

// waitLines flushes Envoy's access logs (admin /reopen_logs writes what is
// buffered) until path has at least n lines, and returns them.
func (p *epProxy) waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	var lines []string
	Eventually(t, 15*time.Second, func() error {
		resp, err := http.Post("http://"+p.AdminAddr+"/reopen_logs", "text/plain", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		lines = lines[:0]
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) < n {
			return fmt.Errorf("%s has %d lines, want %d: %q", path, len(lines), n, lines)
		}
		return nil
	})
	return lines
}

// TestEnvoyProxyAccessLogFiles: a text log and a JSON log filtered by CEL,
// written by the real Envoy in the asked formats. The request no route
// matches is logged from the listener (NR), the matched one from the HCM.
func TestEnvoyProxyAccessLogFiles(t *testing.T) {
	envoyTest(t)
	dir := t.TempDir()
	textLog, jsonLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "errors.json")
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := fmt.Sprintf(`  telemetry:
    accessLog:
      settings:
      - format: {type: Text, text: "%%REQ(:METHOD)%% %%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%% %%RESPONSE_CODE%% %%ROUTE_NAME%%"}
        sinks: [{type: File, file: {path: %s}}]
      - format: {type: JSON, json: {method: "%%REQ(:METHOD)%%", path: "%%REQ(:PATH)%%", code: "%%RESPONSE_CODE%%", flags: "%%RESPONSE_FLAGS%%"}}
        matches: ["response.code >= 400"]
        sinks: [{type: File, file: {path: %s}}]`, textLog, jsonLog)
	p := epDeploy(t, epManifests(spec, port, staticService("app", be.Port)+
		httpRoute("app", "  - matches: [{path: {type: PathPrefix, value: /ok}}]\n    backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil,
		fmt.Sprintf("127.0.0.1:%d", port))

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if code, _, _ := get(t, base+"/ok", "www.example.com"); code != 200 {
		t.Fatalf("/ok: %d", code)
	}
	if code, _, _ := get(t, base+"/missing", "www.example.com"); code != 404 {
		t.Fatalf("/missing: %d", code)
	}

	lines := p.waitLines(t, textLog, 2)
	want := []string{"GET /ok 200 httproute/default/app/rule/0/match/0/*", "GET /missing 404 -"}
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("text log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	jl := p.waitLines(t, jsonLog, 1)
	if len(jl) != 1 {
		t.Fatalf("JSON log has %d lines, want only the 404 (CEL response.code >= 400): %q", len(jl), jl)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(jl[0]), &entry); err != nil {
		t.Fatalf("JSON log line %q: %v", jl[0], err)
	}
	if entry["method"] != "GET" || entry["path"] != "/missing" || fmt.Sprint(entry["code"]) != "404" || entry["flags"] != "NR" {
		t.Errorf("JSON log entry %v", entry)
	}
}

// TestEnvoyProxyPreserveRouteOrder: rules "/" then "/api": Gateway API
// precedence sends /api/x to the second rule; preserveRouteOrder keeps the
// written order, so the first rule wins.
func TestEnvoyProxyPreserveRouteOrder(t *testing.T) {
	envoyTest(t)
	first, second := textBackend(t, "first"), textBackend(t, "second")
	for _, tc := range []struct {
		preserve bool
		want     string
	}{{false, "second"}, {true, "first"}} {
		t.Run(fmt.Sprint("preserveRouteOrder=", tc.preserve), func(t *testing.T) {
			t.Parallel()
			port := FreePort(t)
			rules := fmt.Sprintf(`  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: first, port: %d}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: second, port: %d}]
`, first.Port, second.Port)
			epDeploy(t, epManifests(fmt.Sprintf("  preserveRouteOrder: %v", tc.preserve), port,
				staticService("first", first.Port)+staticService("second", second.Port)+httpRoute("r", rules)), nil,
				fmt.Sprintf("127.0.0.1:%d", port))
			code, _, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/api/x", port), "www.example.com")
			if code != 200 || body != tc.want {
				t.Errorf("GET /api/x: %d %q, want %q", code, body, tc.want)
			}
		})
	}
}

// TestEnvoyProxyBootstrapJSONPatch: a JSONPatch adds a runtime layer; the
// running Envoy's admin config dump and runtime show it.
func TestEnvoyProxyBootstrapJSONPatch(t *testing.T) {
	envoyTest(t)
	be := textBackend(t, "ok")
	port := FreePort(t)
	spec := `  bootstrap:
    type: JSONPatch
    jsonPatches:
    - op: add
      path: /layered_runtime
      value: {layers: [{name: egctl-e2e, static_layer: {egctl.e2e.marker: patched}}]}
    - op: add
      path: /stats_flush_interval
      value: 7s`
	p := epDeploy(t, epManifests(spec, port, staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))

	var dump struct {
		Configs []struct {
			Type      string `json:"@type"`
			Bootstrap struct {
				LayeredRuntime struct {
					Layers []struct {
						Name        string         `json:"name"`
						StaticLayer map[string]any `json:"static_layer"`
					} `json:"layers"`
				} `json:"layered_runtime"`
				StatsFlushInterval string `json:"stats_flush_interval"`
			} `json:"bootstrap"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(p.Admin(t, "/config_dump")), &dump); err != nil {
		t.Fatalf("config dump: %v", err)
	}
	found := false
	for _, c := range dump.Configs {
		for _, l := range c.Bootstrap.LayeredRuntime.Layers {
			if l.Name == "egctl-e2e" && l.StaticLayer["egctl.e2e.marker"] == "patched" {
				found = true
				if c.Bootstrap.StatsFlushInterval != "7s" {
					t.Errorf("stats_flush_interval %q, want 7s", c.Bootstrap.StatsFlushInterval)
				}
			}
		}
	}
	if !found {
		t.Fatalf("the patched runtime layer is not in the admin config dump")
	}
	if rt := p.Admin(t, "/runtime"); !strings.Contains(rt, `"egctl.e2e.marker"`) || !strings.Contains(rt, "patched") {
		t.Errorf("admin /runtime lacks the patched key:\n%s", rt)
	}
	if code, _, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "www.example.com"); code != 200 || body != "ok" {
		t.Errorf("traffic after the patch: %d %q", code, body)
	}
}

// TestEnvoyProxyPrometheusListener: the stats listener answers
// /stats/prometheus in Prometheus text, gzip-compressed when asked, and
// nothing else (no admin API on it).
func TestEnvoyProxyPrometheusListener(t *testing.T) {
	envoyTest(t)
	be := textBackend(t, "ok")
	port, stats := FreePort(t), FreePort(t)
	spec := `  telemetry:
    metrics:
      prometheus: {compression: {type: Gzip}}
      enablePerEndpointStats: true`
	epDeploy(t, epManifests(spec, port, staticService("app", be.Port)+
		httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(be.Port)+"}]\n")),
		[]string{"--stats-port", strconv.Itoa(stats)}, fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", stats))
	if code, _, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "www.example.com"); code != 200 {
		t.Fatalf("traffic: %d", code)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", stats)
	code, hdr, body := get(t, base+"/stats/prometheus", "stats")
	if code != 200 {
		t.Fatalf("/stats/prometheus: %d %q", code, body)
	}
	for _, want := range []string{"# TYPE envoy_server_live gauge", "envoy_server_live{} 1", "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"httproute/default/app/rule/0\"} 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("Prometheus text lacks %q (content type %s)", want, hdr.Get("Content-Type"))
		}
	}
	code, hdr, body = get(t, base+"/stats/prometheus", "stats", "Accept-Encoding", "gzip")
	if code != 200 || hdr.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d, Content-Encoding %q", code, hdr.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), "# TYPE envoy_server_live gauge") {
		t.Errorf("the gzip body is not the Prometheus text")
	}
	if code, _, _ := get(t, base+"/config_dump", "stats"); code != 404 {
		t.Errorf("the stats listener serves /config_dump: %d", code)
	}
}

// TestEnvoyProxyRoutingType: the Service's cluster IP and port lead to one
// backend, its EndpointSlice to another; routingType Service picks the
// cluster IP, Endpoint (the default) the endpoints.
func TestEnvoyProxyRoutingType(t *testing.T) {
	envoyTest(t)
	viaIP, viaEndpoint := textBackend(t, "cluster-ip"), textBackend(t, "endpoint")
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  clusterIP: 127.0.0.1
  ports: [{name: http, port: %d, targetPort: %d}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-1, namespace: default, labels: {kubernetes.io/service-name: app}}
addressType: IPv4
ports: [{name: http, port: %d}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
---
`, viaIP.Port, viaEndpoint.Port, viaEndpoint.Port)
	for _, tc := range []struct{ routing, want string }{{"Endpoint", "endpoint"}, {"Service", "cluster-ip"}} {
		t.Run(tc.routing, func(t *testing.T) {
			t.Parallel()
			port := FreePort(t)
			epDeploy(t, epManifests("  routingType: "+tc.routing, port, svc+
				httpRoute("app", "  - backendRefs: [{name: app, port: "+strconv.Itoa(viaIP.Port)+"}]\n")), nil, fmt.Sprintf("127.0.0.1:%d", port))
			if code, _, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "www.example.com"); code != 200 || body != tc.want {
				t.Errorf("routingType %s: %d %q, want %q", tc.routing, code, body, tc.want)
			}
		})
	}
}

// TestEnvoyProxyMergeGateways: two Gateways of a merging class run in one
// Envoy (one bootstrap, named after the class) and both serve.
func TestEnvoyProxyMergeGateways(t *testing.T) {
	envoyTest(t)
	a, b := textBackend(t, "a"), textBackend(t, "b")
	pa, pb := FreePort(t), FreePort(t)
	m := epClass + `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: proxy, namespace: default}
spec: {mergeGateways: true}
---
` + gatewayYAML("gw", pa) + "---\n" + gatewayYAML("gw2", pb) + "---\n" + staticService("a", a.Port) + staticService("b", b.Port) +
		httpRoute("a", "  - backendRefs: [{name: a, port: "+strconv.Itoa(a.Port)+"}]\n") +
		strings.Replace(httpRoute("b", "  - backendRefs: [{name: b, port: "+strconv.Itoa(b.Port)+"}]\n"), "{name: gw}", "{name: gw2}", 1)
	p := epDeploy(t, m, nil, fmt.Sprintf("127.0.0.1:%d", pa), fmt.Sprintf("127.0.0.1:%d", pb))
	for port, want := range map[int]string{pa: "a", pb: "b"} {
		if code, _, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "www.example.com"); code != 200 || body != want {
			t.Errorf("port %d: %d %q, want %q", port, code, body, want)
		}
	}
	if !strings.Contains(p.Admin(t, "/server_info"), `"eg"`) {
		t.Errorf("the merged proxy's node is not named after the class")
	}
}

// TestEnvoyProxyBackendTLSClientCertificate: a backend that requires a
// client certificate is reached with the EnvoyProxy's backendTLS
// certificate (and TLS 1.3 as asked); without it the handshake fails and
// Envoy answers 503.
func TestEnvoyProxyBackendTLSClientCertificate(t *testing.T) {
	envoyTest(t)
	ca := NewCA(t, "e2e backend CA")
	server := ca.Issue(t, ECDSAKey, false, "backend.internal")
	client := ca.Issue(t, ECDSAKey, true, "proxy-client")
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.Pair},
		ClientCAs:    ca.Pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "client=%s tls=%x", r.TLS.PeerCertificates[0].Subject.CommonName, r.TLS.Version)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	bePort := l.Addr().(*net.TCPAddr).Port
	rest := TLSSecretYAML("proxy-client", client) + "---\n" + staticService("tls-app", bePort) + fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: backend-ca, namespace: default}
data:
  ca.crt: |
%s
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: tls-app, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: tls-app}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}]
    hostname: backend.internal
---
`, indent(4, string(ca.CertPEM))) + httpRoute("app", "  - backendRefs: [{name: tls-app, port: "+strconv.Itoa(bePort)+"}]\n")
	for _, tc := range []struct {
		name, spec string
		code       int
		body       string
	}{
		{"with backendTLS", "  backendTLS:\n    clientCertificateRef: {name: proxy-client}\n    minVersion: \"1.3\"", 200, "client=proxy-client tls=304"},
		{"without", "  preserveRouteOrder: false", 503, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := FreePort(t)
			epDeploy(t, epManifests(tc.spec, port, rest), nil, fmt.Sprintf("127.0.0.1:%d", port))
			code, _, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "www.example.com")
			if code != tc.code || (tc.body != "" && body != tc.body) {
				t.Errorf("%d %q, want %d %q", code, body, tc.code, tc.body)
			}
		})
	}
}

// TestEnvoyProxyFilterOrder: a CORS preflight is answered by the CORS
// filter before external authorization sees it (Envoy Gateway's default
// order); with filterOrder moving ext_authz before CORS, the authorization
// service decides the preflight too, and denies it.
func TestEnvoyProxyFilterOrder(t *testing.T) {
	envoyTest(t)
	auth := startHTTPAuthServer(t)
	be := textBackend(t, "ok")
	rest := staticService("app", be.Port) + staticService("auth", auth.Port) + httpRoute("app", `  - backendRefs: [{name: app, port: `+strconv.Itoa(be.Port)+`}]
    filters:
    - type: CORS
      cors: {allowOrigins: ["https://www.example.com"], allowMethods: [GET, POST]}
`) + `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: auth, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  extAuth:
    http: {backendRefs: [{name: auth, port: ` + strconv.Itoa(auth.Port) + `}]}
    headersToExtAuth: [x-decision]
---
`
	for _, tc := range []struct {
		name, spec string
		code       int
	}{
		{"default order", "  preserveRouteOrder: false", 200},
		{"ext_authz first", "  filterOrder:\n  - {name: envoy.filters.http.ext_authz, before: envoy.filters.http.cors}", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := FreePort(t)
			epDeploy(t, epManifests(tc.spec, port, rest), nil, fmt.Sprintf("127.0.0.1:%d", port))
			before := len(auth.Checks())
			req, err := http.NewRequest(http.MethodOptions, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "www.example.com"
			req.Header.Set("Origin", "https://www.example.com")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("X-Decision", "deny")
			resp := Do(t, httpClient, req)
			if resp.Status != tc.code {
				t.Fatalf("preflight: %d, want %d (%s)", resp.Status, tc.code, resp)
			}
			checked := len(auth.Checks()) > before
			if tc.code == 200 && (resp.Header.Get("Access-Control-Allow-Origin") != "https://www.example.com" || checked) {
				t.Errorf("CORS answered? allow-origin %q; authorization service asked: %v", resp.Header.Get("Access-Control-Allow-Origin"), checked)
			}
			if tc.code == 403 && !checked {
				t.Errorf("the authorization service was not asked")
			}
		})
	}
}
