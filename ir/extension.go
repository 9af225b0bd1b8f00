package ir

// ExtensionSettings is what an EnvoyExtensionPolicy asks of a route.
type ExtensionSettings struct{}
