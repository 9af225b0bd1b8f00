package ir

import (
	"strings"
	"testing"
)

// TestRedactBackendClusterKeys: a shared cluster's backend client key is
// redacted like a route backend's; the original is left alone.
func TestRedactBackendClusterKeys(t *testing.T) {
	cert := &Certificate{Name: "ns/client", Certificate: []byte("CERT"), PrivateKey: []byte("SECRET KEY")}
	be := &Backend{Name: "service/ns/web/443/http", Weight: 1, AddressType: AddressIP, TLS: &BackendTLS{SNI: "web", ClientCertificate: cert}}
	p := &Proxy{Name: "p", BackendClusters: []*RouteDestination{{Name: be.Name, Backends: []*Backend{be}}}}
	r := RedactSecrets(p)
	if k := string(r.BackendClusters[0].Backends[0].TLS.ClientCertificate.PrivateKey); k != Redacted {
		t.Errorf("key %q", k)
	}
	if !strings.Contains(string(cert.PrivateKey), "SECRET") || p.BackendClusters[0].Backends[0] != be {
		t.Errorf("the original was changed")
	}
}

// TestValidateBackendClusters: a merged backend must name a shared cluster
// of its proxy, which holds exactly one backend of its name.
func TestValidateBackendClusters(t *testing.T) {
	shared := func() *RouteDestination {
		return &RouteDestination{Name: "service/ns/web/80/http", Backends: []*Backend{{Name: "service/ns/web/80/http", Weight: 1, AddressType: AddressIP}}}
	}
	route := func(name string) *HTTPRoute {
		return &HTTPRoute{Name: "r", Match: HTTPMatch{PathType: PathPrefix, Path: "/"}, Destination: &RouteDestination{Name: "httproute/ns/r/rule/0",
			Backends: []*Backend{{Name: name, Weight: 1, AddressType: AddressIP, Merged: true}}}}
	}
	proxy := func(r *HTTPRoute, bc ...*RouteDestination) *Proxy {
		return &Proxy{Name: "p", BackendClusters: bc, HTTP: []*HTTPListener{{Name: "ns/gw/http", Port: 8080,
			VirtualHosts: []*VirtualHost{{Name: "ns/gw/http/*", Domains: []string{"*"}, Routes: []*HTTPRoute{r}}}}}}
	}
	if err := proxy(route("service/ns/web/80/http"), shared()).Validate(); err != nil {
		t.Fatalf("valid proxy: %v", err)
	}
	bad := shared()
	bad.Backends[0].Name = "other"
	for name, p := range map[string]*Proxy{
		"missing cluster":   proxy(route("service/ns/nope/80/http"), shared()),
		"misnamed backend":  proxy(route("service/ns/web/80/http"), bad),
		"duplicate cluster": proxy(route("service/ns/web/80/http"), shared(), shared()),
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}
