package ir

import "testing"

func TestRedactBackendClientKeys(t *testing.T) {
	cert := &Certificate{Name: "ns/client", Certificate: []byte("CERT"), PrivateKey: []byte("KEY")}
	be := &Backend{Name: "d/backend/0", TLS: &BackendTLS{SNI: "x", CACertificates: "CA", ClientCertificate: cert}}
	plain := &Backend{Name: "p/backend/0"}
	d := &RouteDestination{Name: "d", Backends: []*Backend{be, plain}}
	p := &Proxy{Name: "ns/gw", HTTP: []*HTTPListener{{Name: "ns/gw/http", VirtualHosts: []*VirtualHost{{
		Name: "ns/gw/http/*",
		Routes: []*HTTPRoute{
			{Name: "r0", Destination: d},
			{Name: "r1", Destination: &RouteDestination{Name: "p", Backends: []*Backend{plain}},
				Mirrors: []*Mirror{{Destination: d}}},
		},
	}}}}}
	out := RedactSecrets(p)
	routes := out.HTTP[0].VirtualHosts[0].Routes
	if got := string(routes[0].Destination.Backends[0].TLS.ClientCertificate.PrivateKey); got != Redacted {
		t.Errorf("destination key = %q, want redacted", got)
	}
	if got := string(routes[1].Mirrors[0].Destination.Backends[0].TLS.ClientCertificate.PrivateKey); got != Redacted {
		t.Errorf("mirror key = %q, want redacted", got)
	}
	if string(cert.PrivateKey) != "KEY" || be.TLS.ClientCertificate != cert {
		t.Errorf("the original was changed")
	}
	if routes[1].Destination != p.HTTP[0].VirtualHosts[0].Routes[1].Destination {
		t.Errorf("a destination without client keys was copied")
	}
}

func TestBackendTLSEqual(t *testing.T) {
	a := &BackendTLS{SNI: "x", CACertificates: "CA", SubjectAltNames: []SubjectAltName{{SANDNS, "x"}}}
	b := *a
	if !a.Equal(&b) || (*BackendTLS)(nil).Equal(nil) != true || a.Equal(nil) {
		t.Fatal("Equal on equal values or nils")
	}
	b.SubjectAltNames = []SubjectAltName{{SANURI, "x"}}
	if a.Equal(&b) {
		t.Error("different SAN types compare equal")
	}
	c := *a
	c.ClientCertificate = &Certificate{Name: "c"}
	if a.Equal(&c) {
		t.Error("a client certificate does not count")
	}
}

func TestRedactTCPListenerKeys(t *testing.T) {
	cert := &Certificate{Name: "ns/tls", Certificate: []byte("CERT"), PrivateKey: []byte("KEY")}
	p := &Proxy{Name: "ns/gw", TCP: []*TCPListener{{Name: "ns/gw/tls", TLS: &TLSConfig{Certificates: []*Certificate{cert}}}, {Name: "ns/gw/tcp"}}}
	out := RedactSecrets(p)
	if got := string(out.TCP[0].TLS.Certificates[0].PrivateKey); got != Redacted {
		t.Errorf("TCP listener key = %q, want redacted", got)
	}
	if string(cert.PrivateKey) != "KEY" || p.TCP[0].TLS.Certificates[0] != cert {
		t.Errorf("the original was changed")
	}
	if out.TCP[1] != p.TCP[1] {
		t.Errorf("a listener without TLS was copied")
	}
}

func TestTLSMixable(t *testing.T) {
	sni := &BackendTLS{SNI: "a", CACertificates: "CA"}
	other := &BackendTLS{SNI: "b", UseSystemCA: true}
	auto := &BackendTLS{AutoSNI: true, UseSystemCA: true}
	h2 := &BackendTLS{SNI: "a", UseSystemCA: true, ALPNProtocols: []string{"h2"}}
	url := &BackendTLS{SNI: "k", UseSystemCA: true, FromURL: true}
	be := func(t *BackendTLS, p AppProtocol) *Backend { return &Backend{TLS: t, Protocol: p} }
	for _, tc := range []struct {
		name string
		bes  []*Backend
		want bool
	}{
		{"all plain", []*Backend{be(nil, ProtocolHTTP1), be(nil, ProtocolHTTP1)}, true},
		{"different TLS", []*Backend{be(sni, ProtocolHTTP1), be(other, ProtocolHTTP1)}, true},
		{"TLS and plain", []*Backend{be(sni, ProtocolHTTP1), be(nil, ProtocolHTTP1)}, true},
		{"two from the Host", []*Backend{be(auto, ProtocolHTTP1), be(auto, ProtocolHTTP1), be(nil, ProtocolHTTP1)}, true},
		{"from the Host beside a name", []*Backend{be(nil, ProtocolHTTP1), be(sni, ProtocolHTTP1), be(auto, ProtocolHTTP1)}, false},
		{"ALPN h2 beside plain", []*Backend{be(h2, ProtocolHTTP1), be(nil, ProtocolHTTP1)}, false},
		{"ALPN h2 on HTTP/2 beside plain", []*Backend{be(h2, ProtocolHTTP2), be(nil, ProtocolHTTP2)}, true},
		{"ALPN h2 beside TLS", []*Backend{be(h2, ProtocolHTTP1), be(sni, ProtocolHTTP1)}, true},
		{"from a URL, same", []*Backend{be(url, ProtocolHTTP1), be(url, ProtocolHTTP1)}, true},
		{"from a URL beside plain", []*Backend{be(url, ProtocolHTTP1), be(nil, ProtocolHTTP1)}, false},
		{"from a URL beside TLS", []*Backend{be(sni, ProtocolHTTP1), be(url, ProtocolHTTP1)}, false},
	} {
		if got := TLSMixable(tc.bes); got != tc.want {
			t.Errorf("%s: TLSMixable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
