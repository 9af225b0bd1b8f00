package ir

// Redacted replaces secret material in printed output.
const Redacted = "[redacted]"

// RedactSecrets returns a copy of p whose private keys and credentials
// (API keys, password hashes, secret key-set members) read Redacted, for
// output that ends up in logs and pull requests. p is not changed.
func RedactSecrets(p *Proxy) *Proxy {
	cp := *p
	cp.HTTP = make([]*HTTPListener, len(p.HTTP))
	for i, l := range p.HTTP {
		if l.TLS == nil {
			cp.HTTP[i] = l
			continue
		}
		lc := *l
		tc := *l.TLS
		tc.Certificates = make([]*Certificate, len(l.TLS.Certificates))
		for j, c := range l.TLS.Certificates {
			cc := *c
			if len(cc.PrivateKey) > 0 {
				cc.PrivateKey = []byte(Redacted)
			}
			tc.Certificates[j] = &cc
		}
		lc.TLS = &tc
		cp.HTTP[i] = &lc
	}
	cp.HTTP = redactBackendClientKeys(cp.HTTP) // tls.go
	cp.HTTP = redactAuthSecrets(cp.HTTP)       // security_oidc.go
	cp.HTTP = redactSecurity(cp.HTTP)          // security_redact.go
	cp.HTTP = redactCredentials(cp.HTTP)       // httproutefilter.go
	cp.TCP = redactTCPListenerKeys(cp.TCP)     // tls.go
	cp.Patches = redactPatches(cp.Patches)     // patch.go
	cp.Settings = redactSettings(cp.Settings)  // proxy_validate.go

	// Shared clusters' backends (backendcluster.go).
	cp.BackendClusters = redactBackendClusters(cp.BackendClusters)
	return &cp
}
