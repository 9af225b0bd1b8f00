package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestLuaFilter: a Lua script (inline, and one from a ConfigMap with a
// per-route filter context) changes a request header the backend sees and
// rewrites the response body.
func TestLuaFilter(t *testing.T) {
	envoyTest(t)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lua, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [lua.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: body-rewrite, namespace: default}
data:
  lua: |
    function envoy_on_response(response_handle)
      local body = response_handle:body()
      local text = body:getBytes(0, body:length())
      local prefix = response_handle:filterContext():get("prefix") or ""
      body:setBytes(prefix .. string.upper(text))
      response_handle:headers():replace("content-type", "text/plain")
    end
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: lua, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: lua}]
  lua:
  - type: Inline
    inline: |
      function envoy_on_request(request_handle)
        local h = request_handle:headers()
        h:replace("x-tenant", "rewritten-" .. (h:get("x-tenant") or "none"))
        h:remove("x-drop-me")
      end
  - type: ValueRef
    valueRef: {group: "", kind: ConfigMap, name: body-rewrite}
    filterContext: {prefix: "lua:"}
`, map[string]any{"App": StartEchoBasic(t, "app").Port})

	r := p.Get(t, "lua.example.com", "/lua", "X-Tenant", "acme", "X-Drop-Me", "secret").ExpectStatus(t, http.StatusOK)
	body := string(r.Body)
	// The body is echo-basic's JSON, upper-cased and prefixed by the
	// second script: the first script's header change is in it.
	if !strings.HasPrefix(body, "lua:{") {
		t.Fatalf("body = %q, want the rewritten echo", body)
	}
	var echo struct {
		Headers map[string][]string `json:"HEADERS"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(body, "lua:")), &echo); err != nil {
		t.Fatalf("body after the prefix is not the echo's JSON: %v\n%s", err, body)
	}
	if got := echo.Headers["X-TENANT"]; len(got) != 1 || got[0] != "REWRITTEN-ACME" {
		t.Errorf("the backend saw x-tenant %q, want the rewritten value", got)
	}
	if _, ok := echo.Headers["X-DROP-ME"]; ok {
		t.Errorf("the removed header reached the backend: %s", body)
	}
	if got := r.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("content-type = %q", got)
	}
}
