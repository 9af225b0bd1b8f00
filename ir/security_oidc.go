package ir

// OIDC is a SecurityPolicy's spec.oidc: the OAuth2 filter's settings.
type OIDC struct{}
