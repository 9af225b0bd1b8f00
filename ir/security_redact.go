package ir

// redactSecurity returns listeners whose routes' security settings have
// their secret material redacted: API keys, htpasswd files, secret members
// of local key sets, and client certificate keys of key-set fetches.
// Routes share settings, so each shared value is redacted once and only
// what changes is copied.
func redactSecurity(ls []*HTTPListener) []*HTTPListener {
	done := map[*SecuritySettings]*SecuritySettings{}
	redacted := func(s *SecuritySettings) *SecuritySettings {
		if s == nil {
			return nil
		}
		r, ok := done[s]
		if !ok {
			r = s.redacted()
			done[s] = r
		}
		return r
	}
	out := make([]*HTTPListener, len(ls))
	for li, l := range ls {
		out[li] = l
		if l == nil {
			continue
		}
		var nl *HTTPListener
		for vi, vh := range l.VirtualHosts {
			var nvh *VirtualHost
			for ri, r := range vh.Routes {
				if r == nil || r.Security == nil {
					continue
				}
				rs := redacted(r.Security)
				if rs == r.Security {
					continue
				}
				nr := *r
				nr.Security = rs
				if nvh == nil {
					cp := *vh
					cp.Routes = append([]*HTTPRoute(nil), vh.Routes...)
					nvh = &cp
				}
				nvh.Routes[ri] = &nr
			}
			if nvh == nil {
				continue
			}
			if nl == nil {
				cp := *l
				cp.VirtualHosts = append([]*VirtualHost(nil), l.VirtualHosts...)
				nl = &cp
			}
			nl.VirtualHosts[vi] = nvh
		}
		if nl != nil {
			out[li] = nl
		}
	}
	return out
}

// redacted returns s, or a copy with its secrets replaced by Redacted.
func (s *SecuritySettings) redacted() *SecuritySettings {
	var cp *SecuritySettings
	edit := func() *SecuritySettings {
		if cp == nil {
			c := *s
			cp = &c
		}
		return cp
	}
	if a := s.APIKeyAuth; a != nil && len(a.Credentials) > 0 {
		na := *a
		na.Credentials = make([]APIKeyCredential, len(a.Credentials))
		for i, c := range a.Credentials {
			na.Credentials[i] = APIKeyCredential{Client: c.Client, Key: []byte(Redacted)}
		}
		edit().APIKeyAuth = &na
	}
	if a := s.BasicAuth; a != nil && len(a.Users) > 0 {
		na := *a
		na.Users = []byte(Redacted)
		edit().BasicAuth = &na
	}
	if j := s.JWT; j != nil {
		var providers []JWTProvider
		for i := range j.Providers {
			p := &j.Providers[i]
			np := *p
			changed := false
			if p.LocalJWKS != "" {
				if r, ok := RedactJWKS(p.LocalJWKS); ok {
					np.LocalJWKS, changed = r, true
				}
			}
			if p.RemoteJWKS != nil && p.RemoteJWKS.Destination != nil {
				if d, ok := redactDestinationKeys(p.RemoteJWKS.Destination); ok {
					rj := *p.RemoteJWKS
					rj.Destination = d
					np.RemoteJWKS, changed = &rj, true
				}
			}
			if !changed {
				continue
			}
			if providers == nil {
				providers = append([]JWTProvider(nil), j.Providers...)
			}
			providers[i] = np
		}
		if providers != nil {
			nj := *j
			nj.Providers = providers
			edit().JWT = &nj
		}
	}
	if cp == nil {
		return s
	}
	return cp
}

// redactDestinationKeys redacts the private keys of client certificates
// d's backends present, copying only what changes.
func redactDestinationKeys(d *RouteDestination) (*RouteDestination, bool) {
	var nd *RouteDestination
	for i, be := range d.Backends {
		if be == nil || be.TLS == nil || be.TLS.ClientCertificate == nil || len(be.TLS.ClientCertificate.PrivateKey) == 0 {
			continue
		}
		if nd == nil {
			c := *d
			c.Backends = append([]*Backend(nil), d.Backends...)
			nd = &c
		}
		nb, nt, nc := *be, *be.TLS, *be.TLS.ClientCertificate
		nc.PrivateKey = []byte(Redacted)
		nt.ClientCertificate = &nc
		nb.TLS = &nt
		nd.Backends[i] = &nb
	}
	if nd == nil {
		return d, false
	}
	return nd, true
}
