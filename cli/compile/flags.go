// Package compile is how every egctl command turns manifests into Envoy
// configuration: one set of flags (inputs, controller name, ports, the
// rate-limit service, OIDC discovery, ...) and one Compile, so that
// `x translate`, `x validate`, `x status`, `x diff` and `x serve` agree on
// what the same manifests mean.
package compile

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// DefaultAdminAddress is the Envoy admin address of egctl's bootstraps.
const DefaultAdminAddress = "127.0.0.1:19000"

// Options are the flags shared by the commands that compile manifests.
type Options struct {
	// Inputs (AddInputFlags).
	Files        []string
	Kustomize    []string
	Exclude      []string
	MaxInputSize cli.ByteSize
	AllowEmpty   bool

	// Translation (AddFlags).
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
	AdminAddress        string
	RateLimitService    string
	RateLimitTimeout    time.Duration
	RateLimitFailClosed bool
	DNSDomain           string
	OIDC                cli.OIDCDiscovery
	AddMissingResources bool
	// Envoy Gateway's defaults (the default) or --lean, --ready-port,
	// --stats-port.
	Defaults cli.EnvoyGatewayDefaults

	flags     *pflag.FlagSet // to tell flags given from defaults
	adminHost string
	adminPort uint32
	rlHost    string
	rlPort    uint32
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		MaxInputSize:   manifest.DefaultMaxInputBytes,
		Namespace:      "default",
		ControllerName: translate.DefaultControllerName,
		AdminAddress:   DefaultAdminAddress,
		DNSDomain:      "cluster.local",
		Defaults:       cli.EnvoyGatewayDefaults{ReadyPort: translate.DefaultReadyPort, StatsPort: xds.DefaultStatsPort},
	}
}

// InputFlags say which input flags a command takes.
type InputFlags int

const (
	// WithFiles adds -f and -k: the command reads manifests from flags.
	WithFiles InputFlags = 1 << iota
	// WithStdin lets -f - read standard input.
	WithStdin
)

// AddInputFlags registers -f, -k (with WithFiles), --exclude,
// --max-input-size and --allow-empty.
func (o *Options) AddInputFlags(cmd *cobra.Command, which InputFlags) {
	f := cmd.Flags()
	if which&WithFiles != 0 {
		help := "manifest file or directory (recursive); repeatable"
		if which&WithStdin != 0 {
			help = "manifest file, directory (recursive) or - for stdin; repeatable"
		}
		f.StringArrayVarP(&o.Files, "file", "f", nil, help)
		f.StringArrayVarP(&o.Kustomize, "kustomize", "k", nil, "kustomization directory, built in-process as 'kubectl kustomize DIR' does; repeatable")
		_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
		_ = cmd.MarkFlagDirname("kustomize")
	}
	f.StringArrayVar(&o.Exclude, "exclude", nil, "skip files and directories matching this glob when walking a directory (\"values.yaml\", \"templates/*\"); repeatable")
	f.Var(&o.MaxInputSize, "max-input-size", "largest total input size to read (e.g. 256Mi, 1Gi)")
	f.BoolVar(&o.AllowEmpty, "allow-empty", false, "succeed when the input holds no objects (by default that fails: an empty kustomize build is rarely intended)")
	_ = cmd.RegisterFlagCompletionFunc("exclude", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("max-input-size", FixedCompletions("64Mi", "256Mi", "1Gi"))
}

// AddFlags registers the translation flags.
func (o *Options) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "namespace for namespaced objects that do not name one")
	o.addTranslateFlags(f)
	o.flags = f
	_ = cmd.RegisterFlagCompletionFunc("namespace", NamespaceCompletion(o))
	_ = cmd.RegisterFlagCompletionFunc("controller-name", FixedCompletions(translate.DefaultControllerName))
	_ = cmd.RegisterFlagCompletionFunc("admin-address", FixedCompletions(DefaultAdminAddress))
	_ = cmd.RegisterFlagCompletionFunc("ratelimit-service", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("ratelimit-timeout", FixedCompletions("20ms", "100ms", "1s"))
	_ = cmd.RegisterFlagCompletionFunc("dns-domain", FixedCompletions("cluster.local"))
	_ = cmd.MarkFlagFilename("oidc-discovery", "json")
	_ = cmd.RegisterFlagCompletionFunc("ready-port", FixedCompletions("19003"))
	_ = cmd.RegisterFlagCompletionFunc("stats-port", FixedCompletions("19001"))
}

func (o *Options) addTranslateFlags(f *pflag.FlagSet) {
	f.StringVar(&o.ControllerName, "controller-name", o.ControllerName, "GatewayClass controllerName that egctl acts for")
	f.BoolVar(&o.KeepPrivilegedPorts, "keep-privileged-ports", false, "bind listener ports below 1024 as written instead of port+10000")
	f.StringVar(&o.AdminAddress, "admin-address", o.AdminAddress, "Envoy admin address of the bootstraps: a listener on its port is refused")
	f.StringVar(&o.RateLimitService, "ratelimit-service", "", "host:port of the rate-limit service global rate limits ask (default: Envoy Gateway's, envoy-ratelimit.envoy-gateway-system.svc.<dns-domain>:8081)")
	f.DurationVar(&o.RateLimitTimeout, "ratelimit-timeout", 0, "how long Envoy waits for the rate-limit service (0: Envoy's default, 20ms)")
	f.BoolVar(&o.RateLimitFailClosed, "ratelimit-fail-closed", false, "answer 500 when the rate-limit service cannot be reached (default: let the request through)")
	f.StringVar(&o.DNSDomain, "dns-domain", o.DNSDomain, "cluster DNS domain of the default --ratelimit-service, as in Envoy Gateway's egctl")
	o.OIDC.AddFlags(f)
	f.BoolVar(&o.AddMissingResources, "add-missing-resources", false, "as Envoy Gateway's egctl: invent what the input leaves out (Services that routes name, cluster IPs, a GatewayClass that Gateways name); each is reported on stderr")
	o.Defaults.AddFlags(f)
}

// FixedCompletions completes a flag with fixed values.
func FixedCompletions(values ...string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// Complete checks the flags and works out what they imply. needInput
// says that -f or -k must be given.
func (o *Options) Complete(needInput bool) error {
	if needInput && len(o.Files) == 0 && len(o.Kustomize) == 0 {
		return cli.UsageErrorf("no input: give manifests with -f FILE|DIR|- or a kustomization with -k DIR")
	}
	if err := manifest.ValidateGlobs(o.Exclude); err != nil {
		return cli.UsageError(err)
	}
	if err := o.Defaults.Validate(o.flags); err != nil {
		return err
	}
	host, port, err := SplitHostPort(o.AdminAddress)
	if err != nil {
		return cli.UsageErrorf("--admin-address %q: %v", o.AdminAddress, err)
	}
	o.adminHost, o.adminPort = host, port
	rl := o.RateLimitService
	if rl == "" {
		// Envoy Gateway's Service, in --dns-domain.
		d := translate.DefaultRateLimitService
		rl = fmt.Sprintf("%s:%d", strings.Replace(d.Host, ".cluster.local", "."+o.DNSDomain, 1), d.Port)
	}
	host, port, err = SplitHostPort(rl)
	if err != nil || host == "" || port == 0 {
		if err == nil {
			err = fmt.Errorf("want host:port with a port from 1 to 65535")
		}
		return cli.UsageErrorf("--ratelimit-service %q: %v", rl, err)
	}
	o.rlHost, o.rlPort = host, port
	if o.RateLimitTimeout < 0 {
		return cli.UsageErrorf("--ratelimit-timeout %s: must not be negative", o.RateLimitTimeout)
	}
	return nil
}

// AdminHostPort is --admin-address, split (after Complete).
func (o *Options) AdminHostPort() (string, uint32) { return o.adminHost, o.adminPort }

// RateLimitServiceIR is the rate-limit service the flags name (after
// Complete).
func (o *Options) RateLimitServiceIR() *ir.RateLimitService {
	return &ir.RateLimitService{Host: o.rlHost, Port: o.rlPort, Timeout: o.RateLimitTimeout, FailClosed: o.RateLimitFailClosed}
}

// LoadOptions are the loader's settings for these flags.
func (o *Options) LoadOptions(stdin io.Reader) manifest.Options {
	return manifest.Options{
		Namespace:     o.Namespace,
		Stdin:         stdin,
		MaxInputBytes: int64(o.MaxInputSize),
		Exclude:       o.Exclude,
		Kustomize:     o.Kustomize,
	}
}

// SplitHostPort splits HOST:PORT with a numeric port.
func SplitHostPort(addr string) (string, uint32, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return host, uint32(p), nil
}
