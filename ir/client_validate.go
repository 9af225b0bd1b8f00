package ir

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
)

// validateClient checks the ClientSettings of p's listeners: IR listeners
// that share an Envoy listener must agree on its socket settings, and plain
// HTTP listeners of one port (one filter chain, one HTTP connection
// manager) on everything. Otherwise one listener's policy would silently
// apply to another's traffic; translate refuses such policies first.
func (p *Proxy) validateClient() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("proxy %s: "+format, append([]any{p.Name}, args...)...))
	}
	type first struct {
		name string
		c    *ClientSettings
	}
	socket := map[uint32]first{}
	plain := map[uint32]first{}
	// TLS fingerprints are a union: the inspector computes them for the
	// whole port when one listener asks, which changes no traffic.
	socketOf := func(c *ClientSettings) *ClientSocket {
		if c == nil || c.Socket == nil {
			return nil
		}
		s := *c.Socket
		s.TLSFingerprints = nil
		if reflect.DeepEqual(s, ClientSocket{}) {
			return nil
		}
		return &s
	}
	checkSocket := func(name string, port uint32, c *ClientSettings) {
		if f, ok := socket[port]; ok {
			if !reflect.DeepEqual(socketOf(f.c), socketOf(c)) {
				add("listeners %s and %s share port %d but not their client socket settings", f.name, name, port)
			}
			return
		}
		socket[port] = first{name, c}
	}
	for _, l := range p.HTTP {
		if l == nil {
			continue
		}
		checkSocket(l.Name, l.Port, l.Client)
		if l.Client != nil {
			if err := l.Client.validate(l.TLS != nil); err != nil {
				add("listener %s: %v", l.Name, err)
			}
		}
		if l.TLS != nil {
			if err := l.TLS.Client.validate(); err != nil {
				add("listener %s: TLS: %v", l.Name, err)
			}
			continue
		}
		if f, ok := plain[l.Port]; ok {
			var a, b ClientSettings
			if f.c != nil {
				a = *f.c
			}
			if l.Client != nil {
				b = *l.Client
			}
			a.Policy, b.Policy = "", ""
			a.Socket, b.Socket = socketOf(&a), socketOf(&b)
			if !reflect.DeepEqual(a, b) {
				add("plain HTTP listeners %s and %s share port %d (one HTTP connection manager) but not their client settings", f.name, l.Name, l.Port)
			}
			continue
		}
		plain[l.Port] = first{l.Name, l.Client}
	}
	for _, l := range p.TCP {
		if l == nil {
			continue
		}
		checkSocket(l.Name, l.Port, l.Client)
		if l.Client != nil && l.Client.HTTP != nil {
			add("listener %s: HTTP client settings on a TCP/TLS listener", l.Name)
		}
		if l.TLS != nil {
			if err := l.TLS.Client.validate(); err != nil {
				add("listener %s: TLS: %v", l.Name, err)
			}
		}
	}
	for _, l := range p.UDP {
		if l != nil && l.Client != nil && (l.Client.Socket != nil || l.Client.Chain != nil || l.Client.HTTP != nil) {
			add("listener %s: client settings on a UDP listener", l.Name)
		}
	}
	return errors.Join(errs...)
}

func (c *ClientSettings) validate(tls bool) error {
	if h := c.HTTP; h != nil {
		if h.HTTP3 && !tls {
			return errors.New("HTTP/3 without TLS")
		}
		if ip := h.ClientIP; ip != nil {
			n := 0
			for _, set := range []bool{ip.XFFTrustedHops != nil || len(ip.XFFTrustedCIDRs) > 0, ip.CustomHeader != "", ip.DirectSourceIP} {
				if set {
					n++
				}
			}
			if n > 1 {
				return errors.New("client IP: more than one of X-Forwarded-For, custom header, direct source IP")
			}
		}
		if h.HTTP1 != nil {
			for _, m := range h.HTTP1.IgnoredUpgradeTypes {
				if err := m.validateMatcher(); err != nil {
					return fmt.Errorf("ignored upgrade types: %w", err)
				}
			}
		}
		if hd := h.Headers; hd != nil {
			for _, hm := range []*HeaderMutation{hd.EarlyRequestHeaders, hd.LateResponseHeaders} {
				if hm == nil {
					continue
				}
				for _, m := range hm.RemoveOnMatch {
					if err := m.validateMatcher(); err != nil {
						return fmt.Errorf("header removal: %w", err)
					}
				}
			}
		}
	}
	if ch := c.Chain; ch != nil && ch.ConnectionLimit != nil && ch.ConnectionLimit.Max == 0 {
		return errors.New("connection limit 0")
	}
	return nil
}

// validateMatcher checks a name-less StringMatch used as a matcher.
func (m StringMatch) validateMatcher() error {
	switch m.Type {
	case MatchExact, MatchPrefix, MatchSuffix:
	case MatchRegex:
		if _, err := regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("regex %q: %v", m.Value, err)
		}
	default:
		return fmt.Errorf("unknown match type %q", m.Type)
	}
	if m.Value == "" {
		return errors.New("empty match value")
	}
	return nil
}

func (t *ClientTLS) validate() error {
	if t == nil || t.Validation == nil {
		return nil
	}
	v := t.Validation
	if !v.AcceptUntrusted && v.CACertificates == "" && len(v.SPKIHashes) == 0 && len(v.CertificateHashes) == 0 {
		return errors.New("client validation verifies certificates but has nothing to verify them against")
	}
	if len(v.SubjectAltNames) > 0 && v.CACertificates == "" {
		return errors.New("client validation checks subject alternative names without a trusted CA (Envoy refuses it)")
	}
	for _, s := range v.SubjectAltNames {
		switch s.Type {
		case "DNS", "EMAIL", "IP_ADDRESS", "URI":
		case "OTHER_NAME":
			if s.OID == "" {
				return errors.New("subject alt name OTHER_NAME without OID")
			}
		default:
			return fmt.Errorf("unknown subject alt name type %q", s.Type)
		}
		if err := s.Match.validateMatcher(); err != nil {
			return fmt.Errorf("subject alt name: %w", err)
		}
	}
	return nil
}
