package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// OIDCProviderConfig is the part of an OpenID provider's configuration
// document (RFC 8414 / OpenID Connect Discovery 1.0, served at
// <issuer>/.well-known/openid-configuration) that egctl uses. Envoy
// Gateway fetches it when a SecurityPolicy leaves the endpoints out;
// offline, the caller supplies it (Options.OIDCDiscovery).
type OIDCProviderConfig struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
}

// ParseOIDCProviderConfig decodes a discovery document and checks that it
// names its issuer and both endpoints.
func ParseOIDCProviderConfig(data []byte) (*OIDCProviderConfig, error) {
	var c OIDCProviderConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("not an OpenID provider configuration: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"issuer", c.Issuer}, {"authorization_endpoint", c.AuthorizationEndpoint}, {"token_endpoint", c.TokenEndpoint},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("OpenID provider configuration without %s", strings.Join(missing, ", "))
	}
	return &c, nil
}

// OIDCDiscoveryURL is where an issuer publishes its configuration.
func OIDCDiscoveryURL(issuer string) (string, error) {
	u, err := validateOIDCIssuer(issuer)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/.well-known/openid-configuration"
	return u.String(), nil
}

// SameOIDCIssuer compares issuer identifiers, ignoring a trailing slash
// (providers differ in whether they write one).
func SameOIDCIssuer(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// validateOIDCIssuer applies the spec's (and Envoy Gateway's) rules: an
// https URL with a host, without userinfo, query or fragment.
func validateOIDCIssuer(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("issuer %q is not a URL: %v", raw, err)
	case u.Scheme != "https":
		return nil, fmt.Errorf("issuer %q must be an https URL", raw)
	case u.Hostname() == "":
		return nil, fmt.Errorf("issuer %q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("issuer %q must not carry userinfo", raw)
	case u.RawQuery != "" || strings.Contains(raw, "?"):
		return nil, fmt.Errorf("issuer %q must not have a query", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("issuer %q must not have a fragment", raw)
	}
	return u, nil
}

// errNoOIDCDiscovery explains how to give egctl the endpoints offline.
var errNoOIDCDiscovery = errors.New("egctl does not fetch the issuer's configuration on its own: write both endpoints in the policy, " +
	"pass the issuer's /.well-known/openid-configuration with --oidc-discovery FILE, or allow fetching it with --oidc-discovery-fetch")
