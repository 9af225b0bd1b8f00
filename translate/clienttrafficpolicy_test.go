package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
)

const ctpBase = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: default}
spec:
  endpoints: [{ip: {address: 127.0.0.1, port: 3000}}]
`

// ctpTranslate compiles ctpBase plus docs and returns the result.
func ctpTranslate(t *testing.T, docs string) *Result {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", []byte(ctpBase+"---\n"+docs), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatalf("IR: %v", err)
	}
	return res
}

func httpListener(t *testing.T, res *Result, name string) *ir.HTTPListener {
	t.Helper()
	for _, p := range res.IR.Proxies {
		for _, l := range p.HTTP {
			if l.Name == name {
				return l
			}
		}
	}
	t.Fatalf("no HTTP listener %s", name)
	return nil
}

func ctpConditions(res *Result, policy string) []string {
	var out []string
	for _, p := range res.Status.ClientTrafficPolicies {
		if p.Name != policy {
			continue
		}
		for _, a := range p.Status.Ancestors {
			for _, c := range a.Conditions {
				out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason+": "+c.Message)
			}
		}
	}
	return out
}

func hasCondition(conds []string, prefix string) bool {
	for _, c := range conds {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func allFail(l *ir.HTTPListener) bool {
	n := 0
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if r.DirectResponse == nil || r.DirectResponse.StatusCode != 500 {
				return false
			}
			n++
		}
	}
	return n > 0
}

const twoPlainOnOnePort = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: a, protocol: HTTP, port: 80, hostname: a.example.com}
  - {name: b, protocol: HTTP, port: 80, hostname: b.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
`

// A policy on one of two plain listeners of a port is refused (its
// listener fails closed) unless the other gets the same settings; the
// refused listener records what it shares with the other.
func TestCTPSharedPlainPort(t *testing.T) {
	policy := func(name, section, idle string) string {
		return `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: ` + name + `, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: ` + section + `}]
  timeout: {http: {idleTimeout: ` + idle + `}}
`
	}
	t.Run("one listener", func(t *testing.T) {
		res := ctpTranslate(t, twoPlainOnOnePort+policy("pa", "a", "1m"))
		a, b := httpListener(t, res, "default/gw/a"), httpListener(t, res, "default/gw/b")
		if !allFail(a) || allFail(b) {
			t.Errorf("a fails closed: %v (want true), b: %v (want false)", allFail(a), allFail(b))
		}
		if a.Client != nil || b.Client != nil {
			t.Errorf("settings leaked: a %+v, b %+v", a.Client, b.Client)
		}
		if !hasCondition(ctpConditions(res, "pa"), "Accepted=False/Invalid: ClientTrafficPolicy is being applied to multiple http (non https) listeners (default/gw/b)") {
			t.Errorf("conditions: %v", ctpConditions(res, "pa"))
		}
	})
	t.Run("both listeners, same settings", func(t *testing.T) {
		res := ctpTranslate(t, twoPlainOnOnePort+policy("pa", "a", "1m")+policy("pb", "b", "1m"))
		for _, n := range []string{"a", "b"} {
			l := httpListener(t, res, "default/gw/"+n)
			if allFail(l) || l.Client == nil || l.Client.HTTP.IdleTimeout.D().String() != "1m0s" {
				t.Errorf("%s: fails %v, settings %+v", n, allFail(l), l.Client)
			}
		}
	})
	t.Run("section beside Gateway-wide", func(t *testing.T) {
		gw := `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: wide, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  timeout: {http: {idleTimeout: 5m}}
`
		res := ctpTranslate(t, twoPlainOnOnePort+gw+policy("pa", "a", "1m"))
		a, b := httpListener(t, res, "default/gw/a"), httpListener(t, res, "default/gw/b")
		if !allFail(a) || allFail(b) {
			t.Fatalf("a fails %v, b fails %v", allFail(a), allFail(b))
		}
		// a's refused traffic goes through the HCM b's policy sets.
		if a.Client == nil || a.Client.Policy != "default/wide" || b.Client.Policy != "default/wide" {
			t.Errorf("a %+v, b %+v: both should carry the Gateway-wide settings", a.Client, b.Client)
		}
		if !hasCondition(ctpConditions(res, "wide"), "Accepted=True") || !hasCondition(ctpConditions(res, "wide"), "Overridden=True") {
			t.Errorf("wide: %v", ctpConditions(res, "wide"))
		}
	})
}

const httpsGateway = `
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ0VENDQVZ5Z0F3SUJBZ0lVYXRJaWkyOWZZUjZKNEp0aWR5R3ZDTVkxc0g0d0NnWUlLb1pJemowRUF3SXcKR2pFWU1CWUdBMVVFQXd3UGQzZDNMbVY0WVcxd2JHVXVZMjl0TUNBWERUSTJNVEV5TWpBek5UY3pORm9ZRHpJeApNall4TURJNU1ETTFOek0wV2pBYU1SZ3dGZ1lEVlFRRERBOTNkM2N1WlhoaGJYQnNaUzVqYjIwd1dUQVRCZ2NxCmhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBVFNYU0hHR1V0TVVmWGVENGhvMk9uNUdtejdZZFhKem1zeUFGMm0KaUI2b3Z0TUxkVjN6NEpSb2pYYnBuczhYZjRCSXNMY0FENzZmZzhUbEpOaWhpaDc3bzM0d2ZEQWRCZ05WSFE0RQpGZ1FVTWdoTEtjNGFWQUxpdER4cVh1VUl4THFtd3dRd0h3WURWUjBqQkJnd0ZvQVVNZ2hMS2M0YVZBTGl0RHhxClh1VUl4THFtd3dRd0R3WURWUjBUQVFIL0JBVXdBd0VCL3pBcEJnTlZIUkVFSWpBZ2dnOTNkM2N1WlhoaGJYQnMKWlM1amIyMkNEU291WlhoaGJYQnNaUzVqYjIwd0NnWUlLb1pJemowRUF3SURSd0F3UkFJZ1oxL1JmNFpSSkQzaQpnNHNTbkF3dDd0VC9iQThtSEgzUGlRVHNBYjVCZ3JrQ0lEZ0JMdDNwNnNGYjFKQ2E5UEV1dHVScXJJL3JQazRICmVmTG5tUXV2NHk3ZAotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==
  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ0l2NjNtVkZYeXlOTWY3ZDMKMWJDL0trSE8xWHpXT0t4dUpIdnFnV2NzZUhlaFJBTkNBQVRTWFNIR0dVdE1VZlhlRDRobzJPbjVHbXo3WWRYSgp6bXN5QUYybWlCNm92dE1MZFYzejRKUm9qWGJwbnM4WGY0QklzTGNBRDc2Zmc4VGxKTmloaWg3NwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ca, namespace: default}
data:
  ca.crt: |
    -----BEGIN CERTIFICATE-----
    MIIBtTCCAVygAwIBAgIUatIii29fYR6J4JtidyGvCMY1sH4wCgYIKoZIzj0EAwIw
    GjEYMBYGA1UEAwwPd3d3LmV4YW1wbGUuY29tMCAXDTI2MTEyMjAzNTczNFoYDzIx
    MjYxMDI5MDM1NzM0WjAaMRgwFgYDVQQDDA93d3cuZXhhbXBsZS5jb20wWTATBgcq
    hkjOPQIBBggqhkjOPQMBBwNCAATSXSHGGUtMUfXeD4ho2On5Gmz7YdXJzmsyAF2m
    iB6ovtMLdV3z4JRojXbpns8Xf4BIsLcAD76fg8TlJNihih77o34wfDAdBgNVHQ4E
    FgQUMghLKc4aVALitDxqXuUIxLqmwwQwHwYDVR0jBBgwFoAUMghLKc4aVALitDxq
    XuUIxLqmwwQwDwYDVR0TAQH/BAUwAwEB/zApBgNVHREEIjAggg93d3cuZXhhbXBs
    ZS5jb22CDSouZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDRwAwRAIgZ1/Rf4ZRJD3i
    g4sSnAwt7tT/bA8mHH3PiQTsAb5BgrkCIDgBLt3p6sFb1JCa9PEutuRqrI/rPk4H
    efLnmQuv4y7d
    -----END CERTIFICATE-----
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
`

// HTTP/3 is not served where client certificates are validated (Envoy
// cannot over QUIC), whether the policy or the Gateway asks for them, and
// a UDP listener on the port refuses it.
func TestCTPHTTP3(t *testing.T) {
	gateway := func(frontend string) string {
		return `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
` + frontend + `  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls: {mode: Terminate, certificateRefs: [{name: cert}]}
  - {name: udp, protocol: UDP, port: 8443}
  - name: https-udp-port
    protocol: HTTPS
    port: 8443
    hostname: x.example.com
    tls: {mode: Terminate, certificateRefs: [{name: cert}]}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: u, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: udp}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
`
	}
	policy := func(extra string) string {
		return `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: h3, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: https}]
  http3: {}
` + extra
	}
	h3 := func(l *ir.HTTPListener) bool { return l.Client != nil && l.Client.HTTP != nil && l.Client.HTTP.HTTP3 }

	res := ctpTranslate(t, httpsGateway+gateway("")+policy(""))
	if l := httpListener(t, res, "default/gw/https"); !h3(l) {
		t.Errorf("http3 not set: %+v", l.Client)
	}
	res = ctpTranslate(t, httpsGateway+gateway("")+policy(`  tls: {clientValidation: {caCertificateRefs: [{kind: ConfigMap, name: ca}]}}
`))
	if l := httpListener(t, res, "default/gw/https"); h3(l) || l.TLS.Client == nil || l.TLS.Client.Validation == nil {
		t.Errorf("with the policy's client validation: http3 %v, validation %+v", h3(l), l.TLS.Client)
	}
	if c := ctpConditions(res, "h3"); !hasCondition(c, "Warning=True/UnsupportedHTTP3ClientValidation") {
		t.Errorf("no warning: %v", c)
	}
	res = ctpTranslate(t, httpsGateway+gateway(`  tls:
    frontend:
      default:
        validation: {caCertificateRefs: [{kind: ConfigMap, name: ca, group: ""}]}
`)+policy(""))
	if l := httpListener(t, res, "default/gw/https"); h3(l) || l.TLS.ClientValidation == nil || allFail(l) {
		t.Errorf("with the Gateway's frontend validation: http3 %v, validation %+v, fails %v", h3(l), l.TLS.ClientValidation, allFail(l))
	}
	if c := ctpConditions(res, "h3"); !hasCondition(c, "Warning=True/UnsupportedHTTP3ClientValidation") {
		t.Errorf("no warning with the Gateway's frontend validation: %v", c)
	}
	// On the port of a UDP listener: refused, fails closed.
	res = ctpTranslate(t, httpsGateway+gateway("")+strings.Replace(policy(""), "sectionName: https}", "sectionName: https-udp-port}", 1))
	if l := httpListener(t, res, "default/gw/https-udp-port"); !allFail(l) || !hasCondition(ctpConditions(res, "h3"), "Accepted=False/Invalid: http3: HTTP/3 needs UDP port 8443") {
		t.Errorf("UDP port clash: fails %v, conditions %v", allFail(l), ctpConditions(res, "h3"))
	}
}

// The HTTP/1.0 default host is the listener's hostname, else the one
// hostname its routes serve; several are an error.
func TestCTPHTTP10DefaultHost(t *testing.T) {
	gw := `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: named, protocol: HTTP, port: 80, hostname: named.example.com}
  - {name: one, protocol: HTTP, port: 81}
  - {name: two, protocol: HTTP, port: 82}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r1, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: one}, {name: gw, sectionName: two}, {name: gw, sectionName: named}]
  hostnames: [one.example.com, "*.example.com"]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r2, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: two}]
  hostnames: [two.example.com]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: h10, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  http1: {http10: {useDefaultHost: true}}
`
	res := ctpTranslate(t, gw)
	for name, want := range map[string]string{"named": "named.example.com", "one": "one.example.com"} {
		l := httpListener(t, res, "default/gw/"+name)
		if l.Client == nil || l.Client.HTTP.HTTP1.HTTP10DefaultHost != want {
			t.Errorf("%s: default host %+v, want %s", name, l.Client, want)
		}
	}
	if l := httpListener(t, res, "default/gw/two"); !allFail(l) {
		t.Errorf("two: two hostnames, yet the listener does not fail closed")
	}
	if c := ctpConditions(res, "h10"); !hasCondition(c, "Accepted=False/Invalid: spec.http1.http10.useDefaultHost: listener default/gw/two has a wildcard hostname and its routes serve several hostnames (one.example.com, two.example.com)") {
		t.Errorf("conditions: %v", c)
	}
}

// Deprecated fields are reported wherever the policy attached, and a
// policy on a TCP listener says which of its fields do not apply there.
func TestCTPWarnings(t *testing.T) {
	res := ctpTranslate(t, `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: tcp, protocol: TCP, port: 5432}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: be}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: p, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: tcp}
  enableProxyProtocol: true
  headers: {enableEnvoyHeaders: true}
  timeout: {tcp: {idleTimeout: 10m}}
`)
	c := ctpConditions(res, "p")
	if !hasCondition(c, "Accepted=True") {
		t.Errorf("not accepted: %v", c)
	}
	want := "Warning=True/Warnings: spec.enableProxyProtocol is deprecated, use spec.proxyProtocol instead; spec.targetRef is deprecated, use spec.targetRefs instead; headers apply to HTTP and HTTPS listeners only"
	if !hasCondition(c, want) {
		t.Errorf("conditions %v, want one starting %q", c, want)
	}
	l := res.IR.Proxies[0].TCP[0]
	if l.Client == nil || l.Client.Socket.ProxyProtocol == nil || l.Client.Chain.TCPIdleTimeout.D().String() != "10m0s" || l.Client.HTTP != nil {
		t.Errorf("TCP settings: %+v", l.Client)
	}
}
