package ir

// RateLimit is what a BackendTrafficPolicy's spec.rateLimit asks of a
// route: local and global limits.
type RateLimit struct{}
