// Package translatecmd implements `egctl x translate`: manifests in, Envoy
// configuration (and the objects' status) out.
package translatecmd

import (
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/internal/wasmimage"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// Output kinds for --to.
const (
	toGatewayAPI = "gateway-api"
	toXDS        = "xds"
	toIR         = "ir"
	toBootstrap  = "bootstrap"
	toRateLimit  = "ratelimit" // ratelimit.go
)

var (
	validTo    = []string{toGatewayAPI, toXDS, toIR, toBootstrap, toRateLimit}
	validTypes = []string{"all", "bootstrap", "listener", "route", "cluster", "endpoint", "secret"}
)

// Options are the flags of `egctl x translate`.
type Options struct {
	IO *cli.IOStreams

	Files               []string
	From                string
	To                  []string
	Type                string
	Output              string
	Namespace           string
	ControllerName      string
	Gateway             string
	OutputDir           string
	KeepPrivilegedPorts bool
	AdminAddress        string
	StatsPort           uint32
	ShowSecrets         bool
	// Pretty indents JSON output (--pretty); compact is the default, as
	// Envoy Gateway prints it.
	Pretty bool
	// The rate-limit service global rate limits ask (ratelimit.go).
	RateLimitService    string
	RateLimitTimeout    time.Duration
	RateLimitFailClosed bool
	OIDC                cli.OIDCDiscovery
	// XDSServer, with --to bootstrap, prints bootstraps that fetch their
	// configuration from `egctl x serve` there instead of static ones.
	XDSServer    string
	XDSDelta     bool
	XDSCertsDir  string
	MaxInputSize cli.ByteSize
	AllowEmpty   bool
	Defaults     cli.EnvoyGatewayDefaults

	// Accepted for compatibility with Envoy Gateway's egctl.
	DNSDomain           string
	AddMissingResources bool

	// compiled holds the xDS resources of every proxy when they had to be
	// built before printing (EnvoyPatchPolicy status), so they are built
	// once.
	compiled map[string]*xds.Resources
}

// NewCmd returns `egctl x translate`. runF replaces the run step in tests.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return newCmd(ios, run)
}

func newCmd(ios *cli.IOStreams, runF func(*Options) error) *cobra.Command {
	o := &Options{IO: ios, MaxInputSize: manifest.DefaultMaxInputBytes}
	cmd := &cobra.Command{
		Use:   "translate",
		Short: "Translate Gateway API manifests into Envoy configuration",
		Long: `Translate reads Gateway API and Envoy Gateway manifests and prints what they
compile to, without a cluster:

  gateway-api  the input objects with the status a controller would write
  xds          Envoy's config dump (listeners, routes, clusters, endpoints,
               secrets) per Gateway, keyed by namespace/name
  ir           egctl's intermediate representation, per Gateway
  bootstrap    one static Envoy bootstrap per Gateway that Envoy runs as is
  ratelimit    the configuration of the rate-limit service that counts
               global rate limits (github.com/envoyproxy/ratelimit)

Gateway listener ports below 1024 are bound at port+10000, as Envoy Gateway
does, so Envoy runs without privileges; --keep-privileged-ports keeps them.

Every object is first validated as the Kubernetes API server would
(the CRDs' schemas and CEL rules, names, namespaces, labels); what a cluster
would refuse stops the command.

Exit status: 0 when every object is accepted and its references resolve;
1 when some object is not, or compiles to nothing (a Gateway whose
GatewayClass is missing or another controller's, a route whose parent is
not in the input, a listener on the admin port, no objects at all), with
one line per problem on stderr; 2 for usage errors and invalid manifests.`,
		Example: `  # Compile a directory of manifests into a bootstrap and run it
  egctl x translate -f manifests/ --to bootstrap > envoy.yaml
  envoy -c envoy.yaml

  # The route configurations only, as JSON
  egctl x translate -f manifests/ --to xds -t route -o json

  # The input objects with their computed status (a pre-merge check)
  egctl x translate -f manifests/ --to gateway-api

  # One bootstrap per Gateway
  egctl x translate -f manifests/ --to bootstrap --output-dir out/

  # Bootstraps and the rate-limit service's configuration, as files
  egctl x translate -f manifests/ --to bootstrap,ratelimit --output-dir out/

  # From stdin
  kustomize build overlays/prod | egctl x translate -f - --to xds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(cmd); err != nil {
				return err
			}
			return runF(o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Files, "file", "f", nil, "manifest file, directory (recursive) or - for stdin; repeatable")
	f.StringVar(&o.From, "from", "gateway-api", "input type: gateway-api")
	f.StringSliceVar(&o.To, "to", []string{toGatewayAPI, toXDS}, "output types, comma separated: "+strings.Join(validTo, ", "))
	f.StringVarP(&o.Type, "type", "t", "all", "xDS resource type for --to xds: "+strings.Join(validTypes, ", "))
	f.StringVarP(&o.Output, "output", "o", "yaml", "output format: yaml or json")
	f.BoolVar(&o.Pretty, "pretty", false, "with -o json: indent by two spaces (default: compact, keys sorted, as Envoy Gateway's egctl prints)")
	f.StringVarP(&o.Namespace, "namespace", "n", "default", "namespace for namespaced objects that do not name one")
	f.StringVar(&o.ControllerName, "controller-name", defaultControllerName, "GatewayClass controllerName that egctl acts for")
	f.StringVar(&o.Gateway, "gateway", "", "namespace/name of the Gateway to emit (needed for --to bootstrap when the input has several); the GatewayClass name for Gateways merged by an EnvoyProxy's mergeGateways")
	f.StringVar(&o.OutputDir, "output-dir", "", "write files into this directory instead of stdout: one bootstrap per Gateway (--to bootstrap), the rate-limit service configuration in ratelimit/config (--to ratelimit)")
	f.BoolVar(&o.KeepPrivilegedPorts, "keep-privileged-ports", false, "bind listener ports below 1024 as written instead of port+10000")
	f.StringVar(&o.AdminAddress, "admin-address", "127.0.0.1:19000", "Envoy admin address in the bootstrap")
	f.StringVar(&o.XDSServer, "xds-server", "", "with --to bootstrap: HOST:PORT of egctl x serve; print bootstraps that get their configuration from it over ADS")
	f.BoolVar(&o.XDSDelta, "xds-delta", false, "with --xds-server: use delta (incremental) xDS instead of state of the world")
	f.StringVar(&o.XDSCertsDir, "xds-certs-dir", "", "with --xds-server: mutual TLS with egctl x certgen's envoy/{tls.crt,tls.key,ca.crt} in this directory, as the proxy's host sees it")
	f.Uint32Var(&o.StatsPort, "stats-port", xds.DefaultStatsPort, "port of the Prometheus stats listener an EnvoyProxy's telemetry.metrics asks for (--to bootstrap)")
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "print private keys in --to xds and --to ir output (bootstraps always carry them)")
	addRateLimitFlags(f, o) // ratelimit.go
	o.OIDC.AddFlags(f)
	f.Var(&o.MaxInputSize, "max-input-size", "largest total input size to read (e.g. 256Mi, 1Gi)")
	f.BoolVar(&o.AllowEmpty, "allow-empty", false, "succeed when the input holds no objects (by default that fails: an empty kustomize build is rarely intended)")
	o.Defaults.AddFlags(f)
	f.StringVar(&o.DNSDomain, "dns-domain", "cluster.local", "cluster DNS domain of the default --ratelimit-service, as in Envoy Gateway's egctl")
	f.BoolVar(&o.AddMissingResources, "add-missing-resources", false, "accepted for compatibility with Envoy Gateway's egctl; egctl reports missing objects in status instead")
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("to", fixed(validTo...))
	_ = cmd.RegisterFlagCompletionFunc("type", fixed(validTypes...))
	_ = cmd.RegisterFlagCompletionFunc("output", fixed("yaml", "json"))
	_ = cmd.RegisterFlagCompletionFunc("from", fixed("gateway-api"))
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	_ = f.MarkHidden("add-missing-resources")
	return cmd
}

// complete checks and normalises the flags.
func (o *Options) complete(cmd *cobra.Command) error {
	if len(o.Files) == 0 {
		return cli.UsageErrorf("no input: give manifests with -f FILE|DIR|-")
	}
	if err := o.Defaults.Validate(cmd.Flags()); err != nil {
		return err
	}
	if o.From != "gateway-api" {
		return cli.UsageErrorf("--from %q is not supported; the only input type is gateway-api", o.From)
	}
	if len(o.To) == 0 {
		return cli.UsageErrorf("--to needs at least one of %s", strings.Join(validTo, ", "))
	}
	for i, t := range o.To {
		t = strings.TrimSpace(t)
		o.To[i] = t
		if !slices.Contains(validTo, t) {
			return cli.UsageErrorf("--to %q is not one of %s", t, strings.Join(validTo, ", "))
		}
	}
	if slices.Contains(o.To, toBootstrap) && len(o.To) > 1 && (o.OutputDir == "" || len(o.To) > 2 || !slices.Contains(o.To, toRateLimit)) {
		return cli.UsageErrorf("--to bootstrap prints an Envoy bootstrap and cannot be combined with other --to types (with --output-dir, --to bootstrap,ratelimit writes both)")
	}
	if o.OutputDir != "" && slices.ContainsFunc(o.To, func(t string) bool { return t != toBootstrap && t != toRateLimit }) {
		return cli.UsageErrorf("--output-dir goes with --to bootstrap and/or ratelimit")
	}
	if err := o.completeRateLimit(cmd); err != nil { // ratelimit.go
		return err
	}
	if !slices.Contains(validTypes, o.Type) {
		return cli.UsageErrorf("--type %q is not one of %s", o.Type, strings.Join(validTypes, ", "))
	}
	if o.Output != "yaml" && o.Output != "json" {
		return cli.UsageErrorf("--output %q is not yaml or json", o.Output)
	}
	if o.Gateway != "" && strings.Count(o.Gateway, "/") > 1 {
		return cli.UsageErrorf("--gateway %q: want namespace/name (or a GatewayClass name for merged Gateways)", o.Gateway)
	}
	if o.StatsPort == 0 || o.StatsPort > 65535 {
		return cli.UsageErrorf("--stats-port %d: want a port from 1 to 65535", o.StatsPort)
	}
	if o.XDSServer != "" {
		if !slices.Equal(o.To, []string{toBootstrap}) {
			return cli.UsageErrorf("--xds-server goes with --to bootstrap")
		}
		if h, p, err := splitHostPort(o.XDSServer); err != nil || h == "" || p == 0 {
			return cli.UsageErrorf("--xds-server %q: want HOST:PORT", o.XDSServer)
		}
	} else if o.XDSDelta || o.XDSCertsDir != "" {
		return cli.UsageErrorf("--xds-delta and --xds-certs-dir go with --xds-server")
	}
	if _, _, err := splitHostPort(o.AdminAddress); err != nil {
		return cli.UsageErrorf("--admin-address %q: %v", o.AdminAddress, err)
	}
	if o.AddMissingResources {
		fmt.Fprintln(o.IO.ErrOut, "warning: --add-missing-resources is ignored: egctl reports missing objects in status instead of inventing them")
	}
	return nil
}

func splitHostPort(addr string) (string, uint32, error) {
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

func run(o *Options) error {
	// egctl is a short-lived batch job whose live heap is mostly input and
	// output: collecting half as often saves about a fifth of the CPU at
	// 10,000 routes for about a fifth more peak memory. GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(batchGCPercent))
	}
	set, warnings, err := manifest.Load(o.Files, manifest.Options{Namespace: o.Namespace, Stdin: o.IO.In, MaxInputBytes: int64(o.MaxInputSize)})
	for _, w := range warnings {
		fmt.Fprintf(o.IO.ErrOut, "warning: %s\n", w)
	}
	if err != nil {
		return cli.UsageError(err)
	}
	if len(set.Origins) == 0 && !o.AllowEmpty {
		fmt.Fprintln(o.IO.ErrOut, cli.EmptyInputMessage)
		return &cli.ExitError{Code: cli.ExitProblems}
	}
	_, adminPort, _ := splitHostPort(o.AdminAddress)
	discover, err := o.OIDC.Resolver()
	if err != nil {
		return cli.UsageError(err)
	}
	topts := translate.Options{
		ControllerName:      o.ControllerName,
		KeepPrivilegedPorts: o.KeepPrivilegedPorts,
		OIDCDiscovery:       discover,
		AdminPort:           adminPort,
		// Statuses are only printed for --to gateway-api; copying every
		// object for them costs memory on large inputs.
		SkipStatus:       !slices.Contains(o.To, toGatewayAPI),
		RateLimitService: o.rateLimitService(),
		// Wasm code in OCI images is read here (registries, image files).
		WasmImages: &wasmimage.Resolver{},
		// A broken EnvoyProxy bootstrap patch refuses its EnvoyProxy.
		CheckBootstrap: xds.CheckBootstrapPatch,
		// A Gateway listener on the stats listener's port is refused.
		StatsPort: o.StatsPort,
	}
	o.Defaults.Apply(&topts)
	res, err := translate.Translate(set, topts)
	if err != nil {
		return err
	}
	// Invalid IR is a bug in egctl, not in the input: refuse to print
	// configuration Envoy might half-accept.
	if err := res.IR.Validate(); err != nil {
		return fmt.Errorf("internal error: the translation broke an invariant; please report it with the input:\n%w", err)
	}
	// EnvoyPatchPolicies apply to the xDS resources: whether they did (their
	// Programmed status, their problems) is known once those are built.
	if res.IR.HasPatches() {
		all, err := xds.Translate(res.IR)
		if err != nil {
			return err
		}
		res.RecordPatchResults(xds.PatchResults(all))
		o.compiled = make(map[string]*xds.Resources, len(all))
		for _, r := range all {
			o.compiled[r.Name] = r
		}
	}
	if err := o.emit(set, res); err != nil {
		if cli.Code(err) == cli.ExitProblems {
			// Nothing to emit (no Gateway of ours): the problems say why.
			_ = reportProblems(o.IO, res.Problems)
		}
		return err
	}
	// Warnings never change the exit code; they say what no status does.
	for _, w := range res.Warnings {
		if loc := w.Origin.String(); loc != "" {
			fmt.Fprintf(o.IO.ErrOut, "warning: %s: %s\n", loc, w)
		} else {
			fmt.Fprintf(o.IO.ErrOut, "warning: %s\n", w)
		}
	}
	return reportProblems(o.IO, res.Problems)
}

// reportProblems prints one line per object that is not accepted and turns
// them into exit status 1.
func reportProblems(ios *cli.IOStreams, problems []translate.Problem) error {
	if len(problems) == 0 {
		return nil
	}
	for _, p := range problems {
		if loc := p.Origin.String(); loc != "" {
			fmt.Fprintf(ios.ErrOut, "%s: %s\n", loc, p)
		} else {
			fmt.Fprintln(ios.ErrOut, p)
		}
	}
	objects := map[resource.Key]bool{}
	for _, p := range problems {
		objects[p.Key] = true
	}
	fmt.Fprintf(ios.ErrOut, "%s in %s\n", plural(len(problems), "problem", "problems"), plural(len(objects), "object", "objects"))
	return &cli.ExitError{Code: cli.ExitProblems}
}

// keyOf is the resource.Key of a Gateway named "ns/name".
func gatewayKey(nsName string) resource.Key {
	ns, name, _ := strings.Cut(nsName, "/")
	return resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: ns, Name: name}
}

// defaultControllerName is Envoy Gateway's, so its GatewayClasses work as written.
const defaultControllerName = "gateway.envoyproxy.io/gatewayclass-controller"

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// batchGCPercent is the collector's target for the whole command.
const batchGCPercent = 200
