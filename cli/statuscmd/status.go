// Package statuscmd implements `egctl x status`: the status of every
// Gateway API object as egctl computes it from manifests, and the state of
// running Envoys read through their admin API; with both, whether each
// proxy still runs what the manifests say.
package statuscmd

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/diffcmd"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
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

	Files               []string
	Admins              []string
	Output              string
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
	ShowSecrets         bool
	OIDC                cli.OIDCDiscovery
	Defaults            cli.EnvoyGatewayDefaults
	flags               *pflag.FlagSet // to tell flags given from defaults
	Gateway             string
	Timeout             time.Duration
	MaxInputSize        cli.ByteSize
	AllowEmpty          bool
	AdminAddress        string

	adminPort uint32
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
	o := &Options{IO: ios, MaxInputSize: manifest.DefaultMaxInputBytes}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the status of Gateway API objects and of running Envoys",
		Long: `Status answers "is it working?" offline, live, or both.

With -f, the manifests are compiled as 'egctl x translate' does and every
object with a status is listed: its Accepted, ResolvedRefs and Programmed
conditions, and the reason and message of the first one that is not OK.
Routes get one row per parent, policies one per ancestor, Gateways one per
listener too.

With --admin HOST:PORT (repeatable), each Envoy is asked through its admin
API for its state (LIVE, DRAINING, PRE_INITIALIZING, INITIALIZING), version,
uptime, listeners (active, warming, draining), clusters with healthy/total
hosts, when its configuration last changed, and how many config updates it
rejected (the *.update_rejected counters).

With both, each proxy is compared with the Gateway it serves (matched by
node id, which egctl's bootstraps set to the Gateway's namespace/name, or
directly when there is one of each): in sync, or the resources that
drifted (as 'egctl x diff' shows them).

Exit status: 0 when everything is fine; 1 when an object is not accepted
or has unresolved references, or compiles to nothing (as 'egctl x
translate' says), or a proxy is unreachable, not LIVE, has rejected an
update, has an unhealthy host or has drifted; 2 for usage errors and
invalid manifests.`,
		Example: `  # Which objects are not accepted, and why?
  egctl x status -f manifests/

  # Is the proxy up and its backends healthy?
  egctl x status --admin 127.0.0.1:19000

  # Does every proxy run what git says?
  egctl x status -f manifests/ --admin 10.0.0.7:19000 --admin 10.0.0.8:19000 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			return runF(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Files, "file", "f", nil, "manifest file, directory or - for stdin; repeatable")
	f.StringArrayVar(&o.Admins, "admin", nil, "Envoy admin address HOST:PORT; repeatable")
	f.StringVarP(&o.Output, "output", "o", outTable, "output format: "+strings.Join(validOutputs, ", "))
	f.StringVarP(&o.Namespace, "namespace", "n", "default", "namespace for manifest objects that do not name one")
	f.StringVar(&o.ControllerName, "controller-name", translate.DefaultControllerName, "GatewayClass controllerName that egctl acts for")
	f.BoolVar(&o.KeepPrivilegedPorts, "keep-privileged-ports", false, "compile listener ports below 1024 as written (as translate's flag of that name)")
	o.OIDC.AddFlags(f)
	o.Defaults.AddFlags(f)
	o.flags = f
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "compare secret material as is when checking drift")
	f.StringVar(&o.Gateway, "gateway", "", "check drift against this Gateway (namespace/name) when the proxies' node ids do not name one")
	f.DurationVar(&o.Timeout, "timeout", admin.DefaultTimeout, "time limit for each call to a proxy's admin API")
	f.Var(&o.MaxInputSize, "max-input-size", "largest total manifest size to read (e.g. 256Mi, 1Gi)")
	f.BoolVar(&o.AllowEmpty, "allow-empty", false, "succeed when the manifests hold no objects")
	f.StringVar(&o.AdminAddress, "admin-address", "127.0.0.1:19000", "Envoy admin address of the bootstraps (as translate's flag): a listener on its port is refused")
	return cmd
}

func (o *Options) complete() error {
	if len(o.Files) == 0 && len(o.Admins) == 0 {
		return cli.UsageErrorf("nothing to show: give manifests with -f FILE|DIR|- and/or proxies with --admin HOST:PORT")
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
	if err := o.Defaults.Validate(o.flags); err != nil {
		return err
	}
	if o.Timeout <= 0 {
		return cli.UsageErrorf("--timeout %s: want a positive duration", o.Timeout)
	}
	if _, port, err := net.SplitHostPort(o.AdminAddress); err != nil {
		return cli.UsageErrorf("--admin-address %q: %v", o.AdminAddress, err)
	} else if p, err := strconv.ParseUint(port, 10, 16); err != nil {
		return cli.UsageErrorf("--admin-address %q: port %q is not a number from 0 to 65535", o.AdminAddress, port)
	} else {
		o.adminPort = uint32(p)
	}
	if o.Gateway != "" && (strings.Count(o.Gateway, "/") != 1 || len(o.Files) == 0 || len(o.Admins) == 0) {
		return cli.UsageErrorf("--gateway %q: want namespace/name, with both -f and --admin", o.Gateway)
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
	lo := diffcmd.LoadOptions{
		Namespace:           o.Namespace,
		ControllerName:      o.ControllerName,
		KeepPrivilegedPorts: o.KeepPrivilegedPorts,
		Timeout:             o.Timeout,
		OIDCDiscovery:       discover,
		Defaults:            o.Defaults,
		Stdin:               o.IO.In,
		MaxInputBytes:       int64(o.MaxInputSize),
		AdminPort:           o.adminPort,
		Warn:                warn,
	}
	rep := &Report{}
	var manifests *diffcmd.Input
	if len(o.Files) > 0 {
		in, err := diffcmd.CompileManifests(strings.Join(o.Files, ","), o.Files, lo)
		if err != nil {
			return cli.UsageError(err)
		}
		if in.Status == nil || len(in.Status.Origins) == 0 {
			if !o.AllowEmpty {
				fmt.Fprintln(o.IO.ErrOut, cli.EmptyInputMessage)
				return &cli.ExitError{Code: cli.ExitProblems}
			}
		}
		manifests = in
		rep.Objects = withUnserved(Objects(in.Status), in.Problems)
	}
	rep.Proxies = liveAll(ctx, o, lo, manifests)

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
	var objects, proxies int
	for _, r := range rep.Objects {
		if !r.OK {
			objects++
		}
	}
	for _, p := range rep.Proxies {
		if len(p.Problems) > 0 {
			proxies++
		}
	}
	if objects == 0 && proxies == 0 {
		return nil
	}
	var parts []string
	if objects > 0 {
		parts = append(parts, plural(objects, "object row is", "object rows are")+" not OK (not accepted, conflicted, partially invalid or unresolved references)")
	}
	if proxies > 0 {
		parts = append(parts, plural(proxies, "proxy has", "proxies have")+" problems")
	}
	fmt.Fprintln(ios.ErrOut, strings.Join(parts, "; "))
	return &cli.ExitError{Code: cli.ExitProblems}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
