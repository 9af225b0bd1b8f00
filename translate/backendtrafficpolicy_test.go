package translate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const btpBase = `
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
  - {name: http, protocol: HTTP, port: 8080}
  - {name: other, protocol: HTTP, port: 8081}
  - {name: tcp, protocol: TCP, port: 9000}
  - {name: udp, protocol: UDP, port: 9001}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: tcp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: dns, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: udp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
`

// runBTP translates manifests read by the real loader (which knows the
// policy kinds).
func runBTP(t *testing.T, docs string) *Result {
	t.Helper()
	return runBTPWith(t, docs, manifest.Options{})
}

// runBTPWith loads with opts; SkipAPIValidation lets input the CRDs refuse
// reach the translator, whose own checks serve callers that build objects
// themselves.
func runBTPWith(t *testing.T, docs string, opts manifest.Options) *Result {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(docs), opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func httpRoute(name, parents string, hosts ...string) string {
	return fmt.Sprintf(`
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: default}
spec:
  parentRefs: %s
  hostnames: [%s]
  rules:
  - name: a
    matches: [{path: {type: PathPrefix, value: /a}}, {path: {type: Exact, value: /a2}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
  - name: b
    matches: [{path: {type: PathPrefix, value: /b}}]
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
`, name, parents, strings.Join(hosts, ", "))
}

func btpDoc(name, targets, body string) string {
	return fmt.Sprintf(`
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: %s, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  targetRefs: %s
%s`, name, targets, body)
}

// btpRoutes lists the IR routes of an HTTPRoute (by object name), per
// listener.
func btpRoutes(res *Result, name string) map[string][]*ir.HTTPRoute {
	out := map[string][]*ir.HTTPRoute{}
	for _, p := range res.IR.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					if r.Metadata != nil && r.Metadata.Name == name {
						out[l.Name] = append(out[l.Name], r)
					}
				}
			}
		}
	}
	return out
}

func btpStatus(t *testing.T, res *Result, name string) []string {
	t.Helper()
	for _, p := range res.Status.BackendTrafficPolicies {
		if p.Name == name {
			var out []string
			for _, a := range p.Status.Ancestors {
				for _, c := range a.Conditions {
					out = append(out, fmt.Sprintf("%s=%s/%s: %s", c.Type, c.Status, c.Reason, c.Message))
				}
			}
			return out
		}
	}
	t.Fatalf("no BackendTrafficPolicy %s", name)
	return nil
}

func hasStatus(conds []string, prefix, substr string) bool {
	for _, c := range conds {
		if strings.HasPrefix(c, prefix) && strings.Contains(c, substr) {
			return true
		}
	}
	return false
}

// One policy on many routes is translated once: every route shares its
// settings, and every route of one rule shares one destination copy.
func TestBTPSharedSettings(t *testing.T) {
	res := runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com", "b.example.com")+
		btpDoc("p", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]", `
  retry: {numRetries: 3}
  loadBalancer: {type: Random}
`))
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	routes := btpRoutes(res, "web")["default/eg/http"]
	if len(routes) != 6 { // 2 hosts × (2 matches of rule a + 1 of rule b)
		t.Fatalf("%d IR routes, want 6", len(routes))
	}
	traffic := routes[0].Traffic
	dests := map[string]*ir.RouteDestination{}
	for _, r := range routes {
		if r.Traffic != traffic || r.Traffic == nil || r.Traffic.Retry.NumRetries != 3 {
			t.Fatalf("route %s: traffic %p %+v, want the shared %p", r.Name, r.Traffic, r.Traffic, traffic)
		}
		if r.Destination.Cluster == nil || r.Destination.Cluster != routes[0].Destination.Cluster {
			t.Fatalf("route %s: cluster settings not shared", r.Name)
		}
		if d, ok := dests[r.Destination.Name]; ok && d != r.Destination {
			t.Fatalf("route %s: destination %s copied twice", r.Name, r.Destination.Name)
		}
		dests[r.Destination.Name] = r.Destination
	}
	if len(dests) != 2 {
		t.Fatalf("%d destinations, want 2 (one per rule)", len(dests))
	}
	// Envoy Gateway raises the default retry circuit breaker along with a
	// retry policy.
	if cb := routes[0].Destination.Cluster.CircuitBreaker; cb == nil || cb.MaxParallelRetries != 1024 {
		t.Fatalf("circuit breaker = %+v, want max retries 1024", cb)
	}
}

// CRD defaults are filled offline, where no API server did.
func TestBTPDefaults(t *testing.T) {
	res := runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com")+
		btpDoc("p", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]", `
  retry: {}
  healthCheck:
    active: {type: HTTP, http: {path: /healthz}}
    passive: {}
  circuitBreaker: {maxConnections: 7}
  faultInjection: {abort: {httpStatus: 500}, delay: {fixedDelay: 1s}}
`))
	r := btpRoutes(res, "web")["default/eg/http"][0]
	rt := r.Traffic.Retry
	if rt.NumRetries != 2 || strings.Join(rt.RetryOn, ",") != "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" ||
		len(rt.StatusCodes) != 1 || rt.StatusCodes[0] != 503 {
		t.Errorf("retry = %+v, want Envoy Gateway's defaults", rt)
	}
	if f := r.Traffic.Fault; f.Abort.Share != 1_000_000 || f.Delay.Share != 1_000_000 {
		t.Errorf("fault shares = %d/%d, want 100%% (the CRD default; Envoy would read none as 0%%)", f.Abort.Share, f.Delay.Share)
	}
	hc := r.Destination.Cluster.HealthCheck
	a := hc.Active
	if a.Timeout != time.Second || a.Interval != 3*time.Second || a.UnhealthyThreshold != 3 || a.HealthyThreshold != 1 ||
		len(a.ExpectedStatuses) != 1 || a.ExpectedStatuses[0] != 200 {
		t.Errorf("active = %+v, want CRD defaults", a)
	}
	if a.Host != "a.example.com" {
		t.Errorf("probe Host = %q, want the route's hostname", a.Host)
	}
	p := hc.Passive
	if p.Interval != 3*time.Second || p.BaseEjectionTime != 30*time.Second || p.MaxEjectionPercent != 10 ||
		*p.Consecutive5xxErrors != 5 || *p.ConsecutiveLocalOriginFailures != 5 {
		t.Errorf("passive = %+v, want CRD defaults", p)
	}
	cb := r.Destination.Cluster.CircuitBreaker
	if cb.MaxConnections != 7 || cb.MaxPendingRequests != 1024 || cb.MaxParallelRequests != 1024 || cb.MaxParallelRetries != 1024 {
		t.Errorf("circuit breaker = %+v", cb)
	}
}

// mergeType combines a route policy with the Gateway's: JSONMerge replaces
// lists, StrategicMerge merges compressors by type.
func TestBTPMerge(t *testing.T) {
	gw := btpDoc("gw", "[{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]", `
  compressor: [{type: Gzip, gzip: {}}]
  loadBalancer: {type: Random}
  timeout: {http: {requestTimeout: 9s}}
`)
	for _, tt := range []struct {
		mt   string
		want []ir.CompressorType
	}{
		{"JSONMerge", []ir.CompressorType{"Brotli"}},
		{"StrategicMerge", []ir.CompressorType{"Brotli", "Gzip"}},
	} {
		t.Run(tt.mt, func(t *testing.T) {
			res := runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com")+gw+
				btpDoc("route", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web, sectionName: a}]", `
  mergeType: `+tt.mt+`
  compressor: [{type: Brotli, brotli: {}}]
`))
			for _, r := range btpRoutes(res, "web")["default/eg/http"] {
				ts := r.Traffic
				if r.Metadata.SectionName == "b" {
					if ts.Policy != "backendtrafficpolicy/default/gw" {
						t.Errorf("rule b: policy %s, want the Gateway's", ts.Policy)
					}
					continue
				}
				var got []ir.CompressorType
				for _, c := range ts.Compressors {
					got = append(got, c.Type)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("compressors = %v, want %v", got, tt.want)
				}
				if ts.Timeout == nil || *ts.Timeout.Request != 9*time.Second || r.Destination.Cluster.LoadBalancer.Type != ir.LBRandom {
					t.Errorf("the Gateway's timeout and load balancer were not merged in")
				}
			}
			if !hasStatus(btpStatus(t, res, "route"), "Merged=True", "Merged with policy default/gw") {
				t.Errorf("route policy status: %v", btpStatus(t, res, "route"))
			}
		})
	}
}

// A rule reached through listeners whose policies ask for different
// cluster settings gets one cluster per variant, never one silently shared.
func TestBTPClusterSplit(t *testing.T) {
	res := runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}, {name: eg, sectionName: other}]", "a.example.com")+
		btpDoc("p", "[{group: gateway.networking.k8s.io, kind: Gateway, name: eg, sectionName: http}]", `
  loadBalancer: {type: Random}
`))
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	by := btpRoutes(res, "web")
	for _, r := range by["default/eg/http"] {
		if !strings.HasSuffix(r.Destination.Name, "/rule/0") && !strings.HasSuffix(r.Destination.Name, "/rule/1") {
			t.Errorf("listener http keeps Envoy Gateway's name, got %s", r.Destination.Name)
		}
		if r.Destination.Cluster == nil {
			t.Errorf("listener http: no cluster settings")
		}
	}
	for _, r := range by["default/eg/other"] {
		if !strings.Contains(r.Destination.Name, "/variant/1") || r.Destination.Cluster != nil {
			t.Errorf("listener other: destination %s with %+v, want a variant without settings", r.Destination.Name, r.Destination.Cluster)
		}
		for _, be := range r.Destination.Backends {
			if !strings.HasPrefix(be.Name, r.Destination.Name+"/backend/") {
				t.Errorf("backend %s not renamed with its destination %s", be.Name, r.Destination.Name)
			}
		}
	}
	if !hasStatus(btpStatus(t, res, "p"), "Warning=True", "is split into") {
		t.Errorf("status: %v", btpStatus(t, res, "p"))
	}

	// The same settings through both listeners: nothing to split.
	res = runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}, {name: eg, sectionName: other}]", "a.example.com")+
		btpDoc("p", "[{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]", `
  loadBalancer: {type: Random}
`))
	for _, rs := range btpRoutes(res, "web") {
		for _, r := range rs {
			if strings.Contains(r.Destination.Name, "variant") {
				t.Errorf("split %s though both listeners have the same policy", r.Destination.Name)
			}
		}
	}
}

// L4 routes take what applies to them: a Gateway-wide policy leaves out
// the HTTP-only fields and says so; one aimed at the route fails it.
func TestBTPL4(t *testing.T) {
	res := runBTP(t, btpBase+btpDoc("gw", "[{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]", `
  retry: {numRetries: 1}
  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}
  timeout: {tcp: {connectTimeout: 2s}}
`))
	if err := res.IR.Validate(); err != nil {
		t.Fatal(err)
	}
	px := res.IR.Proxies[0]
	tcp := px.TCP[0].Routes[0]
	if cs := tcp.Destination.Cluster; cs == nil || cs.ConnectTimeout != 2*time.Second || !cs.LoadBalancer.ConsistentHash.SourceIP || cs.CircuitBreaker != nil {
		t.Errorf("TCP cluster settings = %+v", tcp.Destination.Cluster)
	}
	udp := px.UDP[0].Route
	if cs := udp.Destination.Cluster; cs == nil || cs.ConnectTimeout != 0 || !cs.LoadBalancer.ConsistentHash.SourceIP {
		t.Errorf("UDP cluster settings = %+v", udp.Destination.Cluster)
	}
	st := btpStatus(t, res, "gw")
	if !hasStatus(st, "Accepted=True", "") || !hasStatus(st, "Warning=True", "spec.retry applies to HTTP and GRPC routes only, not to TCPRoute default/db") ||
		!hasStatus(st, "Warning=True", "spec.retry, spec.timeout.tcp apply to HTTP and GRPC routes only, not to UDPRoute default/dns") {
		t.Errorf("status: %v", st)
	}

	res = runBTP(t, btpBase+btpDoc("db", "[{group: gateway.networking.k8s.io, kind: TCPRoute, name: db}]", `
  retry: {numRetries: 1}
`))
	tcp = res.IR.Proxies[0].TCP[0].Routes[0]
	if tcp.Destination.InvalidWeight == 0 || len(tcp.Destination.Backends) != 0 {
		t.Errorf("TCP route not failed closed: %+v", tcp.Destination)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "spec.retry applies to HTTP and GRPC routes only") {
		t.Errorf("problems = %v", res.Problems)
	}
}

// The route's own Gateway API retry and timeout win, as in Envoy Gateway;
// the policy says so.
func TestBTPGatewayAPIPrecedence(t *testing.T) {
	res := runBTP(t, btpBase+`
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  rules:
  - timeouts: {request: 1s}
    retry: {attempts: 1}
    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]
`+btpDoc("p", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]", `
  retry: {numRetries: 5}
  timeout: {http: {requestTimeout: 30s}}
`))
	st := btpStatus(t, res, "p")
	for _, want := range []string{"sets its own retry", "sets its own request timeout"} {
		if !hasStatus(st, "Warning=True", want) {
			t.Errorf("no warning %q in %v", want, st)
		}
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems: %v", res.Problems)
	}
}

// routingType Service sends to the cluster IP, Endpoint to the slices.
func TestBTPRoutingType(t *testing.T) {
	svc := `
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.5
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [127.0.0.7], conditions: {ready: true}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  rules:
  - name: svc
    matches: [{path: {type: PathPrefix, value: /svc}}]
    backendRefs: [{name: web, port: 80}]
  - name: eps
    matches: [{path: {type: PathPrefix, value: /eps}}]
    backendRefs: [{name: web, port: 80}]
`
	res := runBTP(t, btpBase+svc+btpDoc("p", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web, sectionName: svc}]", `
  routingType: Service
`))
	for _, r := range btpRoutes(res, "web")["default/eg/http"] {
		ep := r.Destination.Backends[0].Endpoints
		want := ir.Endpoint{Host: "127.0.0.7", Port: 8080}
		if r.Metadata.SectionName == "svc" {
			want = ir.Endpoint{Host: "10.96.0.5", Port: 80}
		}
		if len(ep) != 1 || ep[0] != want {
			t.Errorf("rule %s: endpoints %v, want %v", r.Metadata.SectionName, ep, want)
		}
	}
}

func TestBTPDeprecatedFields(t *testing.T) {
	res := runBTP(t, btpBase+httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com")+`
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: old, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}
  compression: [{type: Gzip}]
`)
	st := btpStatus(t, res, "old")
	if !hasStatus(st, "Warning=True/DeprecatedField", "spec.compression is deprecated, use spec.compressor instead; spec.targetRef is deprecated, use spec.targetRefs instead") {
		t.Errorf("status: %v", st)
	}
	if !strings.HasPrefix(st[0], "Accepted=True") {
		t.Errorf("Accepted is not the first condition: %v", st)
	}
}

// Every field egctl cannot honour fails the routes closed and names the
// field.
func TestBTPRefusals(t *testing.T) {
	for _, tt := range []struct {
		body, want string
		// crd: the CRDs refuse it too, so the loader stops it first.
		crd bool
	}{
		{"loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, tableSize: 4}}", "spec.loadBalancer.consistentHash.tableSize: 4 is not a prime", false},
		{"loadBalancer: {type: ConsistentHash}", "spec.loadBalancer: consistentHash must be set exactly when type is ConsistentHash", true},
		{"loadBalancer: {type: Random, slowStart: {window: 1s}}", "spec.loadBalancer.slowStart: only RoundRobin", true},
		{"loadBalancer: {type: RoundRobin, zoneAware: {weightedZones: [{zone: a, weight: 1}]}}", "spec.loadBalancer.zoneAware.weightedZones", false},
		{"faultInjection: {}", "spec.faultInjection: set delay, abort or both", true},
		{"faultInjection: {abort: {httpStatus: 500, grpcStatus: 3}}", "spec.faultInjection.abort: set exactly one", true},
		{"retry: {perRetry: {backOff: {baseInterval: 2s, maxInterval: 1s}}}", "maxInterval 1s is less than baseInterval 2s", false},
		{"timeout: {tcp: {connectTimeout: 0s}}", "spec.timeout.tcp.connectTimeout: must be greater than 0", false},
		{"healthCheck: {active: {type: HTTP}}", "spec.healthCheck.active: http, tcp and grpc must match type", true},
		{"healthCheck: {active: {type: HTTP, http: {path: /, requestBody: {type: Text, text: x}}}}", "requestBody needs method POST or PUT", true},
		{"responseOverride: [{match: {statusCodes: [{type: Range, range: {start: 500, end: 400}}]}, response: {statusCode: 500}}]", "end 400 must be greater than start 500", true},
		{"bandwidthLimit: {request: {limit: {value: 10, unit: Second}}}", "below Envoy's minimum of 1 KiB/s", false},
		{"telemetry: {metrics: {routeStatName: '%FOO%'}}", "unsupported operator %FOO%", false},
		{"http2: {connectionKeepalive: {interval: 5s, timeout: 10s}}", "timeout must be less than interval", true},
		{"routingType: Magic", `spec.routingType: "Magic" is not Service or Endpoint`, false},
		{"responseOverride: [{match: {statusCodes: [{value: 404}]}, response: {body: {inline: '50% off'}}}]", "spec.responseOverride[0].response.body: '%' at byte 2 does not start an Envoy command operator", false},
		{"compression: [{type: Gzip}]\n  compressor: [{type: Gzip, gzip: {}}]", "either compression or compressor can be set, not both", true},
		{"requestBuffer: {limit: 1Mi}\n  httpUpgrade: [{type: websocket}]", "spec.requestBuffer cannot be used together with spec.httpUpgrade", true},
		{"connection: {preconnect: {predictivePercent: 200}}", "predictivePercent: needs loadBalancer.type RoundRobin or Random", true},
	} {
		t.Run(tt.want, func(t *testing.T) {
			docs := btpBase + httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com") +
				btpDoc("p", "[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]", "  "+tt.body+"\n")
			_, _, err := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{})
			if tt.crd && (err == nil || !strings.Contains(err.Error(), "BackendTrafficPolicy default/p: spec")) {
				t.Errorf("the loader accepts what the CRDs refuse (err %v)", err)
			}
			if !tt.crd && err != nil {
				t.Fatalf("the loader refuses it: %v", err)
			}
			res := runBTPWith(t, docs, manifest.Options{SkipAPIValidation: true})
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, tt.want) {
				t.Fatalf("problems = %v, want one with %q", res.Problems, tt.want)
			}
			for _, r := range btpRoutes(res, "web")["default/eg/http"] {
				if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
					t.Errorf("route %s not failed closed", r.Name)
				}
			}
		})
	}
}

// mergeType on a Gateway: the CRD refuses it (the loader first); the
// translator refuses it too for callers that skip the loader's checks.
func TestBTPMergeTypeOnGateway(t *testing.T) {
	docs := btpBase + httpRoute("web", "[{name: eg, sectionName: http}]", "a.example.com") +
		btpDoc("p", "[{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]", "  mergeType: StrategicMerge\n  loadBalancer: {type: Random}\n")
	if _, _, err := manifest.LoadBytes("in.yaml", []byte(docs), manifest.Options{}); err == nil || !strings.Contains(err.Error(), "mergeType") {
		t.Errorf("the loader accepts mergeType on a Gateway (err %v)", err)
	}
	res := runBTPWith(t, docs, manifest.Options{SkipAPIValidation: true})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "spec.mergeType can only be used with xRoute targets") {
		t.Fatalf("problems = %v", res.Problems)
	}
	for _, r := range btpRoutes(res, "web")["default/eg/http"] {
		if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
			t.Errorf("route %s not failed closed", r.Name)
		}
	}
}
