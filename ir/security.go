package ir

// SecuritySettings is what a SecurityPolicy asks of a route.
type SecuritySettings struct {
	// OIDC is spec.oidc (security_oidc.go).
	OIDC *OIDC `json:",omitempty"`
	// ExtAuth is spec.extAuth (security_extauth.go).
	ExtAuth *ExtAuth `json:",omitempty"`
}
