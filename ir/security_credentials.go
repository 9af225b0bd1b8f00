package ir

import (
	"encoding/json"
	"errors"
	"fmt"
)

// APIKeyAuth is a SecurityPolicy's spec.apiKeyAuth: a request must carry one
// of Credentials' keys in one of KeySources, else Envoy answers 401.
type APIKeyAuth struct {
	// Credentials, sorted by client id; keys are unique.
	Credentials []APIKeyCredential
	// KeySources are looked at in order; the first that holds a key is used.
	KeySources []KeySource
	// ForwardClientIDHeader, when set, names the request header that tells
	// the backend which client the key belongs to.
	ForwardClientIDHeader string `json:",omitempty"`
	// Sanitize removes the key from the request before it goes upstream.
	Sanitize bool `json:",omitempty"`
}

// APIKeyCredential is one client's key. Key is secret: printed output
// redacts it (RedactSecrets).
type APIKeyCredential struct {
	Client string
	Key    []byte
}

// MarshalJSON prints the key as text, so a redacted key reads as such.
func (c APIKeyCredential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Client string
		Key    string
	}{c.Client, string(c.Key)})
}

// KeySource is where a key may be: exactly one field is set.
type KeySource struct {
	Header string `json:",omitempty"`
	Query  string `json:",omitempty"`
	Cookie string `json:",omitempty"`
}

func (a *APIKeyAuth) validate() error {
	if len(a.Credentials) == 0 {
		return errors.New("no credentials")
	}
	if len(a.KeySources) == 0 {
		return errors.New("no key sources")
	}
	clients := make(map[string]bool, len(a.Credentials))
	for i, c := range a.Credentials {
		if c.Client == "" || len(c.Key) == 0 {
			return fmt.Errorf("credentials[%d]: empty client or key", i)
		}
		if clients[c.Client] {
			return fmt.Errorf("credentials[%d]: client %q repeats", i, c.Client)
		}
		clients[c.Client] = true
	}
	for i, s := range a.KeySources {
		n := 0
		for _, v := range []string{s.Header, s.Query, s.Cookie} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("keySources[%d]: want exactly one of header, query, cookie", i)
		}
	}
	return nil
}

// BasicAuth is a SecurityPolicy's spec.basicAuth: the Authorization header
// must carry a user and password that Users (htpasswd, {SHA} hashes)
// accepts, else Envoy answers 401.
type BasicAuth struct {
	// Name is the filter's suffix, "securitypolicy/namespace/name" of the
	// policy that holds the users: one filter per such policy.
	Name string
	// Users is the htpasswd file, one "user:{SHA}base64" per line. Secret:
	// printed output redacts it.
	Users []byte
	// ForwardUsernameHeader, when set, names the request header that
	// tells the backend who logged in.
	ForwardUsernameHeader string `json:",omitempty"`
}

// MarshalJSON prints the users as text, so a redacted file reads as such.
func (a *BasicAuth) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name                  string
		Users                 string
		ForwardUsernameHeader string `json:",omitempty"`
	}{a.Name, string(a.Users), a.ForwardUsernameHeader})
}

func (a *BasicAuth) validate() error {
	if a.Name == "" {
		return errors.New("empty name")
	}
	if len(a.Users) == 0 {
		return errors.New("no users")
	}
	return nil
}
