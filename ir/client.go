package ir

// ClientSettings is what a ClientTrafficPolicy asks of a listener: how
// downstream connections are accepted and requests read.
type ClientSettings struct{}
