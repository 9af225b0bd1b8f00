// Package diffcmd implements `egctl x diff OLD NEW`: a semantic diff of the
// Envoy configuration two inputs amount to. Each input is manifests
// (compiled on the fly), a live proxy (admin://HOST:PORT) or a saved
// config dump.
package diffcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/diff"
	"github.com/egctl/egctl/translate"
)

// Output formats.
const (
	outText     = "text"
	outJSON     = "json"
	outMarkdown = "markdown"
)

var validOutputs = []string{outText, outJSON, outMarkdown}

// Options are the flags and arguments of `egctl x diff`.
type Options struct {
	IO *cli.IOStreams

	Old, New            string
	Output              string
	ExitCode            bool
	ShowSecrets         bool
	Gateway             string
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
	Context             int
	OIDC                cli.OIDCDiscovery
	Defaults            cli.EnvoyGatewayDefaults
	flags               *pflag.FlagSet // to tell flags given from defaults
	Timeout             time.Duration
}

// NewCmd returns `egctl x diff`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return newCmd(ios, run)
}

func newCmd(ios *cli.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare the Envoy configuration of manifests, live proxies and config dumps",
		Long: `Diff compares two Envoy configurations resource by resource: listeners,
route configurations, clusters, endpoints and secrets, per proxy.

Each of OLD and NEW is one of:

  FILE, DIR or -          Gateway API manifests, compiled as 'egctl x translate' does;
                          one proxy per Gateway, keyed namespace/name
  admin://HOST:PORT       a running Envoy, read through its admin API
                          (/config_dump?include_eds)
  DUMP.json / DUMP.yaml   a saved config dump: Envoy's /config_dump, or the output of
                          'egctl x translate --to xds' (keyed by Gateway), or a
                          bootstrap from 'egctl x translate --to bootstrap'

What Envoy ignores is ignored: version_info, last_updated, the order of
listeners, clusters, endpoints, secrets and virtual hosts, and the order of
filter chains that all have names. What Envoy acts on is kept: route order
inside a virtual host, HTTP and network filter order.

A live proxy is compared by what it got over xDS; its bootstrap's own
clusters are not configuration the manifests describe. A proxy running
egctl's static bootstrap holds everything in static_resources: then the
other side is put in the same static form, so manifests and the proxy they
were compiled for compare equal.

One proxy on each side is compared directly. With several, proxies are
paired by key, a live proxy by its node id (egctl's bootstraps use the
Gateway's namespace/name); --gateway picks one.

Private keys and other secret material are redacted on both sides, as a
short fingerprint so a rotated key still shows. Envoy itself redacts keys
in its dumps: against a live proxy only certificates can be compared.

Exit status: 0, or 1 with --exit-code when the configurations differ;
2 for usage errors and unreadable input.`,
		Example: `  # What would this change do to the running proxy?
  egctl x diff admin://127.0.0.1:19000 manifests/

  # Review a change to the manifests, as a pull-request comment
  egctl x diff <(git show main:gateway.yaml) gateway.yaml -o markdown

  # Gate a pipeline on drift between git and a proxy
  egctl x diff manifests/ admin://10.0.0.7:19000 --gateway infra/public --exit-code

  # Compare two saved dumps
  egctl x diff before.json after.json -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return cli.UsageErrorf("diff needs two arguments, OLD and NEW; got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Old, o.New = args[0], args[1]
			if err := o.complete(); err != nil {
				return err
			}
			return runF(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", outText, "output format: "+strings.Join(validOutputs, ", "))
	f.BoolVar(&o.ExitCode, "exit-code", false, "exit with status 1 when the configurations differ")
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "show private keys and other secret material instead of fingerprints")
	f.StringVar(&o.Gateway, "gateway", "", "compare only this Gateway (namespace/name)")
	f.StringVarP(&o.Namespace, "namespace", "n", "default", "namespace for manifest objects that do not name one")
	f.StringVar(&o.ControllerName, "controller-name", translate.DefaultControllerName, "GatewayClass controllerName that egctl acts for")
	f.BoolVar(&o.KeepPrivilegedPorts, "keep-privileged-ports", false, "compile listener ports below 1024 as written (as translate's flag of that name)")
	o.OIDC.AddFlags(f)
	o.Defaults.AddFlags(f)
	o.flags = f
	f.IntVarP(&o.Context, "unified", "U", 3, "lines of context around each change")
	f.DurationVar(&o.Timeout, "timeout", admin.DefaultTimeout, "time limit for each call to a proxy's admin API")
	return cmd
}

func (o *Options) complete() error {
	if !slices.Contains(validOutputs, o.Output) {
		return cli.UsageErrorf("--output %q is not one of %s", o.Output, strings.Join(validOutputs, ", "))
	}
	if o.Old == "-" && o.New == "-" {
		return cli.UsageErrorf("only one of OLD and NEW can be - (standard input)")
	}
	if o.Gateway != "" && strings.Count(o.Gateway, "/") != 1 {
		return cli.UsageErrorf("--gateway %q: want namespace/name", o.Gateway)
	}
	if o.Context < 0 {
		return cli.UsageErrorf("--unified %d: want 0 or more lines", o.Context)
	}
	if err := o.Defaults.Validate(o.flags); err != nil {
		return err
	}
	if o.Timeout <= 0 {
		return cli.UsageErrorf("--timeout %s: want a positive duration", o.Timeout)
	}
	return nil
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(o.IO.ErrOut, "warning: "+format+"\n", args...)
	}
	discover, err := o.OIDC.Resolver()
	if err != nil {
		return cli.UsageError(err)
	}
	lo := LoadOptions{
		Namespace:           o.Namespace,
		ControllerName:      o.ControllerName,
		KeepPrivilegedPorts: o.KeepPrivilegedPorts,
		Timeout:             o.Timeout,
		OIDCDiscovery:       discover,
		Defaults:            o.Defaults,
		Stdin:               o.IO.In,
		Warn:                warn,
	}
	var inputs [2]*Input
	for i, arg := range []string{o.Old, o.New} {
		in, err := Load(ctx, arg, lo)
		if err != nil {
			return cli.UsageError(err)
		}
		if n := len(in.Problems); n > 0 {
			warn("%s: %d object(s) not accepted or with unresolved references; their configuration is left out (see egctl x status -f %s)", arg, n, arg)
		}
		inputs[i] = in
	}
	a, b, err := Pair(inputs[0], inputs[1], o.Gateway, warn)
	if err != nil {
		return err
	}
	ctxLines := o.Context
	if ctxLines == 0 {
		ctxLines = -1 // diff.Options: negative means none
	}
	res, err := diff.Compare(a, b, diff.Options{ShowSecrets: o.ShowSecrets, Context: ctxLines})
	if err != nil {
		return err
	}
	ro := diff.RenderOptions{OldLabel: o.Old, NewLabel: o.New, Color: o.IO.OutIsTTY}
	switch o.Output {
	case outJSON:
		err = diff.WriteJSON(o.IO.Out, res)
	case outMarkdown:
		err = diff.WriteMarkdown(o.IO.Out, res, ro)
	default:
		err = diff.WriteText(o.IO.Out, res, ro)
	}
	if err != nil {
		return err
	}
	if o.ExitCode && !res.Empty() {
		return &cli.ExitError{Code: cli.ExitProblems}
	}
	return nil
}
