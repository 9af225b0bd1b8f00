package translate

import (
	"strings"
	"testing"
)

// Cases found by test/fuzz FuzzPipeline: input the Gateway API CRDs refuse
// at admission must become a status condition, never invalid IR or an
// Envoy config Envoy refuses.

// TestDuplicateListenerNamesRefused: two listeners named alike produced two
// IR listeners of one name (ir.Validate failed). Both are refused.
func TestDuplicateListenerNamesRefused(t *testing.T) {
	res := run(t, gwYAML("  - {name: http, protocol: HTTP, port: 80}\n  - {name: http, protocol: HTTP, port: 81}\n  - {name: other, protocol: HTTP, port: 82}"))
	if err := res.IR.Validate(); err != nil {
		t.Fatalf("invalid IR: %v", err)
	}
	g := gatewayOut(t, res, "infra", "gw")
	var dup int
	for _, ls := range g.Status.Listeners {
		if ls.Name == "http" {
			dup++
			wantCond(t, ls.Conditions, "Accepted", "False", "UnsupportedValue")
		}
	}
	if dup != 2 {
		t.Fatalf("want 2 listener statuses named http, got %d", dup)
	}
	p := proxy(t, res, "infra/gw")
	if len(p.HTTP) != 1 || p.HTTP[0].Name != "infra/gw/other" {
		t.Errorf("want only infra/gw/other programmed, got %d listeners", len(p.HTTP))
	}
}

// TestListenerPortOutOfRangeRefused: port 65536 reached xds (which failed)
// and port 0 was silently bound at 10000.
func TestListenerPortOutOfRangeRefused(t *testing.T) {
	for _, port := range []string{"0", "65536", "-1"} {
		res := run(t, gwYAML("  - {name: http, protocol: HTTP, port: "+port+"}"))
		wantCond(t, listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "http").Conditions, "Accepted", "False", "UnsupportedValue")
		for _, p := range res.IR.Proxies {
			if len(p.HTTP) != 0 {
				t.Errorf("port %s: listener programmed at %d", port, p.HTTP[0].Port)
			}
		}
	}
	res := run(t, gwYAML("  - {name: http, protocol: HTTP, port: 65535}"))
	if p := proxy(t, res, "infra/gw"); len(p.HTTP) != 1 || p.HTTP[0].Port != 65535 {
		t.Errorf("port 65535 must be programmed as written")
	}
}

// TestHostnamesOutsideCRDPatternRefused: Unicode and upper case were
// compiled as written. (A bare "*" stays accepted, as Envoy Gateway does.)
func TestHostnamesOutsideCRDPatternRefused(t *testing.T) {
	for _, h := range []string{"bücher.example.com", "*.", "A.example.com", "a..b", strings.Repeat("a", 254), "*"} {
		if h != "*" { // a listener takes "*" (TestBareStarListenerHostnameIsAnyHost)
			res := run(t, gwYAML(`  - {name: http, protocol: HTTP, port: 80, hostname: "`+h+`"}`))
			wantCond(t, listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "http").Conditions, "Accepted", "False", "UnsupportedValue")
		}

		res := run(t, egRepro+`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["ok.example.com", "`+h+`"]
  rules: [{backendRefs: [{name: svc, port: 3000}]}]
`)
		wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
		for _, p := range res.IR.Proxies {
			for _, l := range p.HTTP {
				for _, v := range l.VirtualHosts {
					if len(v.Routes) != 0 {
						t.Errorf("%q: route programmed in %s", h, v.Name)
					}
				}
			}
		}
	}
	for _, h := range []string{"*.example.com", "*"} {
		res := run(t, gwYAML(`  - {name: http, protocol: HTTP, port: 80, hostname: "`+h+`"}`))
		wantCond(t, listenerStatus(t, gatewayOut(t, res, "infra", "gw"), "http").Conditions, "Accepted", "True", "Accepted")
	}
}

// TestRegexBeyondEnvoyProgramSizeRefused: RE2 accepts it, Envoy's default
// program-size limit (100) refuses the whole route configuration.
func TestRegexBeyondEnvoyProgramSizeRefused(t *testing.T) {
	big := "/(" + strings.Repeat("[a-z]{1,100}", 2) + ")"
	res := run(t, egRepro+routeYAML(`  - matches: [{path: {type: RegularExpression, value: "`+big+`"}}]
    backendRefs: [{name: svc, port: 3000}]`))
	wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
}

// TestWeightAboveCRDMaximumRefused: three refs of weight 2^31-1 summed past
// 2^32-1, which xds refused after ir.Validate had passed.
func TestWeightAboveCRDMaximumRefused(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - backendRefs:
    - {name: svc, port: 3000, weight: 2147483647}
    - {name: svc, port: 3000, weight: 2147483647}
    - {name: missing, port: 3000, weight: 2147483647}
  - matches: [{path: {type: PathPrefix, value: /ok}}]
    backendRefs: [{name: svc, port: 3000, weight: 1000000}]`))
	wantCond(t, parentConds(t, routeOut(t, res, "default", "r")), "Accepted", "False", "UnsupportedValue")
	vh := vhost(t, proxy(t, res, "default/gw"), "default/gw/http/*")
	var direct, routed int
	for _, r := range vh.Routes {
		switch {
		case r.DirectResponse != nil && r.DirectResponse.StatusCode == 500:
			direct++
		case r.Destination != nil:
			routed++
		}
	}
	if direct != 1 || routed != 1 {
		t.Errorf("want the oversized rule answering 500 and the other routed, got %d direct and %d routed", direct, routed)
	}
}

// TestBareStarListenerHostnameIsAnyHost: "*" became TLS server name "*",
// which Envoy refuses; it means what no hostname means, so the two on one
// port conflict.
func TestBareStarListenerHostnameIsAnyHost(t *testing.T) {
	res := run(t, gwYAML("  - {name: a, protocol: HTTP, port: 80, hostname: \"*\"}\n  - {name: b, protocol: HTTP, port: 80}"))
	g := gatewayOut(t, res, "infra", "gw")
	for _, n := range []string{"a", "b"} {
		wantCond(t, listenerStatus(t, g, n).Conditions, "Conflicted", "True", "HostnameConflict")
	}
	res = run(t, gwYAML("  - {name: a, protocol: HTTP, port: 80, hostname: \"*\"}"))
	if p := proxy(t, res, "infra/gw"); len(p.HTTP) != 1 || p.HTTP[0].Hostname != "" {
		t.Errorf("want one listener with no hostname, got %+v", p.HTTP)
	}
}

// TestMalformedEndpointAddressSkipped: a clusterIP or EndpointSlice address
// that is no IP reached a STATIC cluster, and Envoy refused the config.
func TestMalformedEndpointAddressSkipped(t *testing.T) {
	res := run(t, egRepro+routeYAML(`  - backendRefs: [{name: bad, port: 3000}, {name: sliced, port: 3000}]`)+`
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec: {clusterIP: 10.o/s0.10, ports: [{name: http, port: 3000}]}
---
apiVersion: v1
kind: Service
metadata: {name: sliced, namespace: default}
spec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 3000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sliced-1, namespace: default, labels: {kubernetes.io/service-name: sliced}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints:
- addresses: ["10.244.0.1", "not-an-ip", "fe80::1%eth0"]
`)
	good := 0
	for _, p := range res.IR.Proxies {
		for _, l := range p.HTTP {
			for _, v := range l.VirtualHosts {
				for _, r := range v.Routes {
					if r.Destination == nil {
						continue
					}
					for _, b := range r.Destination.Backends {
						for _, e := range b.Endpoints {
							if e.Host != "10.244.0.1" {
								t.Errorf("backend %s: endpoint %q programmed", b.Name, e.Host)
							} else {
								good++
							}
						}
					}
				}
			}
		}
	}
	if good != 1 {
		t.Errorf("want the one valid endpoint programmed once, got %d", good)
	}
}
