package ir

// EnvoyPatch is one EnvoyPatchPolicy's JSON patches, applied to the
// proxy's finished xDS resources.
type EnvoyPatch struct{}
