// Package version reports what egctl was built from.
package version

import (
	"runtime"
	"runtime/debug"
)

// These are set at link time by `make build` (-ldflags -X); a plain
// `go build` falls back to the module's build info.
var (
	Version = ""
	Commit  = ""
)

// Info is what `egctl version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	// EnvoyAPI is the go-control-plane API version egctl emits, which
	// matches the Envoy release the output is tested against.
	EnvoyAPI string `json:"envoyAPI"`
	// GatewayAPI is the Gateway API release whose types egctl reads.
	GatewayAPI string `json:"gatewayAPI"`
	// EnvoyGatewayAPI is the Envoy Gateway API module whose extension kinds egctl reads.
	EnvoyGatewayAPI string `json:"envoyGatewayAPI"`
}

// Get returns the build's version information.
func Get() Info {
	info := Info{
		Version:   Version,
		Commit:    Commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/envoyproxy/go-control-plane/envoy":
				info.EnvoyAPI = d.Version
			case "sigs.k8s.io/gateway-api":
				info.GatewayAPI = d.Version
			case "github.com/envoyproxy/gateway":
				info.EnvoyGatewayAPI = d.Version
			}
		}
		if info.Commit == "" {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	// Test binaries carry no dependency list; the pinned versions stand in.
	if info.EnvoyAPI == "" {
		info.EnvoyAPI = pinnedEnvoyAPI
	}
	if info.GatewayAPI == "" {
		info.GatewayAPI = pinnedGatewayAPI
	}
	if info.EnvoyGatewayAPI == "" {
		info.EnvoyGatewayAPI = pinnedEnvoyGatewayAPI
	}
	if info.Version == "" || info.Version == "(devel)" {
		info.Version = "dev"
	}
	return info
}

// The module versions go.mod pins; version_test.go keeps them in step.
const (
	pinnedEnvoyAPI        = "v1.40.0"
	pinnedGatewayAPI      = "v1.6.3"
	pinnedEnvoyGatewayAPI = "v1.9.1"
)
