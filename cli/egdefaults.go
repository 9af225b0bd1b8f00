package cli

import (
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// EnvoyGatewayDefaults are the flags choosing between Envoy Gateway's
// defaults (the default: egctl's xDS is Envoy Gateway's, resource for
// resource) and egctl's lean output, for every command that compiles
// manifests (translate, diff, status), so that they compile alike.
type EnvoyGatewayDefaults struct {
	Lean      bool
	ReadyPort uint32
	// StatsPort is the Prometheus stats listener's port (Envoy Gateway's
	// default one, or the one an EnvoyProxy's telemetry.metrics asks for).
	StatsPort uint32
}

// AddFlags registers --lean and --ready-port.
func (d *EnvoyGatewayDefaults) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&d.Lean, "lean", false, "leave out what Envoy Gateway adds where the input says nothing (readiness listener, default access log, Prometheus stats listener, default circuit breakers, listener and DNS settings): only what the manifests ask for")
	fs.Uint32Var(&d.ReadyPort, "ready-port", translate.DefaultReadyPort, "port of the readiness listener (GET /ready) Envoy Gateway's proxies serve; not with --lean")
	fs.Uint32Var(&d.StatsPort, "stats-port", xds.DefaultStatsPort, "port of the Prometheus stats listener (Envoy Gateway's default, or the one an EnvoyProxy's telemetry.metrics asks for); a Gateway listener on it is refused")
}

// Validate checks the flags.
func (d *EnvoyGatewayDefaults) Validate(fs *pflag.FlagSet) error {
	if d.ReadyPort == 0 || d.ReadyPort > 65535 {
		return UsageErrorf("--ready-port %d: want 1..65535", d.ReadyPort)
	}
	if d.StatsPort == 0 || d.StatsPort > 65535 {
		return UsageErrorf("--stats-port %d: want 1..65535", d.StatsPort)
	}
	if d.Lean && fs != nil && fs.Changed("ready-port") {
		return UsageErrorf("--ready-port: --lean emits no readiness listener")
	}
	return nil
}

// Apply sets the translation options the flags stand for.
func (d *EnvoyGatewayDefaults) Apply(o *translate.Options) {
	o.EnvoyGatewayDefaults = !d.Lean
	o.ReadyPort = d.ReadyPort
	o.StatsPort = d.StatsPort
}
