package ir

// TLSParams are the protocol parameters of an upstream TLS connection
// (EnvoyProxy spec.backendTLS). Versions are "1.0".."1.3", "" for Envoy's
// default; empty lists keep Envoy's defaults.
type TLSParams struct {
	MinVersion          string   `json:",omitempty"`
	MaxVersion          string   `json:",omitempty"`
	Ciphers             []string `json:",omitempty"`
	ECDHCurves          []string `json:",omitempty"`
	SignatureAlgorithms []string `json:",omitempty"`
}

// Equal reports whether two parameter sets are the same.
func (p *TLSParams) Equal(o *TLSParams) bool {
	if p == nil || o == nil {
		return p == o
	}
	eq := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return p.MinVersion == o.MinVersion && p.MaxVersion == o.MaxVersion && eq(p.Ciphers, o.Ciphers) &&
		eq(p.ECDHCurves, o.ECDHCurves) && eq(p.SignatureAlgorithms, o.SignatureAlgorithms)
}
