// Package configcmd is `egctl config`: read the configuration running
// Envoys hold, through their admin API (no Kubernetes needed; for a pod,
// `kubectl port-forward pod/NAME 19000` first).
package configcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"github.com/spf13/cobra"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
)

// DefaultAdmin is where `kubectl port-forward pod/ENVOY 19000` puts an
// Envoy Gateway proxy's admin port.
const DefaultAdmin = "127.0.0.1:19000"

// NewCmd returns `config` with its `dump` subcommand (also spelled
// `envoy-proxy` and `proxy`, Envoy Gateway's names).
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the configuration running Envoys hold",
	}
	cmd.AddCommand(newDumpCmd(ios))
	return cmd
}

type dumpOptions struct {
	admins      []string
	adminFile   string
	output      string
	name        string
	showSecrets bool
	includeEDS  bool
	timeout     time.Duration
}

func newDumpCmd(ios *cli.IOStreams) *cobra.Command {
	o := &dumpOptions{}
	cmd := &cobra.Command{
		Use:     "dump [all|bootstrap|listener|route|cluster|endpoint|secret]",
		Aliases: []string{"envoy-proxy", "proxy"},
		Short:   "Dump Envoy configuration from admin endpoints",
		Long: `Fetch /config_dump from one or more Envoy admin endpoints and print one section
(default: all of it). With one proxy the output is the section itself, shaped as
Envoy Gateway's "egctl config envoy-proxy" prints one pod's; with several it is a
map keyed by admin address.

Secret material is redacted unless --show-secrets: every field Envoy marks
sensitive (private keys, passwords, session ticket keys, generic secrets) and,
inside SDS Secrets, every inline value.

--name keeps only listeners, route configurations, clusters, endpoint
assignments (by cluster name) and secrets whose name matches the glob
(path.Match: * does not cross "/"); "all" then leaves out the bootstrap.

Exit status: 0 done; 1 a proxy could not be read (the others are still
printed); 2 bad flags or arguments.`,
		Example: `  # Listeners of a local Envoy, as YAML
  egctl config dump listener --admin 127.0.0.1:19000

  # The same, under Envoy Gateway's name, as JSON
  egctl config envoy-proxy listener --admin 127.0.0.1:19000 -o json

  # Routes of every proxy listed in a file, only those of Gateway default/eg
  egctl config dump route --admin-file proxies.txt --name 'default/eg/*'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.UsageErrorf("one TYPE at most, got %q: proxies are chosen with --admin HOST:PORT, not by pod name (kubectl port-forward pod/NAME 19000 first)", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), ios, args)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	f := cmd.Flags()
	f.StringArrayVar(&o.admins, "admin", nil, "Envoy admin `HOST:PORT` (repeatable; default "+DefaultAdmin+")")
	f.StringVar(&o.adminFile, "admin-file", "", "read admin addresses from `FILE`, one per line ('#' comments; - for stdin)")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	f.StringVar(&o.name, "name", "", "only resources whose name matches this `GLOB`")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print secret material instead of [redacted]")
	f.BoolVar(&o.includeEDS, "include-eds", false, "include EDS endpoints in \"all\" (always on for \"endpoint\")")
	f.DurationVar(&o.timeout, "timeout", admin.DefaultTimeout, "per-proxy time limit")
	return cmd
}

func (o *dumpOptions) run(ctx context.Context, ios *cli.IOStreams, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	t := typeAll
	if len(args) == 1 {
		var err error
		if t, err = parseType(args[0]); err != nil {
			return cli.UsageError(err)
		}
	}
	if o.output != "yaml" && o.output != "json" {
		return cli.UsageErrorf("--output %q: want yaml or json", o.output)
	}
	if o.timeout <= 0 {
		return cli.UsageErrorf("--timeout must be positive")
	}
	var filter *nameFilter
	if o.name != "" {
		if t == typeBootstrap {
			return cli.UsageErrorf("--name does not apply to the bootstrap (it is not a named resource)")
		}
		filter = &nameFilter{pattern: o.name}
		if _, err := filter.match(""); err != nil {
			return cli.UsageError(err)
		}
	}
	addrs, err := o.addresses(ios.In)
	if err != nil {
		return cli.UsageError(err)
	}
	for _, a := range addrs {
		if _, err := admin.New(a); err != nil {
			return cli.UsageError(err)
		}
	}

	eds := o.includeEDS || t == typeEndpoint
	results := admin.Each(ctx, addrs, []admin.Option{admin.WithTimeout(o.timeout)},
		func(ctx context.Context, c *admin.Client) (*adminv3.ConfigDump, error) {
			return c.ConfigDump(ctx, "", "", eds)
		})

	out := map[string]any{}
	failed := 0
	for _, a := range addrs {
		r := results[a]
		d := r.Value
		if r.Err != nil && !admin.IsPartial(r.Err) {
			fmt.Fprintf(ios.ErrOut, "error: %v\n", r.Err)
			failed++
			continue
		}
		if r.Err != nil {
			fmt.Fprintf(ios.ErrOut, "warning: %v\n", r.Err)
		}
		v, err := o.process(d, t, filter)
		if err != nil {
			fmt.Fprintf(ios.ErrOut, "error: %s: %v\n", a, err)
			failed++
			continue
		}
		out[a] = v
	}

	var doc any = out
	if len(addrs) == 1 {
		doc = out[addrs[0]]
	}
	if len(out) > 0 {
		b, err := render(doc, o.output)
		if err != nil {
			return err
		}
		if _, err := ios.Out.Write(b); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &cli.ExitError{Code: cli.ExitProblems}
	}
	return nil
}

// process narrows, redacts and converts one proxy's dump.
func (o *dumpOptions) process(d *adminv3.ConfigDump, t resourceType, filter *nameFilter) (any, error) {
	if filter != nil {
		if err := filter.apply(d); err != nil {
			return nil, err
		}
	}
	m, err := selectType(d, t)
	if err != nil {
		return nil, err
	}
	if !o.showSecrets {
		if err := redact(m); err != nil {
			return nil, fmt.Errorf("redact: %w", err)
		}
	}
	return toJSONValue(m)
}

// addresses gathers --admin and --admin-file, in order, without repeats.
func (o *dumpOptions) addresses(stdin io.Reader) ([]string, error) {
	var addrs []string
	for _, a := range o.admins {
		for _, p := range strings.Split(a, ",") {
			if p = strings.TrimSpace(p); p != "" {
				addrs = append(addrs, p)
			}
		}
	}
	if o.adminFile != "" {
		fromFile, err := readAdminFile(o.adminFile, stdin)
		if err != nil {
			return nil, err
		}
		if len(fromFile) == 0 {
			return nil, fmt.Errorf("--admin-file %s: no addresses in it", o.adminFile)
		}
		addrs = append(addrs, fromFile...)
	}
	if len(addrs) == 0 {
		addrs = []string{DefaultAdmin}
	}
	seen := map[string]bool{}
	uniq := addrs[:0]
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			uniq = append(uniq, a)
		}
	}
	return uniq, nil
}

func readAdminFile(name string, stdin io.Reader) ([]string, error) {
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("--admin-file -: no standard input")
		}
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, err := admin.New(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
