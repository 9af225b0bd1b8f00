package ir

// ClientValidation asks downstream clients for a certificate and checks it
// against trust anchors (Gateway spec.tls.frontend).
type ClientValidation struct {
	// CACertificates is a PEM bundle of trust anchors; never empty.
	CACertificates string `ir:"text"`
	// AllowInsecureFallback accepts connections whose client presents no
	// certificate or one that does not verify (mode AllowInsecureFallback);
	// false requires a valid one (AllowValidOnly).
	AllowInsecureFallback bool
}

// BackendTLS makes the connection to a backend TLS (BackendTLSPolicy).
type BackendTLS struct {
	// SNI is the server name sent, and the default name the backend's
	// certificate must carry.
	SNI string
	// CACertificates is a PEM bundle of trust anchors; empty when
	// UseSystemCA is set.
	CACertificates string `ir:"text"`
	// UseSystemCA trusts the system's certificate store
	// (wellKnownCACertificates: System).
	UseSystemCA bool
	// SubjectAltNames the backend certificate must carry one of; empty
	// means SNI must match a DNS name of the certificate.
	SubjectAltNames []SubjectAltName `json:",omitempty"`
	// ClientCertificate is presented to the backend when set (the
	// Gateway's spec.tls.backend.clientCertificateRef).
	ClientCertificate *Certificate `json:",omitempty"`
	// ALPNProtocols offered to the backend; empty offers none.
	ALPNProtocols []string `json:",omitempty"`
}

// SANType is the kind of a subject alternative name.
type SANType string

const (
	SANDNS SANType = "DNS"
	SANURI SANType = "URI"
)

// SubjectAltName is one accepted name in a backend certificate.
type SubjectAltName struct {
	Type  SANType
	Value string
}

// Equal reports whether two backend TLS settings are the same; backends of
// one cluster must agree on them.
func (t *BackendTLS) Equal(o *BackendTLS) bool {
	if t == nil || o == nil {
		return t == o
	}
	if t.SNI != o.SNI || t.CACertificates != o.CACertificates || t.UseSystemCA != o.UseSystemCA {
		return false
	}
	if len(t.SubjectAltNames) != len(o.SubjectAltNames) || len(t.ALPNProtocols) != len(o.ALPNProtocols) {
		return false
	}
	for i := range t.SubjectAltNames {
		if t.SubjectAltNames[i] != o.SubjectAltNames[i] {
			return false
		}
	}
	for i := range t.ALPNProtocols {
		if t.ALPNProtocols[i] != o.ALPNProtocols[i] {
			return false
		}
	}
	switch {
	case t.ClientCertificate == nil || o.ClientCertificate == nil:
		return t.ClientCertificate == o.ClientCertificate
	default:
		return t.ClientCertificate.Name == o.ClientCertificate.Name
	}
}

// redactBackendClientKeys returns listeners whose backend client
// certificates have their private keys redacted, copying only what changes.
func redactBackendClientKeys(ls []*HTTPListener) []*HTTPListener {
	redactDest := func(d *RouteDestination) (*RouteDestination, bool) {
		if d == nil {
			return d, false
		}
		var nd *RouteDestination
		for i, be := range d.Backends {
			if be == nil || be.TLS == nil || be.TLS.ClientCertificate == nil || len(be.TLS.ClientCertificate.PrivateKey) == 0 {
				continue
			}
			if nd == nil {
				cp := *d
				cp.Backends = append([]*Backend(nil), d.Backends...)
				nd = &cp
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
				if r == nil {
					continue
				}
				d, changed := redactDest(r.Destination)
				var mirrors []*Mirror
				for mi, m := range r.Mirrors {
					if m == nil {
						continue
					}
					if md, ok := redactDest(m.Destination); ok {
						if mirrors == nil {
							mirrors = append([]*Mirror(nil), r.Mirrors...)
						}
						mc := *m
						mc.Destination = md
						mirrors[mi] = &mc
						changed = true
					}
				}
				if !changed {
					continue
				}
				nr := *r
				nr.Destination = d
				if mirrors != nil {
					nr.Mirrors = mirrors
				}
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

// redactTCPListenerKeys returns TCP/TLS listeners whose terminating
// certificates have their private keys redacted, copying only what changes.
func redactTCPListenerKeys(ls []*TCPListener) []*TCPListener {
	if len(ls) == 0 {
		return ls
	}
	out := make([]*TCPListener, len(ls))
	for i, l := range ls {
		out[i] = l
		if l == nil || l.TLS == nil {
			continue
		}
		lc, tc := *l, *l.TLS
		tc.Certificates = make([]*Certificate, len(l.TLS.Certificates))
		for j, c := range l.TLS.Certificates {
			if c == nil {
				continue
			}
			cc := *c
			if len(cc.PrivateKey) > 0 {
				cc.PrivateKey = []byte(Redacted)
			}
			tc.Certificates[j] = &cc
		}
		lc.TLS = &tc
		out[i] = &lc
	}
	return out
}
