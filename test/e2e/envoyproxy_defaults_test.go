package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEnvoyGatewayDefaultTelemetry: a Gateway without an EnvoyProxy gets
// Envoy Gateway's telemetry defaults unless --lean — every request logged
// as JSON to stdout (the one no route matches from the listener, flag NR)
// and the Prometheus stats listener, which the harness moves to a free
// port (--stats-port).
func TestEnvoyGatewayDefaultTelemetry(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "echo" .Echo }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
`, map[string]any{"Echo": StartEchoBasic(t, "echo").Port})
	p.ExpectStatus(t, http.StatusOK, "app.example.com", "/logged")
	p.ExpectStatus(t, http.StatusNotFound, "other.example.com", "/unrouted")

	// Envoy's stdout is its log file; the access log is flushed within a
	// second or so.
	var entries []map[string]any
	Eventually(t, 15*time.Second, func() error {
		b, err := os.ReadFile(p.LogPath)
		if err != nil {
			return err
		}
		entries = entries[:0]
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				entries = append(entries, e)
			}
		}
		if len(entries) < 2 {
			return fmt.Errorf("%d JSON access log lines in Envoy's stdout, want 2", len(entries))
		}
		return nil
	})
	byPath := map[string]map[string]any{}
	for _, e := range entries {
		byPath[fmt.Sprint(e["x-envoy-origin-path"])] = e
	}
	if e := byPath["/logged"]; e == nil || fmt.Sprint(e["response_code"]) != "200" ||
		e["route_name"] != "httproute/default/app/rule/0/match/0/app_example_com" || e[":authority"] != "app.example.com" {
		t.Errorf("access log entry of the routed request: %v (all: %v)", e, entries)
	}
	if e := byPath["/unrouted"]; e == nil || fmt.Sprint(e["response_code"]) != "404" || e["response_flags"] != "NR" {
		t.Errorf("access log entry of the unrouted request: %v (all: %v)", e, entries)
	}

	i := slices.Index(p.Translate.Args, "--stats-port")
	if i < 0 || i+1 >= len(p.Translate.Args) {
		t.Fatalf("the harness gave egctl no --stats-port: %v", p.Translate.Args)
	}
	if _, err := strconv.Atoi(p.Translate.Args[i+1]); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + p.Translate.Args[i+1] + "/stats/prometheus")
	if err != nil {
		t.Fatalf("the stats listener: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "# TYPE envoy_server_live gauge") {
		t.Fatalf("GET /stats/prometheus on the stats listener: %d\n%.300s", resp.StatusCode, body)
	}
}
