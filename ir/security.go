package ir

// SecuritySettings is what a SecurityPolicy asks of a route.
type SecuritySettings struct{}
