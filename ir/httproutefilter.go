package ir

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// CredentialInjection adds a credential to every request of a route before
// it goes upstream (Envoy Gateway HTTPRouteFilter credentialInjection).
// One value per HTTPRouteFilter, shared by every route that uses it: never
// modify it.
type CredentialInjection struct {
	// Name is "httproutefilter/namespace/name": it names the HTTP filter
	// and the secret that holds the credential.
	Name string
	// Header receives the credential; "" means Authorization.
	Header string `json:",omitempty"`
	// Overwrite replaces a value the request already has; without it such
	// a request goes upstream untouched.
	Overwrite bool `json:",omitempty"`
	// Credential is the header value, secret material: redacted in printed
	// output.
	Credential []byte
}

// MarshalJSON prints the credential as text (or Redacted).
func (c *CredentialInjection) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name       string
		Header     string `json:",omitempty"`
		Overwrite  bool   `json:",omitempty"`
		Credential string
	}{c.Name, c.Header, c.Overwrite, string(c.Credential)})
}

func (r *HTTPRoute) validateHTTPRouteFilter() error {
	for _, m := range r.Match.Cookies {
		if m.Name == "" {
			return errors.New("cookie match without a name")
		}
		if m.Type == MatchRegex {
			if _, err := regexp.Compile(m.Value); err != nil {
				return fmt.Errorf("cookie %s: regex %q: %v", m.Name, m.Value, err)
			}
		}
	}
	if c := r.CredentialInjection; c != nil {
		if c.Name == "" || len(c.Credential) == 0 {
			return errors.New("credential injection without a name or a credential")
		}
	}
	if u := r.URLRewrite; u != nil {
		n := 0
		for _, set := range []bool{u.Hostname != "", u.HostFromHeader != "", u.HostFromBackend, u.HostPathRegex != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("URL rewrite sets %d ways of rewriting the host", n)
		}
		if p := u.HostPathRegex; p != nil {
			if _, err := regexp.Compile(p.Pattern); err != nil {
				return fmt.Errorf("host path regex %q: %v", p.Pattern, err)
			}
		}
		if p := u.Path; p != nil && p.Type == RegexReplace {
			if _, err := regexp.Compile(p.Pattern); err != nil {
				return fmt.Errorf("path regex %q: %v", p.Pattern, err)
			}
		}
	}
	if s := r.SessionPersistence; s != nil {
		if err := s.validate(); err != nil {
			return err
		}
	}
	return nil
}

// redactCredentials returns listeners whose injected credentials read
// Redacted, copying only what changes.
func redactCredentials(ls []*HTTPListener) []*HTTPListener {
	var hidden map[*CredentialInjection]*CredentialInjection
	out, copied := ls, false
	for li, l := range ls {
		if l == nil {
			continue
		}
		var nl *HTTPListener
		for vi, vh := range l.VirtualHosts {
			var nvh *VirtualHost
			for ri, r := range vh.Routes {
				if r == nil || r.CredentialInjection == nil {
					continue
				}
				if hidden == nil {
					hidden = map[*CredentialInjection]*CredentialInjection{}
				}
				h := hidden[r.CredentialInjection]
				if h == nil {
					cp := *r.CredentialInjection
					cp.Credential = []byte(Redacted)
					h = &cp
					hidden[r.CredentialInjection] = h
				}
				if nvh == nil {
					cp := *vh
					cp.Routes = append([]*HTTPRoute(nil), vh.Routes...)
					nvh = &cp
				}
				nr := *r
				nr.CredentialInjection = h
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
			if !copied {
				out, copied = append([]*HTTPListener(nil), ls...), true
			}
			out[li] = nl
		}
	}
	return out
}
