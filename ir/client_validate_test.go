package ir

import (
	"strings"
	"testing"
)

// Listeners that share Envoy configuration must agree on the ClientSettings
// of what they share: plain HTTP listeners of a port on everything, every
// listener of a port on the socket (TLS fingerprints aside).
func TestValidateClientAgreement(t *testing.T) {
	idle := func(d ClientDuration) *ClientSettings {
		return &ClientSettings{Policy: "ns/p", HTTP: &ClientHTTP{IdleTimeout: &d}}
	}
	keepalive := &ClientSettings{Socket: &ClientSocket{TCPKeepalive: &TCPKeepalive{}}}
	fp := &ClientSettings{Socket: &ClientSocket{TLSFingerprints: []string{"JA3"}}}
	tls := &TLSConfig{Certificates: []*Certificate{{Name: "ns/c"}}}
	tests := []struct {
		name    string
		a, b    *ClientSettings
		tls     bool
		wantErr string
	}{
		{"plain, same settings", idle(1), idle(1), false, ""},
		{"plain, another policy with the same settings", idle(1), &ClientSettings{Policy: "ns/q", HTTP: idle(1).HTTP}, false, ""},
		{"plain, different HTTP settings", idle(1), idle(2), false, "share port 80 (one HTTP connection manager)"},
		{"plain, one without", idle(1), nil, false, "share port 80 (one HTTP connection manager)"},
		{"HTTPS, different HTTP settings", idle(1), idle(2), true, ""},
		{"HTTPS, different socket settings", keepalive, nil, true, "share port 80 but not their client socket settings"},
		{"HTTPS, fingerprints on one only", fp, nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Proxy{Name: "ns/gw"}
			for i, c := range []*ClientSettings{tt.a, tt.b} {
				l := &HTTPListener{Name: "ns/gw/l" + string(rune('a'+i)), Port: 80, Client: c}
				if tt.tls {
					l.TLS = tls
					l.Hostname = l.Name[len(l.Name)-1:] + ".example.com"
				}
				p.HTTP = append(p.HTTP, l)
			}
			err := p.validateClient()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateClientSettings(t *testing.T) {
	p := &Proxy{Name: "ns/gw", HTTP: []*HTTPListener{{Name: "ns/gw/l", Port: 80,
		Client: &ClientSettings{HTTP: &ClientHTTP{HTTP3: true}}}}}
	if err := p.validateClient(); err == nil || !strings.Contains(err.Error(), "HTTP/3 without TLS") {
		t.Errorf("HTTP/3 on a plain listener: %v", err)
	}
	p.HTTP[0].Client = &ClientSettings{HTTP: &ClientHTTP{HTTP1: &ClientHTTP1{IgnoredUpgradeTypes: []StringMatch{{Type: MatchRegex, Value: "("}}}}}
	if err := p.validateClient(); err == nil || !strings.Contains(err.Error(), "regex") {
		t.Errorf("bad regex: %v", err)
	}
}
