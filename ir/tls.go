package ir

import (
	"reflect"
	"slices"
)

// ClientValidation asks downstream clients for a certificate and checks it
// against trust anchors (Gateway spec.tls.frontend).
type ClientValidation struct {
	// CACertificates is a PEM bundle of trust anchors; never empty.
	CACertificates string `ir:"text"`
	// CAName names the SDS validation secret they travel in (Envoy
	// Gateway's "gateway/<ns>/<gateway>/<default or port>/ca.crt"); empty:
	// derived from the content.
	CAName string `json:",omitempty"`
	// AllowInsecureFallback accepts connections whose client presents no
	// certificate or one that does not verify (mode AllowInsecureFallback);
	// false requires a valid one (AllowValidOnly).
	AllowInsecureFallback bool
}

// BackendTLS makes the connection to a backend TLS (BackendTLSPolicy, or
// an Envoy Gateway Backend's spec.tls).
type BackendTLS struct {
	// SNI is the server name sent, and the default name the backend's
	// certificate must carry. Empty when AutoSNI or AutoHostSNI say where
	// the name comes from.
	SNI string
	// AutoSNI sends each request's Host as SNI; AutoHostSNI the endpoint's
	// hostname (the DNS name of an FQDN endpoint, or its hostname field).
	// The certificate must then carry the name sent.
	AutoSNI     bool `json:",omitempty"`
	AutoHostSNI bool `json:",omitempty"`
	// CACertificates is a PEM bundle of trust anchors; empty when
	// UseSystemCA or InsecureSkipVerify is set.
	CACertificates string `ir:"text"`
	// UseSystemCA trusts the system's certificate store
	// (wellKnownCACertificates: System).
	UseSystemCA bool
	// CAName names the SDS validation secret the trust anchors travel in,
	// as Envoy Gateway names it: "<policy>/<namespace>-ca" for a
	// BackendTLSPolicy's CA certificates, "<backend>/<namespace>-ca" for a
	// Backend's, SystemCASecret for the system store. Empty: a name is
	// derived from the certificates.
	CAName string `json:",omitempty"`
	// FromURL marks the TLS of a cluster made from a URL (a remote JWKS,
	// an OIDC token endpoint): one transport socket with the trust anchors
	// inline, as Envoy Gateway spells those, instead of a socket per
	// endpoint with SDS trust anchors.
	FromURL bool `json:",omitempty"`
	// InsecureSkipVerify accepts whatever certificate the backend shows.
	InsecureSkipVerify bool `json:",omitempty"`
	// SubjectAltNames the backend certificate must carry one of; empty
	// means SNI must match a DNS name of the certificate.
	SubjectAltNames []SubjectAltName `json:",omitempty"`
	// ClientCertificate is presented to the backend when set (the
	// Backend's own, else the Gateway's spec.tls.backend.clientCertificateRef).
	ClientCertificate *Certificate `json:",omitempty"`
	// ALPNProtocols offered to the backend; empty offers none (or h2 for
	// an HTTP/2 backend).
	ALPNProtocols []string `json:",omitempty"`
	// TLS parameters: versions "1.0".."1.3" ("" for Envoy's default), and
	// the cipher suites, ECDH curves and signature algorithms offered.
	MinVersion          string   `json:",omitempty"`
	MaxVersion          string   `json:",omitempty"`
	Ciphers             []string `json:",omitempty"`
	ECDHCurves          []string `json:",omitempty"`
	SignatureAlgorithms []string `json:",omitempty"`
}

// SystemCASecret is the SDS validation secret holding the system trust
// store (Envoy Gateway's name).
const SystemCASecret = "system_ca_certificates"

// TLSMixable reports whether backends can share one cluster as far as TLS
// goes. A cluster picks each endpoint's transport socket by the endpoint's
// metadata, so backends may differ in TLS and plain backends may sit beside
// TLS ones, except where a setting is the whole cluster's:
//   - a server name taken from each request's Host (AutoSNI) is set on the
//     cluster and would replace another backend's own name;
//   - an HTTP/1.1 backend offered h2 by ALPN needs the protocol chosen by
//     ALPN (auto_config), which needs TLS to every endpoint;
//   - the TLS of a cluster made from a URL is one socket for all.
func TLSMixable(backends []*Backend) bool {
	var first *BackendTLS
	var plain, autoSNI, ownName, alpnH2, fromURL bool
	for _, be := range backends {
		if be == nil {
			continue
		}
		t := be.TLS
		if t == nil {
			plain = true
			continue
		}
		if first == nil {
			first = t
		}
		if t.FromURL || first.FromURL {
			fromURL = fromURL || !t.Equal(first)
		}
		if t.AutoSNI {
			autoSNI = true
		} else {
			ownName = true
		}
		if be.Protocol != ProtocolHTTP2 && slices.Contains(t.ALPNProtocols, "h2") {
			alpnH2 = true
		}
	}
	switch {
	case first == nil:
		return true
	case fromURL || (first.FromURL && plain):
		return false
	case autoSNI && ownName:
		return false
	case alpnH2 && plain:
		return false
	}
	return true
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
// one cluster must agree on them. Client certificates compare by name.
func (t *BackendTLS) Equal(o *BackendTLS) bool {
	if t == nil || o == nil {
		return t == o
	}
	a, b := *t, *o
	ac, bc := a.ClientCertificate, b.ClientCertificate
	a.ClientCertificate, b.ClientCertificate = nil, nil
	if !reflect.DeepEqual(a, b) {
		return false
	}
	if ac == nil || bc == nil {
		return ac == bc
	}
	return ac.Name == bc.Name
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
