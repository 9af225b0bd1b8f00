package translate

import (
	"strings"
	"testing"

	"github.com/egctl/egctl/manifest"
)

func TestWarningUnusableAddresses(t *testing.T) {
	in := `
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec:
  clusterIP: 10.o.0.1
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: bad-1
  namespace: default
  labels: {kubernetes.io/service-name: bad}
addressType: IPv4
ports: [{port: 8080}]
endpoints:
  - addresses: ["10.0.0.1", "not-an-ip"]
`
	// The loader refuses these addresses, as the API server does; translate
	// still defends against them for callers that build sets themselves.
	set, _, err := manifest.LoadBytes("in.yaml", []byte(in), manifest.Options{SkipAPIValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range res.Warnings {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`Service default/bad: spec.clusterIP "10.o.0.1" is not an IP address`,
		`EndpointSlice default/bad-1: endpoints[0].addresses[1] "not-an-ip" is not an IP address`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings do not contain %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, `"10.0.0.1"`) {
		t.Errorf("a valid address was warned about:\n%s", all)
	}
}
