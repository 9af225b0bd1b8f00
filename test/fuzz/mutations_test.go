package fuzz

import (
	"fmt"
	"strings"
)

type mutation struct{ name, data string }

// base is a GatewayClass, a Service with endpoints and a ReferenceGrant-free
// namespace: every mutation adds a Gateway and routes to it.
const base = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 3000, targetPort: 3000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: default
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints:
- addresses: ["10.244.0.11"]
  conditions: {ready: true}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: default}
spec:
  clusterIP: 10.96.0.11
  ports: [{name: http, port: 3000, targetPort: 3000}]
`

func gateway(listeners string) string {
	return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: eg, namespace: default}\nspec:\n  gatewayClassName: eg\n  listeners:\n" + listeners
}

const httpListener = "  - {name: http, protocol: HTTP, port: 80}\n"

func httpRoute(name, spec string) string {
	return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: default}\nspec:\n  parentRefs: [{name: eg}]\n" + spec
}

// mutations stress structure rather than syntax: the fuzzer mutates bytes
// well, but finds deep shapes (overflowing sums, size limits) slowly.
func mutations() []mutation {
	long := strings.Repeat("a", 300)
	longDNS := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	bigRegex := "/(" + strings.Repeat("[a-z]{1,100}", 40) + ")"
	gw := base + gateway(httpListener)
	return []mutation{
		{"empty-listeners", base + gateway("    []\n")},
		{"empty-rules", gw + httpRoute("r", "  rules: []\n")},
		{"empty-rule", gw + httpRoute("r", "  rules: [{}]\n")},
		{"empty-backendrefs", gw + httpRoute("r", "  rules: [{backendRefs: []}]\n")},
		{"empty-matches", gw + httpRoute("r", "  rules: [{matches: [], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"empty-match", gw + httpRoute("r", "  rules: [{matches: [{}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"huge-weights", gw + httpRoute("r", "  rules:\n  - backendRefs:\n    - {name: backend, port: 3000, weight: 2147483647}\n    - {name: other, port: 3000, weight: 2147483647}\n    - {name: backend, port: 3000, weight: 2147483647}\n")},
		{"huge-weights-missing", gw + httpRoute("r", "  rules:\n  - backendRefs:\n    - {name: backend, port: 3000, weight: 2147483647}\n    - {name: missing, port: 3000, weight: 2147483647}\n")},
		{"zero-weights", gw + httpRoute("r", "  rules:\n  - backendRefs:\n    - {name: backend, port: 3000, weight: 0}\n    - {name: other, port: 3000, weight: 0}\n")},
		{"duplicate-listener-names", base + gateway("  - {name: http, protocol: HTTP, port: 80}\n  - {name: http, protocol: HTTP, port: 81}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"duplicate-listener-ports", base + gateway("  - {name: a, protocol: HTTP, port: 80, hostname: a.example.com}\n  - {name: b, protocol: HTTP, port: 80, hostname: a.example.com}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"unicode-hostname", gw + httpRoute("r", "  hostnames: [\"bücher.example.com\"]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"unicode-listener-hostname", base + gateway("  - {name: http, protocol: HTTP, port: 80, hostname: \"ü.example.com\"}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"star-hostname", gw + httpRoute("r", "  hostnames: [\"*\"]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"star-listener-hostname", base + gateway("  - {name: http, protocol: HTTP, port: 80, hostname: \"*\"}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"duplicate-hostnames", gw + httpRoute("r", "  hostnames: [a.example.com, A.example.com, a.example.com]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"duplicate-hostnames-two-routes", gw + httpRoute("r", "  hostnames: [a.example.com]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n") + httpRoute("s", "  hostnames: [A.Example.com]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"wildcard-hostnames", gw + httpRoute("r", "  hostnames: [\"*.example.com\", \"*.a.example.com\", \"x.a.example.com\"]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"huge-regex", gw + httpRoute("r", fmt.Sprintf("  rules: [{matches: [{path: {type: RegularExpression, value: %q}}], backendRefs: [{name: backend, port: 3000}]}]\n", bigRegex))},
		{"huge-header-regex", gw + httpRoute("r", fmt.Sprintf("  rules: [{matches: [{headers: [{type: RegularExpression, name: x, value: %q}]}], backendRefs: [{name: backend, port: 3000}]}]\n", bigRegex))},
		{"bad-regex", gw + httpRoute("r", "  rules: [{matches: [{path: {type: RegularExpression, value: \"/(a\"}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"backref-regex", gw + httpRoute("r", "  rules: [{matches: [{path: {type: RegularExpression, value: \"/(a)\\\\1\"}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"bad-header-name", gw + httpRoute("r", "  rules: [{matches: [{headers: [{name: \"x y\", value: v}]}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"pseudo-header-name", gw + httpRoute("r", "  rules: [{matches: [{headers: [{name: \":authority\", value: v}]}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"header-value-newline", gw + httpRoute("r", "  rules: [{filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: \"a\\nb\"}]}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"port-0", base + gateway("  - {name: http, protocol: HTTP, port: 0}\n")},
		{"port-65535", base + gateway("  - {name: http, protocol: HTTP, port: 65535}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"port-65536", base + gateway("  - {name: http, protocol: HTTP, port: 65536}\n")},
		{"backend-port-0", gw + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 0}]}]\n")},
		{"backend-port-65535", gw + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 65535}]}]\n")},
		{"long-listener-name", base + gateway("  - {name: "+long+", protocol: HTTP, port: 80}\n") + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"long-route-name", gw + httpRoute(long, "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"long-hostname", gw + httpRoute("r", "  hostnames: ["+longDNS+"]\n  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"long-everything", strings.ReplaceAll(strings.ReplaceAll(base, "name: backend", "name: "+long[:63]), "service-name: backend", "service-name: "+long[:63]) +
			"---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: " + long + ", namespace: " + long[:63] + "}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {name: " + long[:253] + ", protocol: HTTP, port: 80}\n"},
		{"many-listeners", base + gateway(func() string {
			var b strings.Builder
			for i := range 70 {
				fmt.Fprintf(&b, "  - {name: l%d, protocol: HTTP, port: %d}\n", i, 8000+i)
			}
			return b.String()
		}()) + httpRoute("r", "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"path-prefix-odd", gw + httpRoute("r", "  rules: [{matches: [{path: {type: PathPrefix, value: \"/a//b/\"}}, {path: {type: Exact, value: \"/%zz\"}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"redirect-port-0", gw + httpRoute("r", "  rules: [{filters: [{type: RequestRedirect, requestRedirect: {port: 0, hostname: \"*\"}}]}]\n")},
		{"rewrite-empty", gw + httpRoute("r", "  rules: [{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: \"\"}}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"tcp-route-empty", base + gateway("  - {name: tcp, protocol: TCP, port: 9000}\n") + "---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: t, namespace: default}\nspec:\n  parentRefs: [{name: eg}]\n  rules: [{backendRefs: []}]\n"},
		{"rewrite-path-space", gw + httpRoute("r", "  rules: [{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: \"/a b?c#d\"}}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"rewrite-hostname-unicode", gw + httpRoute("r", "  rules: [{filters: [{type: URLRewrite, urlRewrite: {hostname: \"ü.example.com\"}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"header-match-upper", gw + httpRoute("r", "  rules: [{matches: [{headers: [{name: X-Foo, value: a}, {name: x-foo, value: b}]}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"query-regex-huge", gw + httpRoute("r", fmt.Sprintf("  rules: [{matches: [{queryParams: [{type: RegularExpression, name: q, value: %q}]}], backendRefs: [{name: backend, port: 3000}]}]\n", bigRegex))},
		{"query-name-odd", gw + httpRoute("r", "  rules: [{matches: [{queryParams: [{name: \"a b=c&d\", value: \"x y\"}]}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"timeouts-extreme", gw + httpRoute("r", "  rules: [{timeouts: {request: 0s, backendRequest: 0s}, backendRefs: [{name: backend, port: 3000}]}, {matches: [{path: {value: /b}}], timeouts: {request: 9999h}, backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"redirect-status-odd", gw + httpRoute("r", "  rules: [{filters: [{type: RequestRedirect, requestRedirect: {statusCode: 308, port: 65535, scheme: https}}]}]\n")},
		{"mirror-percent", gw + httpRoute("r", "  rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: other, port: 3000}, percent: 0}}, {type: RequestMirror, requestMirror: {backendRef: {name: other, port: 3000}, fraction: {numerator: 5, denominator: 0}}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"rewrite-long-prefix-to-root", gw + httpRoute("r", "  rules: [{matches: [{path: {type: PathPrefix, value: /"+long[:120]+"}}], filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}], backendRefs: [{name: backend, port: 3000}]}]\n")},
		{"tls-no-certs", base + gateway("  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: []}}\n")},
	}
}
