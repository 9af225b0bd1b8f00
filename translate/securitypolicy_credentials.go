package translate

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // {SHA} htpasswd entries are SHA-1 by definition
	"encoding/base64"
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// translateAPIKeyAuth: spec.apiKeyAuth. Each Secret's keys are client ids,
// its values their API keys. Messages name Secrets and clients, never a key.
func (b *builder) translateAPIKeyAuth(owner *policy, a *egv1a1.APIKeyAuth) (*ir.APIKeyAuth, error) {
	const field = "spec.apiKeyAuth"
	if len(a.CredentialRefs) == 0 {
		return nil, fmt.Errorf("%s.credentialRefs: at least one Secret is required", field)
	}
	if len(a.ExtractFrom) == 0 {
		return nil, fmt.Errorf("%s.extractFrom: at least one source is required (the CRD requires it)", field)
	}
	out := &ir.APIKeyAuth{}
	seenClient := map[string]bool{}
	keyOwner := map[string]string{}
	for i, ref := range a.CredentialRefs {
		f := fmt.Sprintf("%s.credentialRefs[%d]", field, i)
		s, err := b.spSecret(owner, ref, f)
		if err != nil {
			return nil, err
		}
		keys := secretKeys(s)
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s: Secret %s/%s holds no client", f, s.Namespace, s.Name)
		}
		for _, client := range keys {
			if seenClient[client] {
				continue // the first Secret naming a client wins, as documented
			}
			key := secretValue(s, client)
			if len(key) == 0 {
				return nil, fmt.Errorf("%s: Secret %s/%s: client %q has an empty key", f, s.Namespace, s.Name, client)
			}
			if other, dup := keyOwner[string(key)]; dup {
				// Envoy could not tell the two clients apart.
				return nil, fmt.Errorf("%s: Secret %s/%s: clients %q and %q have the same API key", f, s.Namespace, s.Name, other, client)
			}
			seenClient[client] = true
			keyOwner[string(key)] = client
			out.Credentials = append(out.Credentials, ir.APIKeyCredential{Client: client, Key: bytes.Clone(key)})
		}
	}
	for i, e := range a.ExtractFrom {
		f := fmt.Sprintf("%s.extractFrom[%d]", field, i)
		if e == nil {
			return nil, fmt.Errorf("%s: empty", f)
		}
		n := 0
		for _, l := range [][]string{e.Headers, e.Params, e.Cookies} {
			if len(l) > 0 {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("%s: exactly one of headers, params, or cookies must be specified (the CRD requires it)", f)
		}
		for _, h := range e.Headers {
			if err := checkHeaderName(h); err != nil {
				return nil, fmt.Errorf("%s.headers: %v", f, err)
			}
			out.KeySources = append(out.KeySources, ir.KeySource{Header: h})
		}
		for _, q := range e.Params {
			if q == "" {
				return nil, fmt.Errorf("%s.params: empty name", f)
			}
			out.KeySources = append(out.KeySources, ir.KeySource{Query: q})
		}
		for _, c := range e.Cookies {
			if c == "" {
				return nil, fmt.Errorf("%s.cookies: empty name", f)
			}
			out.KeySources = append(out.KeySources, ir.KeySource{Cookie: c})
		}
	}
	if h := a.ForwardClientIDHeader; h != nil && *h != "" {
		if err := checkHeaderName(*h); err != nil {
			return nil, fmt.Errorf("%s.forwardClientIDHeader: %v", field, err)
		}
		out.ForwardClientIDHeader = *h
	}
	out.Sanitize = a.Sanitize != nil && *a.Sanitize
	return out, nil
}

// translateBasicAuth: spec.basicAuth. Envoy checks {SHA} htpasswd entries
// only; anything else is refused here rather than by Envoy at load time.
func (b *builder) translateBasicAuth(owner *policy, a *egv1a1.BasicAuth) (*ir.BasicAuth, error) {
	const field = "spec.basicAuth.users"
	s, err := b.spSecret(owner, a.Users, field)
	if err != nil {
		return nil, err
	}
	users := secretValue(s, egv1a1.BasicAuthUsersSecretKey)
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: Secret %s/%s has no key %q with htpasswd entries", field, s.Namespace, s.Name, egv1a1.BasicAuthUsersSecretKey)
	}
	// A file written on Windows would otherwise carry \r into each hash.
	users = bytes.ReplaceAll(users, []byte("\r\n"), []byte("\n"))
	if err := checkHtpasswd(users); err != nil {
		return nil, fmt.Errorf("%s: Secret %s/%s key %q: %v", field, s.Namespace, s.Name, egv1a1.BasicAuthUsersSecretKey, err)
	}
	out := &ir.BasicAuth{Name: spConfigName(owner), Users: bytes.Clone(users)}
	if h := a.ForwardUsernameHeader; h != nil && *h != "" {
		if err := checkHeaderName(*h); err != nil {
			return nil, fmt.Errorf("spec.basicAuth.forwardUsernameHeader: %v", err)
		}
		out.ForwardUsernameHeader = *h
	}
	return out, nil
}

// checkHtpasswd accepts "user:{SHA}base64(sha1)" lines. Errors give the
// line number and user, never the hash.
func checkHtpasswd(data []byte) error {
	users := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return fmt.Errorf("line %d is not user:hash", i+1)
		}
		if users[user] {
			return fmt.Errorf("line %d: user %q repeats", i+1, user)
		}
		users[user] = true
		raw, ok := strings.CutPrefix(hash, "{SHA}")
		if !ok {
			return fmt.Errorf("line %d (user %q): only {SHA} hashes are supported (htpasswd -s)", i+1, user)
		}
		sum, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(sum) != sha1.Size {
			return fmt.Errorf("line %d (user %q): {SHA} must be followed by a base64 SHA-1 digest", i+1, user)
		}
	}
	if len(users) == 0 {
		return fmt.Errorf("no user")
	}
	return nil
}

// checkHeaderName accepts an HTTP header name (an RFC 7230 token).
func checkHeaderName(h string) error {
	if !isHeaderToken(h) {
		return fmt.Errorf("%q is not a valid header name", h)
	}
	return nil
}
