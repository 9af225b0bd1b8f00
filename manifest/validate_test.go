package manifest

import (
	"strings"
	"testing"
)

// TestAPIValidation: input a cluster would refuse is refused with the
// usual error form, at the line of the offending field, every problem at
// once; egctl's own control-character rule applies on top.
func TestAPIValidation(t *testing.T) {
	const route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: %NAME%\n  namespace: default\nspec:\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "names the API server refuses",
			in: "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: ../../etc/evil\n  namespace: default\n" +
				"spec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 80}]\n---\n" +
				"apiVersion: v1\nkind: Service\nmetadata:\n  name: 9-starts-with-a-digit\n  namespace: Not_A_Label\n" +
				"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: has.a.dot\n" +
				"---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: " + strings.Repeat("a", 254) + "\nspec:\n  controllerName: example.com/x\n",
			want: []string{
				`in.yaml:4: Gateway default/../../etc/evil: metadata.name: Invalid value: "../../etc/evil": a lowercase RFC 1123 subdomain must consist of`,
				`in.yaml:13: Service Not_A_Label/9-starts-with-a-digit: metadata.name: Invalid value: "9-starts-with-a-digit": a DNS-1035 label must consist of`,
				`in.yaml:14: Service Not_A_Label/9-starts-with-a-digit: metadata.namespace: Invalid value: "Not_A_Label": a lowercase RFC 1123 label must consist of`,
				`in.yaml:19: Namespace has.a.dot: metadata.name: Invalid value: "has.a.dot": must not contain dots`,
				`: must be no more than 253 characters`,
			},
		},
		{
			name: "path match with dot segments, an encoded slash and a NUL",
			in: strings.Replace(route, "%NAME%", "r", 1) + "  rules:\n  - matches:\n    - path: {type: PathPrefix, value: /a/../b}\n" +
				"    - path: {type: Exact, value: /a%2Fb}\n    - path: {type: Exact, value: \"/a\\0b\"}\n",
			want: []string{
				"in.yaml:9: HTTPRoute default/r: spec.rules[0].matches[0].path: must not contain '/../' when type one of ['Exact', 'PathPrefix']",
				"in.yaml:10: HTTPRoute default/r: spec.rules[0].matches[1].path: must not contain '%2F' when type one of ['Exact', 'PathPrefix']",
				"in.yaml:11: HTTPRoute default/r: spec.rules[0].matches[2].path.value: must not contain control characters",
				"in.yaml:11: HTTPRoute default/r: spec.rules[0].matches[2].path: must only contain valid characters",
			},
		},
		{
			name: "negative weight",
			in:   strings.Replace(route, "%NAME%", "r", 1) + "  rules:\n  - backendRefs:\n    - {name: a, port: 80, weight: -1}\n    - {name: b, port: 80}\n",
			want: []string{"in.yaml:9: HTTPRoute default/r: spec.rules[0].backendRefs[0].weight: must be greater than or equal to 0, got -1"},
		},
		{
			name: "CR LF in a Backend FQDN",
			in: "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {name: b, namespace: default}\n" +
				"spec:\n  endpoints:\n  - fqdn: {hostname: \"evil.example.com\\r\\nx-injected: 1\", port: 80}\n",
			want: []string{
				"in.yaml:6: Backend default/b: spec.endpoints[0].fqdn.hostname: must not contain a line break (CR or LF)",
				"in.yaml:6: Backend default/b: spec.endpoints[0].fqdn.hostname: should match",
			},
		},
		{
			name: "line break in a field with no pattern",
			in:   strings.Replace(route, "%NAME%", "r", 1) + "  rules:\n  - matches:\n    - queryParams: [{name: q, value: \"a\\nb\"}]\n",
			want: []string{"in.yaml:9: HTTPRoute default/r: spec.rules[0].matches[0].queryParams[0].value: must not contain a line break (CR or LF)"},
		},
		{
			name: "enum, missing required field and unknown kind of value, all at once",
			in: "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: default}\n" +
				"spec:\n  listeners:\n  - {name: http, protocol: HTTP, port: 0}\n  - {name: http, protocol: HTTP, port: 81}\n",
			want: []string{
				"in.yaml:4: Gateway default/g: spec.gatewayClassName: Required value",
				"in.yaml:5: Gateway default/g: spec.listeners: Listener name must be unique within the Gateway",
				"in.yaml:7: Gateway default/g: spec.listeners[1]: Duplicate value: name=\"http\"",
				"in.yaml:6: Gateway default/g: spec.listeners[0].port: must be greater than or equal to 1, got 0",
			},
		},
		{
			name: "core kinds: ports and addresses",
			in: "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\nspec:\n  ports: [{port: 70000}]\n---\n" +
				"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1, namespace: default}\naddressType: IPv4\n" +
				"endpoints: [{addresses: [\"::1\"]}]\n",
			want: []string{
				"in.yaml:5: Service default/s: spec.ports[0].port: Invalid value: must be between 1 and 65535, inclusive",
				"in.yaml:11: EndpointSlice default/s-1: endpoints[0].addresses[0]: Invalid value: must be an IPv4 address",
			},
		},
		{
			name: "line breaks are fine in text fields",
			in: "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: HTTPRouteFilter\nmetadata: {name: f, namespace: default}\n" +
				"spec:\n  directResponse:\n    body: {type: Inline, inline: \"line one\\nline two\\n\"}\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadBytes("in.yaml", []byte(tc.in), Options{})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, w) || strings.Contains(l, w) && !strings.HasPrefix(w, "in.yaml") {
						found = true
					}
				}
				if !found {
					t.Errorf("no error line starting with\n  %s\ngot:\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
			if len(lines) < len(tc.want) {
				t.Errorf("%d errors, want at least %d", len(lines), len(tc.want))
			}
		})
	}
}

// TestAPIValidationNeverQuotesSecretData: a Secret's values never appear
// in a message, whatever is wrong with the Secret.
func TestAPIValidationNeverQuotesSecretData(t *testing.T) {
	in := "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\ntype: kubernetes.io/tls\n" +
		"stringData:\n  \"bad key\": \"hunter2\\0\"\n"
	_, _, err := LoadBytes("in.yaml", []byte(in), Options{})
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("secret value in message: %v", err)
	}
	for _, want := range []string{"stringData.bad key: must not contain control characters", "tls.crt", "stringData: Invalid value: key \"bad key\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
}
