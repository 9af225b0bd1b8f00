package translate

import (
	"os"
	"strings"
	"testing"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

func runEEP(t *testing.T, docs string) *Result {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	return res
}

// routeExt returns the extensions of the first IR route of an HTTPRoute.
func routeExt(t *testing.T, cfg *ir.Config, name string) (*ir.HTTPRoute, *ir.ExtensionSettings) {
	t.Helper()
	for _, p := range cfg.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					if r.Metadata.Name == name {
						return r, r.Extensions
					}
				}
			}
		}
	}
	t.Fatalf("no IR route of %s", name)
	return nil, nil
}

const processorSvc = `
---
apiVersion: v1
kind: Service
metadata: {name: proc, namespace: default}
spec:
  clusterIP: 10.0.0.9
  ports: [{name: grpc, port: 9000}]
`

func TestEEPFailOpen(t *testing.T) {
	policy := func(failOpen string) string {
		return `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  extProc:
    - backendRefs: [{name: proc, port: 9000}]
    - backendRefs: [{name: missing, port: 9000}]
      failOpen: ` + failOpen + `
`
	}
	// The failing processor fails open: the route keeps the one that works.
	res := runEEP(t, policyBase+processorSvc+policy("true"))
	r, ext := routeExt(t, res.IR, "guarded")
	if r.Destination == nil || ext == nil || len(ext.ExtProcs) != 1 || ext.ExtProcs[0].Name != "envoyextensionpolicy/default/p/extproc/0" {
		t.Fatalf("route = %+v, extensions = %+v", r, ext)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "failOpen") {
		t.Fatalf("problems = %+v", res.Problems)
	}
	// It does not: the route answers 500.
	res = runEEP(t, policyBase+processorSvc+policy("false"))
	if got := failsClosed(t, res.IR); !got["default/guarded"] || got["default/open"] {
		t.Fatalf("fails closed = %v", got)
	}
}

func TestEEPMergeOwners(t *testing.T) {
	docs := policyBase + processorSvc + `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: gw, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  extProc: [{backendRefs: [{name: proc, port: 9000}]}]
  lua: [{type: Inline, inline: "function envoy_on_request(h) end"}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: route, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  mergeType: JSONMerge
  lua: [{type: Inline, inline: "function envoy_on_response(h) end"}]
`
	res := runEEP(t, docs)
	_, ext := routeExt(t, res.IR, "guarded")
	// The processor is the Gateway policy's (named after it); the Lua list
	// is the route's, which replaced the Gateway's.
	if ext == nil || len(ext.ExtProcs) != 1 || ext.ExtProcs[0].Name != "envoyextensionpolicy/default/gw/extproc/0" ||
		len(ext.Luas) != 1 || ext.Luas[0].Name != "envoyextensionpolicy/default/route/lua/0" || !strings.Contains(ext.Luas[0].Code, "envoy_on_response") {
		t.Fatalf("merged extensions = %+v", ext)
	}
	// The other route has the Gateway's policy alone.
	_, other := routeExt(t, res.IR, "open")
	if other == nil || len(other.Luas) != 1 || other.Luas[0].Name != "envoyextensionpolicy/default/gw/lua/0" {
		t.Fatalf("Gateway extensions = %+v", other)
	}
	// Routes of one policy share one translation.
	if other == ext {
		t.Fatal("merged and unmerged routes share settings")
	}
}

func TestEEPSharedPerPolicy(t *testing.T) {
	docs := policyBase + `
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: gw, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  lua: [{type: Inline, inline: "function envoy_on_request(h) end"}]
`
	res := runEEP(t, docs)
	_, a := routeExt(t, res.IR, "guarded")
	_, b := routeExt(t, res.IR, "open")
	if a == nil || a != b {
		t.Fatalf("one policy, two translations: %p %p", a, b)
	}
}

func TestEEPLuaConfigMap(t *testing.T) {
	docs := policyBase + `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: scripts, namespace: default}
data:
  z.lua: "function envoy_on_request(h) h:headers():add('x', 'z') end"
  m.lua: "function envoy_on_request(h) h:headers():add('x', 'm') end"
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  lua: [{type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: scripts}}]
`
	for i := 0; i < 5; i++ { // the same key every time
		res := runEEP(t, docs)
		_, ext := routeExt(t, res.IR, "guarded")
		if ext == nil || !strings.Contains(ext.Luas[0].Code, "'m'") {
			t.Fatalf("lua = %+v", ext)
		}
	}
	res := runEEP(t, strings.Replace(docs, "name: scripts}}]", "name: nope}}]", 1))
	if got := failsClosed(t, res.IR); !got["default/guarded"] {
		t.Fatal("a missing ConfigMap must fail the route closed")
	}
}

func TestLuaValidation(t *testing.T) {
	b := &builder{}
	ok := []string{
		"function envoy_on_request(h) h:headers():add('x', 'y') end",
		`function envoy_on_response(h)
		   local n = 0
		   for k, v in pairs(h:headers()) do n = n + 1 end
		   h:headers():replace("x-count", tostring(n))
		   local body = h:body()
		   body:setBytes("hello")
		   h:headers():add("x-len", body:length())
		   h:streamInfo():dynamicMetadata():set("ns", "k", "v")
		   h:logInfo("ok " .. bit.band(6, 3) .. os.time())
		 end`,
		// a header that may be absent, checked before use
		"function envoy_on_request(h) local v = h:headers():get('x') if v then h:logInfo(v) end end",
		"function envoy_on_request(h) local p = h:headers():get(':path'); h:logInfo(p:lower()) end",
	}
	for _, code := range ok {
		if err := b.validateLua(code, egv1a1.LuaValidationStrict); err != nil {
			t.Errorf("%q: %v", code, err)
		}
	}
	bad := map[string]string{
		"function envoy_on_request(h) h:header() end":                           "has no method 'header'",
		"function envoy_on_request(h) h.headers() end":                          "must be called with ':'",
		"function envoy_on_request(h) h:headers():add('x', {}) end":             "string expected, got table",
		"function envoy_on_request(h) h:headers():get('x'):lower() end":         "line 1",
		"function envoy_on_response(h) h:respond({[':status']='200'}, 'x') end": "not supported in envoy_on_response",
		"function envoy_on_request(h) os.execute('touch /tmp/egctl-pwned') end": "attempt to call a non-function object",
		"function envoy_on_request(h) io.open('/etc/passwd') end":               "with key 'open'",
		"function envoy_on_request(h) local s = string.rep('x', 1e9) end":       "longer than",
		"function envoy_on_request(h) while true do end end":                    "did not finish",
		"function envoy_on_request(h) require('os') end":                        "attempt to call a non-function object",
		"local x = 1":                  "envoy_on_request() or envoy_on_response()",
		"function envoy_on_request(h)": "at the end of the script",
	}
	for code, want := range bad {
		start := time.Now()
		err := b.validateLua(code, egv1a1.LuaValidationStrict)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", code, err, want)
		}
		if d := time.Since(start); d > luaTimeout+3*time.Second {
			t.Errorf("%q took %s", code, d)
		}
	}
	if _, err := os.Stat("/tmp/egctl-pwned"); err == nil {
		t.Error("a script ran a command on the compiling machine")
	}
	// InsecureSyntax only compiles; Disabled checks nothing but the entry
	// points.
	typo := "function envoy_on_request(h) h:header() end"
	if err := b.validateLua(typo, egv1a1.LuaValidationInsecureSyntax); err != nil {
		t.Errorf("InsecureSyntax refused a script that compiles: %v", err)
	}
	if err := b.validateLua("function envoy_on_request(h", egv1a1.LuaValidationInsecureSyntax); err == nil {
		t.Error("InsecureSyntax accepted a syntax error")
	}
	if err := b.validateLua("function envoy_on_request(h", egv1a1.LuaValidationDisabled); err != nil {
		t.Errorf("Disabled checked the script: %v", err)
	}
}

func TestEEPL4Targets(t *testing.T) {
	docs := `
apiVersion: gateway.networking.k8s.io/v1
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
    - {name: tcp, protocol: TCP, port: 9000}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TARGET, name: NAME}]
  lua: [{type: Inline, inline: "function envoy_on_request(h) end"}]
`
	refused := func(res *Result) bool {
		r := res.IR.Proxies[0].TCP[0].Routes[0]
		return r.Destination.InvalidWeight > 0 && len(r.Destination.Backends) == 0
	}
	// Through the Gateway: the TCP route is not HTTP and is left alone.
	res := runEEP(t, strings.NewReplacer("TARGET", "Gateway", "NAME", "eg").Replace(docs))
	if refused(res) || len(res.Problems) != 0 {
		t.Fatalf("Gateway target: refused=%v problems=%+v", refused(res), res.Problems)
	}
	// Named explicitly: refused.
	res = runEEP(t, strings.NewReplacer("TARGET", "TCPRoute", "NAME", "tcp").Replace(docs))
	if !refused(res) || len(res.Problems) != 1 {
		t.Fatalf("TCPRoute target: refused=%v problems=%+v", refused(res), res.Problems)
	}
}

type fakeImages struct{ refs []WasmImageRef }

func (f *fakeImages) ResolveWasmImage(ref WasmImageRef) ([]byte, error) {
	f.refs = append(f.refs, ref)
	return []byte("\x00asm\x01\x00\x00\x00"), nil
}

func TestEEPWasmImage(t *testing.T) {
	docs := policyBase + `
---
apiVersion: v1
kind: Secret
metadata: {name: pull, namespace: default}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: '{"auths":{"registry.example.com":{"auth":"dTpw"}}}'}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: guarded}]
  wasm:
  - code:
      type: Image
      image:
        url: oci://registry.example.com/filters/f:v1
        sha256: ` + strings.Repeat("a", 64) + `
        pullSecretRef: {name: pull}
`
	set, _, err := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Without a resolver: refused, the route fails closed.
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !failsClosed(t, res.IR)["default/guarded"] || !strings.Contains(res.Problems[0].Message, "no resolver") {
		t.Fatalf("problems = %+v", res.Problems)
	}
	f := &fakeImages{}
	res, err = Translate(set, Options{WasmImages: f})
	if err != nil {
		t.Fatal(err)
	}
	_, ext := routeExt(t, res.IR, "guarded")
	if ext == nil || len(ext.Wasms) != 1 || len(ext.Wasms[0].Code.Inline) != 8 || ext.Wasms[0].Code.Origin != "oci://registry.example.com/filters/f:v1" {
		t.Fatalf("wasm = %+v", ext)
	}
	if len(f.refs) != 1 || f.refs[0].SHA256 != strings.Repeat("a", 64) || !strings.Contains(string(f.refs[0].PullSecret), "dTpw") {
		t.Fatalf("resolver saw %+v", f.refs)
	}
}
