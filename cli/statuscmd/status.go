// Package statuscmd implements `egctl x status`: the status of every
// Gateway API object as egctl computes it from manifests, and the state of
// running Envoys read through their admin API; with both, whether each
// proxy still runs what the manifests say.
package statuscmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/cli/diffcmd"
)

const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
)

var validOutputs = []string{outTable, outJSON, outYAML}

// Options are the flags of `egctl x status`.
type Options struct {
	IO *cli.IOStreams

	// The flags every compiling command shares (cli/compile).
	compile.Options

	Admins      []string
	Output      string
	ShowSecrets bool
	Gateway     string
	Timeout     time.Duration
	// Type, AllNamespaces: Envoy Gateway's `x status TYPE [-A]` (types.go).
	Type          string
	AllNamespaces bool
	// Serve is a running `egctl x serve`'s status address (serve.go).
	Serve string

	types     []statusType
	typedName bool
	// hidden counts the TYPE rows of other namespaces -A would add.
	hidden int
}

// Report is the whole answer, as -o json|yaml prints it.
type Report struct {
	Objects []ObjectStatus `json:"objects,omitempty"`
	Proxies []*ProxyStatus `json:"proxies,omitempty"`
}

// NewCmd returns `egctl x status`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return newCmd(ios, run)
}

func newCmd(ios *cli.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{IO: ios, Options: *compile.NewOptions()}
	cmd := &cobra.Command{
		Use:   "status [TYPE]",
		Short: "Show the status of Gateway API objects and of running Envoys",
		Long: `Status answers "is it working?" offline, live, or both.

With -f, the manifests are compiled as 'egctl x translate' does and every
object with a status is listed: its Accepted, ResolvedRefs and Programmed
conditions, and the reason and message of the first one that is not OK.
Routes get one row per parent, policies one per ancestor, Gateways one per
listener too.

With a TYPE (all, xroute, xpolicy, gatewayclass, gateway, httproute, ...,
securitypolicy, or Envoy Gateway's short names gc, gtw, btp, ctp, sp, epp,
eep), the table is Envoy Gateway's 'egctl x status TYPE': one row per
condition, newest first; -q keeps the first condition of each, -v adds the
message, observed generation and last transition time. As there, only
the objects of -n's namespace (default "default") are listed; -A lists
every namespace and adds a NAMESPACE column.

With --admin HOST:PORT (repeatable), each Envoy is asked through its admin
API for its state (LIVE, DRAINING, PRE_INITIALIZING, INITIALIZING), version,
uptime, listeners (active, warming, draining), clusters with healthy/total
hosts, when its configuration last changed, and how many config updates it
rejected (the *.update_rejected counters).

With --serve HOST:PORT (egctl x serve's --status-address), a running
serve is asked instead of the files: every object's conditions, printed
as -f prints them for the files serve reads (TYPE, -A, -n, -q, -v and -o
as there; the latest compilation, applied or held back), then the fleet
from its /status: the Gateways served and their versions, each connected
proxy with the version it acknowledged, its NACKs (with Envoy's error),
the manifests' problems at file:line, and an edit held back.

With both, each proxy is compared with the Gateway it serves (matched by
node id, which egctl's bootstraps set to the Gateway's namespace/name, or
directly when there is one of each): in sync, or the resources that
drifted (as 'egctl x diff' shows them).

Exit status: 0 when everything is fine; 1 when an object is not accepted
or has unresolved references, or compiles to nothing (as 'egctl x
translate' says), or a proxy is unreachable, not LIVE, rejected (NACKed) its configuration, has rejected an
update, has an unhealthy host or has drifted; 2 for usage errors and
invalid manifests.`,
		Example: `  # Which objects are not accepted, and why?
  egctl x status -f manifests/

  # Envoy Gateway's tables: every route of every namespace, with messages
  egctl x status xroute -A -v -f manifests/

  # Is the proxy up and its backends healthy?
  egctl x status --admin 127.0.0.1:19000

  # Does every proxy run what git says?
  egctl x status -f manifests/ --admin 10.0.0.7:19000 --admin 10.0.0.8:19000 -o json

  # The fleet of a running 'egctl x serve': objects, proxies, versions, NACKs
  egctl x status --serve 127.0.0.1:18001

  # Its routes of every namespace, as Envoy Gateway's egctl prints them
  egctl x status xroute -A --serve 127.0.0.1:18001`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.UsageErrorf("at most one TYPE (%s), got %q", strings.Join(TypeNames(), ", "), args)
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return TypeNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Type = args[0]
			}
			if err := o.complete(); err != nil {
				return err
			}
			return runF(cmd.Context(), o)
		},
	}
	o.AddInputFlags(cmd, compile.WithFiles|compile.WithStdin)
	o.Options.AddFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.Admins, "admin", nil, "Envoy admin address HOST:PORT; repeatable")
	f.StringVarP(&o.Output, "output", "o", outTable, "output format: "+strings.Join(validOutputs, ", "))
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "compare secret material as is when checking drift")
	f.StringVar(&o.Gateway, "gateway", "", "check drift against this Gateway (namespace/name) when the proxies' node ids do not name one")
	f.DurationVar(&o.Timeout, "timeout", admin.DefaultTimeout, "time limit for each call to a proxy's admin API")
	f.StringVar(&o.Serve, "serve", "", "HOST:PORT of a running 'egctl x serve --status-address': its objects' conditions (as -f), connected proxies, the versions they acknowledged, NACKs and the manifests' problems")
	_ = cmd.RegisterFlagCompletionFunc("serve", compile.FixedCompletions("127.0.0.1:18001"))
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "with TYPE: list objects of every namespace (without it, only -n's), as Envoy Gateway's egctl")
	_ = cmd.RegisterFlagCompletionFunc("output", compile.FixedCompletions(validOutputs...))
	_ = cmd.RegisterFlagCompletionFunc("gateway", compile.GatewayCompletion(&o.Options))
	_ = cmd.RegisterFlagCompletionFunc("admin", compile.FixedCompletions(compile.DefaultAdminAddress))
	_ = cmd.RegisterFlagCompletionFunc("timeout", compile.FixedCompletions("5s", "30s"))
	return cmd
}

func (o *Options) complete() error {
	if o.Serve != "" {
		if len(o.Files) > 0 || len(o.Kustomize) > 0 || len(o.Admins) > 0 {
			return cli.UsageErrorf("--serve goes without -f, -k and --admin: egctl x serve already compiles the manifests and knows its proxies")
		}
		if err := o.completeType(); err != nil {
			return err
		}
		if !slices.Contains(validOutputs, o.Output) {
			return cli.UsageErrorf("--output %q is not one of %s", o.Output, strings.Join(validOutputs, ", "))
		}
		if o.Timeout <= 0 {
			return cli.UsageErrorf("--timeout %s: want a positive duration", o.Timeout)
		}
		return nil
	}
	if len(o.Files) == 0 && len(o.Kustomize) == 0 && len(o.Admins) == 0 {
		return cli.UsageErrorf("nothing to show: give manifests with -f FILE|DIR|- or -k DIR, and/or proxies with --admin HOST:PORT, or a running egctl x serve with --serve HOST:PORT")
	}
	if err := o.Options.Complete(false); err != nil {
		return err
	}
	if o.Type != "" && len(o.Files) == 0 && len(o.Kustomize) == 0 {
		return cli.UsageErrorf("TYPE lists objects from manifests: give them with -f FILE|DIR|- or -k DIR, or a running egctl x serve with --serve HOST:PORT")
	}
	if err := o.completeType(); err != nil {
		return err
	}
	if !slices.Contains(validOutputs, o.Output) {
		return cli.UsageErrorf("--output %q is not one of %s", o.Output, strings.Join(validOutputs, ", "))
	}
	for i, a := range o.Admins {
		a = strings.TrimPrefix(a, diffcmd.AdminScheme)
		o.Admins[i] = a
		if _, err := admin.New(a); err != nil {
			return cli.UsageErrorf("--admin: %v", err)
		}
	}
	if o.Timeout <= 0 {
		return cli.UsageErrorf("--timeout %s: want a positive duration", o.Timeout)
	}
	hasManifests := len(o.Files) > 0 || len(o.Kustomize) > 0
	if o.Gateway != "" && (strings.Count(o.Gateway, "/") != 1 || !hasManifests || len(o.Admins) == 0) {
		return cli.UsageErrorf("--gateway %q: want namespace/name, with both -f and --admin", o.Gateway)
	}
	return nil
}

// completeType resolves TYPE, and checks -A goes with one.
func (o *Options) completeType() error {
	if o.Type == "" {
		if o.AllNamespaces {
			return cli.UsageErrorf("-A goes with a TYPE (egctl x status all -A -f DIR); without one every namespace is listed")
		}
		return nil
	}
	types, typed, err := parseType(o.Type)
	if err != nil {
		return cli.UsageError(err)
	}
	o.types, o.typedName = types, typed
	return nil
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Serve != "" {
		return runServe(ctx, o) // serve.go
	}
	warn := o.IO.Warnf
	settings, err := o.Settings(false)
	if err != nil {
		return err
	}
	lo := diffcmd.LoadOptions{
		Compile:  settings,
		Manifest: o.LoadOptions(nil),
		Timeout:  o.Timeout,
		Stdin:    o.IO.In,
		Warn:     warn,
	}
	rep := &Report{}
	var manifests *diffcmd.Input
	prog := o.IO.StartProgress("compiling manifests")
	defer prog.Done()
	if len(o.Files) > 0 || len(o.Kustomize) > 0 {
		in, err := diffcmd.CompileManifests(strings.Join(append(append([]string(nil), o.Files...), o.Kustomize...), ","), o.Files, lo)
		if errors.Is(err, diffcmd.ErrEmpty) {
			prog.Done()
			fmt.Fprintln(o.IO.ErrOut, cli.EmptyInputMessage)
			return &cli.ExitError{Code: cli.ExitProblems}
		}
		if err != nil {
			return cli.UsageError(err)
		}
		manifests = in
		rep.Objects = withUnserved(Objects(in.Status), in.Problems)
		if o.types != nil {
			rep.Objects = typeFilter(rep.Objects, o.types, o.tableOptions())
		}
	}
	prog.Stage("reading proxies")
	rep.Proxies = liveAll(ctx, o, lo, manifests)
	prog.Done()

	if o.types != nil && o.Output == outTable && manifests != nil {
		return o.writeTypes(rep, manifests)
	}
	if err := write(o.IO, rep, o.Output); err != nil {
		return err
	}
	return verdict(o.IO, rep)
}

// liveAll reads every proxy in parallel, keeping the flags' order.
func liveAll(ctx context.Context, o *Options, lo diffcmd.LoadOptions, manifests *diffcmd.Input) []*ProxyStatus {
	if len(o.Admins) == 0 {
		return nil
	}
	type answer struct {
		ps   *ProxyStatus
		dump *diffcmd.Input
		err  error
	}
	results := admin.Each(ctx, o.Admins, []admin.Option{admin.WithTimeout(o.Timeout)}, func(ctx context.Context, c *admin.Client) (answer, error) {
		ps := Live(ctx, c)
		if ps.Error != "" {
			return answer{ps: ps}, nil
		}
		quiet := lo
		quiet.Warn = nil // unknown types only matter to a diff's reader
		dump, err := diffcmd.LoadLive(ctx, c.Address(), quiet)
		return answer{ps: ps, dump: dump, err: err}, nil
	})
	var out []*ProxyStatus
	seen := map[string]bool{}
	for _, addr := range o.Admins {
		if seen[addr] {
			continue
		}
		seen[addr] = true
		r := results[addr]
		ps := r.Value.ps
		if ps == nil {
			ps = &ProxyStatus{Admin: addr}
			if r.Err != nil {
				ps.fail(r.Err)
			}
		}
		switch {
		case r.Value.err != nil:
			ps.fail(r.Value.err)
		case r.Value.dump != nil:
			ps.readDump(r.Value.dump)
			if manifests != nil {
				ps.Drift = drift(manifests, r.Value.dump, o.Gateway, o.ShowSecrets)
			}
		}
		ps.judge()
		out = append(out, ps)
	}
	return out
}

// verdict turns problems into exit status 1, with one line on stderr.
func verdict(ios *cli.IOStreams, rep *Report) error {
	var proxies int
	for _, p := range rep.Proxies {
		if len(p.Problems) > 0 {
			proxies++
		}
	}
	parts := objectVerdict(rep.Objects)
	if len(parts) == 0 && proxies == 0 {
		return nil
	}
	if proxies > 0 {
		parts = append(parts, plural(proxies, "proxy has", "proxies have")+" problems")
	}
	fmt.Fprintln(ios.ErrOut, strings.Join(parts, "; "))
	return &cli.ExitError{Code: cli.ExitProblems}
}

// objectVerdict says how many rows are not OK, if any.
func objectVerdict(rows []ObjectStatus) []string {
	objects := 0
	for _, r := range rows {
		if !r.OK {
			objects++
		}
	}
	if objects == 0 {
		return nil
	}
	return []string{plural(objects, "object row is", "object rows are") + " not OK (not accepted, conflicted, partially invalid or unresolved references)"}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
