package ir

// ExtAuth is a SecurityPolicy's spec.extAuth: an external authorization
// service.
type ExtAuth struct{}
