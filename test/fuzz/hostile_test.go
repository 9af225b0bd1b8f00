package fuzz

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// FuzzHostileFields mutates the values of a valid manifest set, not its
// bytes: the YAML stays well formed, so nearly every execution gets past
// the parser into validation, translation and xds, which is where hostile
// values matter. (FuzzPipeline's byte mutations mostly break the YAML.)
//
// The property: input the loader accepts compiles to an IR that passes
// Validate (so no control character reaches Envoy's configuration), to xDS
// resources and a bootstrap that pass Envoy's proto validation, and to
// proxy names that are safe file names; input it refuses is refused with
// errors that name the file and line.
func FuzzHostileFields(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add(s.ns, s.gateway, s.listener, s.port, s.hostname, s.route, s.path, s.pathType, s.header, s.value, s.backend, s.weight)
	}
	f.Fuzz(func(t *testing.T, ns, gateway, listener string, port int32, hostname, route, path string, pathType uint8, header, value, backend string, weight int32) {
		in := hostileManifest(ns, gateway, listener, port, hostname, route, path, pathType, header, value, backend, weight)
		checkHostile(t, in)
	})
}

type hostileSeed struct {
	ns, gateway, listener string
	port                  int32
	hostname, route, path string
	pathType              uint8
	header, value         string
	backend               string
	weight                int32
}

// hostileSeeds are issue 9's cases and their neighbours.
var hostileSeeds = []hostileSeed{
	{"default", "eg", "http", 8080, "www.example.com", "web", "/", 0, "x-env", "prod", "api.example.com", 1},
	{"default", "../../etc/evil", "http", 8080, "www.example.com", "web", "/", 0, "x-env", "prod", "api.example.com", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/a/../b", 0, "x-env", "prod", "api.example.com", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/a%2Fb", 1, "x-env", "prod", "api.example.com", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/a\x00b", 1, "x-env", "prod", "api.example.com", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/", 0, "x-env", "a\r\nx-injected: 1", "api.example.com", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/", 0, "x-env", "prod", "api.example.com\r\nx: 1", 1},
	{"default", "eg", "http", 8080, "www.example.com", "web", "/", 0, "x-env", "prod", "api.example.com", -1},
	{"default", "eg", "http", 19000, "www.example.com", "web", "/", 0, "x-env", "prod", "api.example.com", 1},
	{"default", "eg", "http", 0, "*", "web", "(?i)/.*", 2, ":authority", "prod", "127.0.0.1", 1000001},
	{"Default", "EG", "HTTP", 65536, "WWW.EXAMPLE.COM", "web/../x", "//", 0, "x env", "\t", "", 0},
	{strings.Repeat("n", 64), strings.Repeat("g", 254), "http", 443, "ünïcode.example.com", "r", "/ü", 0, "x-\u0085", "\u2028", "api.example.com.", 1},
}

// hostileManifest fills a manifest set with the values, each written as a
// JSON string (a valid YAML double-quoted scalar) so any value stays one
// scalar.
func hostileManifest(ns, gateway, listener string, port int32, hostname, route, path string, pathType uint8, header, value, backend string, weight int32) []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	types := []string{"PathPrefix", "Exact", "RegularExpression"}
	return []byte(fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  gatewayClassName: eg
  listeners:
  - name: %[3]s
    protocol: HTTP
    port: %[4]d
    hostname: %[5]s
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: api, namespace: %[1]s}
spec:
  endpoints: [{fqdn: {hostname: %[11]s, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %[6]s, namespace: %[1]s}
spec:
  parentRefs: [{name: %[2]s}]
  hostnames: [%[5]s]
  rules:
  - matches:
    - path: {type: %[8]s, value: %[7]s}
      headers: [{name: %[9]s, value: %[10]s}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: %[9]s, value: %[10]s}]}
    backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: api, weight: %[12]d}
`, q(ns), q(gateway), q(listener), port, q(hostname), q(route), q(path), types[int(pathType)%len(types)], q(header), q(value), q(backend), weight))
}

var safeProxyName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func checkHostile(t *testing.T, in []byte) {
	t.Helper()
	set, _, err := manifest.LoadBytes("in.yaml", in, manifest.Options{})
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "in.yaml:") {
				t.Fatalf("error line without file:line: %q", line)
			}
		}
		return
	}
	res, err := translate.Translate(set, translate.Options{AdminPort: xds.DefaultAdminPort})
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	if err := res.IR.Validate(); err != nil {
		t.Fatalf("accepted input made invalid IR: %v\n%s", err, in)
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		t.Fatalf("xds.Translate of a valid IR: %v\n%s", err, in)
	}
	for _, r := range all {
		if !safeProxyName.MatchString(r.Name) {
			t.Fatalf("proxy name %q does not make a safe file name", r.Name)
		}
		bs, err := xds.StaticBootstrap(r, xds.BootstrapOptions{})
		if err != nil {
			t.Fatalf("StaticBootstrap: %v\n%s", err, in)
		}
		if err := bs.ValidateAll(); err != nil {
			t.Fatalf("bootstrap fails proto validation: %v\n%s", err, in)
		}
	}
}

// TestHostileSeeds names each seed, so a failure says which one.
func TestHostileSeeds(t *testing.T) {
	var accepted []int
	for i, s := range hostileSeeds {
		in := hostileManifest(s.ns, s.gateway, s.listener, s.port, s.hostname, s.route, s.path, s.pathType, s.header, s.value, s.backend, s.weight)
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkHostile(t, in) })
		if _, _, err := manifest.LoadBytes("in.yaml", in, manifest.Options{}); err == nil {
			accepted = append(accepted, i)
		}
	}
	// The first seed is the valid baseline; the one on the admin port is
	// valid input that translate refuses (a listener status); every other
	// one is refused by the loader.
	if fmt.Sprint(accepted) != "[0 8]" {
		t.Errorf("seeds %v accepted, want [0 8]", accepted)
	}
}
