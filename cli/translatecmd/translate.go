// Package translatecmd implements `egctl x translate`: manifests in, Envoy
// configuration (and the objects' status) out.
package translatecmd

import (
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/cli/envoycheck"
	"github.com/egctl/egctl/cli/report"
	"github.com/egctl/egctl/resource"
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
	// The flags every compiling command shares: inputs, controller name,
	// ports, the rate-limit service, OIDC discovery (cli/compile).
	compile.Options

	From        string
	To          []string
	Type        string
	Output      string
	Gateway     string
	OutputDir   string
	ShowSecrets bool
	// Pretty indents JSON output (--pretty); compact is the default, as
	// Envoy Gateway prints it.
	Pretty bool
	// XDSServer, with --to bootstrap, prints bootstraps that fetch their
	// configuration from `egctl x serve` there instead of static ones.
	XDSServer   string
	XDSDelta    bool
	XDSCertsDir string
	// Report, Suppress: how problems are reported (report.go);
	// EnvoyValidate: --envoy-validate.
	Report        report.Flags
	EnvoyValidate string
	envoyBin      string
	// findings collects what --report prints.
	findings []report.Finding

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
	o := &Options{IO: ios, Options: *compile.NewOptions()}
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
	o.AddInputFlags(cmd, compile.WithFiles|compile.WithStdin)
	o.Options.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "gateway-api", "input type: gateway-api")
	f.StringSliceVar(&o.To, "to", []string{toGatewayAPI, toXDS}, "output types, comma separated: "+strings.Join(validTo, ", "))
	f.StringVarP(&o.Type, "type", "t", "all", "xDS resource type for --to xds: "+strings.Join(validTypes, ", "))
	f.StringVarP(&o.Output, "output", "o", "yaml", "output format: yaml or json")
	f.BoolVar(&o.Pretty, "pretty", false, "with -o json: indent by two spaces (default: compact, keys sorted, as Envoy Gateway's egctl prints)")
	f.StringVar(&o.Gateway, "gateway", "", "namespace/name of the Gateway to emit (needed for --to bootstrap when the input has several); the GatewayClass name for Gateways merged by an EnvoyProxy's mergeGateways")
	f.StringVar(&o.OutputDir, "output-dir", "", "write files into this directory instead of stdout: one bootstrap per Gateway (--to bootstrap), the rate-limit service configuration in ratelimit/config (--to ratelimit)")
	f.StringVar(&o.XDSServer, "xds-server", "", "with --to bootstrap: HOST:PORT of egctl x serve; print bootstraps that get their configuration from it over ADS")
	f.BoolVar(&o.XDSDelta, "xds-delta", false, "with --xds-server: use delta (incremental) xDS instead of state of the world")
	f.StringVar(&o.XDSCertsDir, "xds-certs-dir", "", "with --xds-server: mutual TLS with egctl x certgen's envoy/{tls.crt,tls.key,ca.crt} in this directory, as the proxy's host sees it")
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "print private keys in --to xds and --to ir output (bootstraps always carry them)")
	fixed := compile.FixedCompletions
	_ = cmd.RegisterFlagCompletionFunc("to", fixed(validTo...))
	_ = cmd.RegisterFlagCompletionFunc("type", fixed(validTypes...))
	_ = cmd.RegisterFlagCompletionFunc("output", fixed("yaml", "json"))
	_ = cmd.RegisterFlagCompletionFunc("from", fixed("gateway-api"))
	_ = cmd.RegisterFlagCompletionFunc("gateway", compile.GatewayCompletion(&o.Options))
	_ = cmd.RegisterFlagCompletionFunc("xds-server", cobra.NoFileCompletions)
	o.Report.AddFlags(cmd, "report", "")
	envoycheck.AddFlag(cmd, &o.EnvoyValidate)
	_ = cmd.MarkFlagDirname("output-dir")
	_ = cmd.MarkFlagDirname("xds-certs-dir")
	return cmd
}

// complete checks and normalises the flags.
func (o *Options) complete(cmd *cobra.Command) error {
	if err := o.Options.Complete(true); err != nil {
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
	if !slices.Contains(validTypes, o.Type) {
		return cli.UsageErrorf("--type %q is not one of %s", o.Type, strings.Join(validTypes, ", "))
	}
	if o.Output != "yaml" && o.Output != "json" {
		return cli.UsageErrorf("--output %q is not yaml or json", o.Output)
	}
	if o.Gateway != "" && strings.Count(o.Gateway, "/") > 1 {
		return cli.UsageErrorf("--gateway %q: want namespace/name (or a GatewayClass name for merged Gateways)", o.Gateway)
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
	if err := o.Report.Complete(); err != nil {
		return err
	}
	bin, _, err := envoycheck.Find(o.EnvoyValidate)
	if err != nil {
		return cli.UsageError(err)
	}
	o.envoyBin = bin
	return nil
}

var splitHostPort = compile.SplitHostPort

func run(o *Options) error {
	// egctl is a short-lived batch job whose live heap is mostly input and
	// output: collecting half as often saves about a fifth of the CPU at
	// 10,000 routes for about a fifth more peak memory. GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(batchGCPercent))
	}
	// Long runs (tens of thousands of routes) say what they are doing, on
	// a terminal; the line is gone before anything else is printed.
	prog := o.IO.StartProgress("reading manifests")
	defer prog.Done()
	set, warnings, err := o.Load(o.IO.In)
	if err != nil {
		prog.Done()
		return o.loadFailed(err, warnings) // report.go
	}
	o.loadWarnings(warnings)
	// Statuses are only printed for --to gateway-api; copying every
	// object for them costs memory on large inputs.
	settings, err := o.Settings(!slices.Contains(o.To, toGatewayAPI))
	if err != nil {
		return err
	}
	prog.Stage("translating")
	res, err := settings.Compile(set)
	if err != nil {
		return err
	}
	o.added(res.Added)
	if err := settings.EmptyError(res, o.IO.ErrOut); err != nil {
		return err
	}
	// EnvoyPatchPolicies apply to the xDS resources: whether they did (their
	// Programmed status, their problems) is known once those are built.
	// --envoy-validate checks them all.
	if res.NeedsBuild() || o.envoyBin != "" {
		prog.Stage("building xDS resources")
		all, err := res.Build()
		if err != nil {
			return err
		}
		o.compiled = make(map[string]*xds.Resources, len(all))
		for _, r := range all {
			o.compiled[r.Name] = r
		}
	}
	out := o.IO.Out
	o.IO.Out = prog.Writer("writing output", out)
	err = o.emit(set, res.Result)
	o.IO.Out = out
	if err != nil {
		prog.Done()
		if cli.Code(err) == cli.ExitProblems {
			// Nothing to emit (no Gateway of ours): the problems say why.
			_ = o.finish(set, res, nil)
		}
		return err
	}
	if o.envoyBin != "" {
		prog.Stage("envoy --mode validate")
	}
	rejected, err := o.envoyValidate(set, res) // report.go
	prog.Done()
	if err != nil {
		return err
	}
	return o.finish(set, res, rejected)
}

// keyOf is the resource.Key of a Gateway named "ns/name".
func gatewayKey(nsName string) resource.Key {
	ns, name, _ := strings.Cut(nsName, "/")
	return resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: ns, Name: name}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// batchGCPercent is the collector's target for the whole command.
const batchGCPercent = 200
