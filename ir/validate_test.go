package ir

import (
	"strings"
	"testing"
)

func validRoute(name string) *HTTPRoute {
	return &HTTPRoute{
		Name:  name,
		Match: HTTPMatch{PathType: PathPrefix, Path: "/"},
		Destination: &RouteDestination{
			Name: "httproute/ns/r/rule/0",
			Backends: []*Backend{{
				Name: "httproute/ns/r/rule/0/backend/0", Weight: 1, AddressType: AddressIP,
				Endpoints: []Endpoint{{Host: "127.0.0.1", Port: 80}},
			}},
		},
	}
}

func proxyWith(routes ...*HTTPRoute) *Config {
	return &Config{Proxies: []*Proxy{{
		Name: "ns/gw",
		HTTP: []*HTTPListener{{
			Name: "ns/gw/http", Port: 10080,
			VirtualHosts: []*VirtualHost{{Name: "ns/gw/http/*", Domains: []string{"*"}, Routes: routes}},
		}},
	}}}
}

func TestValidate(t *testing.T) {
	zero := validRoute("zero")
	zero.Destination.Backends[0].Weight = 0

	two := validRoute("two-actions")
	two.DirectResponse = &DirectResponse{StatusCode: 500}

	badRegex := validRoute("bad-regex")
	badRegex.Match = HTTPMatch{PathType: PathRegex, Path: "("}

	rewrite := validRoute("rewrite")
	rewrite.Match = HTTPMatch{PathType: PathExact, Path: "/a"}
	rewrite.URLRewrite = &URLRewrite{Path: &PathModifier{Type: PrefixMatchReplace, Value: "/b"}}

	failClosed := validRoute("invalid-share")
	failClosed.Destination.Backends = nil
	failClosed.Destination.InvalidWeight = 1

	heavy := validRoute("heavy")
	heavy.Destination.Backends = append(heavy.Destination.Backends,
		&Backend{Name: "b1", Weight: 1 << 31, AddressType: AddressIP},
		&Backend{Name: "b2", Weight: 1 << 31, AddressType: AddressIP})

	tests := []struct {
		name string
		cfg  *Config
		want string // "" means valid
	}{
		{"valid", proxyWith(validRoute("ok")), ""},
		{"only invalid weight is still a destination", proxyWith(failClosed), ""},
		{"zero weight", proxyWith(zero), "total weight 0"},
		{"weights past uint32", proxyWith(heavy), "exceeds Envoy's limit"},
		{"two actions", proxyWith(two), "exactly one of"},
		{"bad regex", proxyWith(badRegex), "path regex"},
		{"prefix rewrite without prefix match", proxyWith(rewrite), "needs a PathPrefix match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestValidateDuplicateDomainOnPort(t *testing.T) {
	cfg := &Config{Proxies: []*Proxy{{
		Name: "ns/gw",
		HTTP: []*HTTPListener{
			{Name: "ns/gw/a", Port: 10080, VirtualHosts: []*VirtualHost{{Name: "ns/gw/a/foo", Domains: []string{"foo.example.com"}}}},
			{Name: "ns/gw/b", Port: 10080, VirtualHosts: []*VirtualHost{{Name: "ns/gw/b/foo", Domains: []string{"foo.example.com"}}}},
		},
	}}}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `domain "foo.example.com" already served by ns/gw/a/foo`) {
		t.Fatalf("error = %v", err)
	}
}

func TestRedactSecretsLeavesOriginal(t *testing.T) {
	p := &Proxy{Name: "ns/gw", HTTP: []*HTTPListener{{
		Name: "ns/gw/https", Port: 10443,
		TLS: &TLSConfig{Certificates: []*Certificate{{Name: "ns/cert", Certificate: []byte("CERT"), PrivateKey: []byte("KEY")}}},
	}}}
	r := RedactSecrets(p)
	if got := string(r.HTTP[0].TLS.Certificates[0].PrivateKey); got != Redacted {
		t.Fatalf("redacted key = %q", got)
	}
	if got := string(p.HTTP[0].TLS.Certificates[0].PrivateKey); got != "KEY" {
		t.Fatalf("original key changed to %q", got)
	}
	if got := string(r.HTTP[0].TLS.Certificates[0].Certificate); got != "CERT" {
		t.Fatalf("certificate changed to %q", got)
	}
}
