package manifest

import (
	"path/filepath"
	"strings"
	"testing"
)

// td returns the path of a test input.
func td(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata", "manifest"}, parts...)...)
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string // one line per error, "FILE" stands for the first file's path
	}{
		{
			name:  "unknown field points at the field's line",
			files: []string{"errors/unknown_field.yaml"},
			want:  []string{"FILE:13: Gateway infra/gw: spec.listeners[1].prot: unknown field"},
		},
		{
			name:  "wrong scalar type",
			files: []string{"errors/wrong_type.yaml"},
			want:  []string{"FILE:11: HTTPRoute default/web: spec.rules[0].backendRefs[0].port: expected integer, got string"},
		},
		{
			name:  "string where a list is expected",
			files: []string{"errors/wrong_type_object.yaml"},
			want:  []string{"FILE:6: HTTPRoute default/web: spec.hostnames: expected list, got string"},
		},
		{
			name:  "every problem of one object in one run",
			files: []string{"errors/many.yaml"},
			want: []string{
				"FILE:6: Gateway default/gw: spec.gatewayClassName: expected string, got list",
				"FILE:10: Gateway default/gw: spec.listeners[0].port: expected integer, got string",
				"FILE:11: Gateway default/gw: spec.listeners[0].hostnme: unknown field",
				"FILE:15: Gateway default/gw: spec.listeners[1].allowedRoutes.kind: unknown field",
			},
		},
		{
			name:  "errors from a type's own parser are located by search",
			files: []string{"errors/opaque.yaml"},
			want: []string{
				`FILE:5: EnvoyProxy default/proxy: metadata.creationTimestamp: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
				"FILE:14: EnvoyProxy default/proxy: spec.provider.kubernetes.envoyDeployment.container.resources.requests.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
			},
		},
		{
			name:  "duplicate field reports the second occurrence",
			files: []string{"errors/duplicate_field.yaml"},
			want:  []string{"FILE:8: Service default/svc: spec.ports: duplicate field"},
		},
		{
			name:  "missing apiVersion, kind and name",
			files: []string{"errors/missing.yaml"},
			want: []string{
				"FILE:1: Gateway no-api-version: missing apiVersion",
				"FILE:5: gateway.networking.k8s.io/v1 object: missing kind",
				"FILE:9: missing apiVersion and kind",
				"FILE:12: Service: metadata.name: missing; every object needs a name",
			},
		},
		{
			name:  "unknown kinds and versions of owned groups",
			files: []string{"errors/unsupported.yaml"},
			want: []string{
				"FILE:1: MeshRoute m: unsupported apiVersion/kind gateway.networking.k8s.io/v1 MeshRoute; gateway.networking.k8s.io/v1 kinds are BackendTLSPolicy, GRPCRoute, Gateway, GatewayClass, HTTPRoute, ListenerSet, ReferenceGrant, TCPRoute, TLSRoute, UDPRoute",
				"FILE:6: HTTPRoute r: unsupported apiVersion/kind gateway.networking.k8s.io/v2 HTTPRoute; HTTPRoute is accepted in gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1",
				"FILE:11: Thing t: unsupported apiVersion/kind gateway.networking.k8s.io/v9 Thing; unknown version of gateway.networking.k8s.io",
				"FILE:16: BackendTrafficPolicyy p: unsupported apiVersion/kind gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicyy; gateway.envoyproxy.io/v1alpha1 kinds are Backend, BackendTrafficPolicy, ClientTrafficPolicy, EnvoyExtensionPolicy, EnvoyPatchPolicy, EnvoyProxy, HTTPRouteFilter, SecurityPolicy",
			},
		},
		{
			name:  "YAML syntax error at the bad line; other documents still load",
			files: []string{"errors/syntax.yaml"},
			want:  []string{"FILE:10: invalid YAML: did not find expected key"},
		},
		{
			name:  "JSON syntax error",
			files: []string{"errors/syntax.json"},
			want:  []string{"FILE:5: invalid JSON: unexpected character looking for beginning of object key string"},
		},
		{
			name:  "JSON list item with a wrong type",
			files: []string{"errors/wrong_type.json"},
			want:  []string{"FILE:17: Service apps/bad: spec.ports[1].port: expected integer, got boolean"},
		},
		{
			name:  "Secret errors never show the data",
			files: []string{"errors/secret.yaml"},
			want: []string{
				"FILE:7: Secret default/creds: data.password: invalid base64 data",
				"FILE:14: Secret default/creds2: stringData.token: expected string, got number",
			},
		},
		{
			name:  "documents that are not objects",
			files: []string{"errors/not_object.yaml"},
			want: []string{
				"FILE:1: expected an object (a mapping with apiVersion and kind), found a list",
				"FILE:4: expected an object (a mapping with apiVersion and kind), found a scalar",
			},
		},
		{
			name:  "values JSON cannot hold",
			files: []string{"errors/bad_values.yaml"},
			want:  []string{"FILE:11: BackendTrafficPolicy default/p: spec.loadBalancer.type: infinity and NaN cannot be represented in JSON"},
		},
		{
			name:  "duplicate object across files and versions names both places",
			files: []string{"errors/duplicate_a.yaml", "errors/duplicate_b.yaml"},
			want: []string{
				td("errors/duplicate_b.yaml") + ":2: HTTPRoute default/dup: duplicate object (same group, kind, namespace and name, in any version); first defined at FILE:1",
			},
		},
		{
			name:  "missing path",
			files: []string{"errors/does-not-exist.yaml"},
			want:  []string{"FILE: no such file or directory"},
		},
		{
			name:  "errors from several files come back together, by file then line",
			files: []string{"errors/wrong_type_object.yaml", "errors/missing.yaml", "errors/unknown_field.yaml"},
			want: []string{
				"FILE:6: HTTPRoute default/web: spec.hostnames: expected list, got string",
				td("errors/missing.yaml") + ":1: Gateway no-api-version: missing apiVersion",
				td("errors/missing.yaml") + ":5: gateway.networking.k8s.io/v1 object: missing kind",
				td("errors/missing.yaml") + ":9: missing apiVersion and kind",
				td("errors/missing.yaml") + ":12: Service: metadata.name: missing; every object needs a name",
				td("errors/unknown_field.yaml") + ":13: Gateway infra/gw: spec.listeners[1].prot: unknown field",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, f := range tc.files {
				paths = append(paths, td(f))
			}
			_, _, err := Load(paths, Options{})
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "FILE", paths[0]))
			}
			if got, w := err.Error(), strings.Join(want, "\n"); got != w {
				t.Errorf("errors:\n got: %s\nwant: %s", got, w)
			}
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, _, err := Load([]string{td("errors/unknown_field.yaml")}, Options{})
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not unwrap to a list", err)
	}
	errs := u.Unwrap()
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1", len(errs))
	}
	e, ok := errs[0].(*Error)
	if !ok {
		t.Fatalf("error is %T, want *manifest.Error", errs[0])
	}
	if e.Origin.Line != 13 || e.Path != "spec.listeners[1].prot" || e.Object != "Gateway infra/gw" || e.Message != "unknown field" {
		t.Errorf("unexpected fields: %+v", e)
	}
}

func TestSecretDataNeverInMessages(t *testing.T) {
	cases := map[string]string{
		"base64":   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: 'topsecret!value'\n",
		"number":   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: 987654321\n",
		"list":     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: [topsecretvalue]\n",
		"infinity": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: .inf}\n",
		"time":     "apiVersion: v1\nkind: Secret\nmetadata: {name: s, creationTimestamp: topsecretvalue}\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := LoadBytes("s.yaml", []byte(in), Options{})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, secret := range []string{"topsecret", "987654321", ".inf"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %v", secret, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "s.yaml:") {
				t.Errorf("error has no location: %v", err)
			}
		})
	}
}
