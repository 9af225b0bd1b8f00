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
	"strconv"
	"strings"
	"sync"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
)

// DefaultAdmin is where `kubectl port-forward pod/ENVOY 19000` puts an
// Envoy Gateway proxy's admin port.
const DefaultAdmin = "127.0.0.1:19000"

// NewCmd returns `config` (alias c, as in Envoy Gateway's egctl) with
// its `dump` subcommand (also spelled `envoy-proxy` and `proxy`, Envoy
// Gateway's names).
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Aliases: []string{"c"},
		Short:   "Show the configuration running Envoys hold",
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
	kube        kubeOptions
}

func newDumpCmd(ios *cli.IOStreams) *cobra.Command {
	o := &dumpOptions{}
	cmd := &cobra.Command{
		Use:     "dump [TYPE [POD]]",
		Aliases: []string{"envoy-proxy", "proxy"},
		Short:   "Dump Envoy configuration from admin endpoints or from the Envoy pods of a cluster",
		Long: `Fetch /config_dump from Envoys and print one section: TYPE is all (the
default), bootstrap, listener, route, cluster, endpoint or secret (also
plural, and Envoy Gateway's short forms b, l, r, c, e, s).

Envoys are found in one of two ways.

In a cluster, as Envoy Gateway's 'egctl config envoy-proxy' does: the pods
of Envoy Gateway's proxies in -n (default envoy-gateway-system), or POD by
name, or the pods -l selects, or those of every namespace with -A; each
pod's admin port (--pod-admin-port, 19000) is reached by port-forwarding
through the API server, as kubectl port-forward does. The kubeconfig is
--kubeconfig, $KUBECONFIG or ~/.kube/config; --context picks a context.
The output is Envoy Gateway's: {namespace: {pod: dump}}.

Directly, with --admin HOST:PORT (repeatable) or --admin-file: one proxy's
output is the section itself; several are keyed by admin address. Without
a kubeconfig, cluster flags or --admin, the proxy at 127.0.0.1:19000 is
read (where 'kubectl port-forward pod/NAME 19000' puts one).

The output is JSON, as Envoy Gateway prints it; -o yaml for YAML.
"all" includes EDS endpoints, as Envoy Gateway's does (--include-eds=false
leaves them out).

Secret material is redacted unless --show-secrets: every field Envoy marks
sensitive (private keys, passwords, session ticket keys, generic secrets) and,
inside SDS Secrets, every inline value.

--name keeps only listeners, route configurations, clusters, endpoint
assignments (by cluster name) and secrets whose name matches the glob
(path.Match: * does not cross "/"); "all" then leaves out the bootstrap. A
glob that matches nothing is said on stderr.

Exit status: 0 done; 1 a proxy or pod could not be read (the others are
still printed); 2 bad flags or arguments, or no kubeconfig.`,
		Example: `  # Every Envoy Gateway proxy's listeners, as Envoy Gateway's egctl prints them
  egctl config envoy-proxy listener

  # One pod's whole configuration, in another namespace, as YAML
  egctl c proxy all envoy-default-eg-e41e7b31-6d7f8 -n gateways -o yaml

  # The routes of the proxies of one Gateway, in any namespace
  egctl config envoy-proxy route -A -l gateway.envoyproxy.io/owning-gateway-name=eg

  # A local Envoy, directly
  egctl config dump listener --admin 127.0.0.1:19000

  # Routes of every proxy listed in a file, only those of Gateway default/eg
  egctl config dump route --admin-file proxies.txt --name 'default/eg/*'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 2 {
				return cli.UsageErrorf("at most TYPE and POD, got %q", args)
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return typeNames, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, ios, args)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	f := cmd.Flags()
	f.StringArrayVar(&o.admins, "admin", nil, "Envoy admin `HOST:PORT` to read directly (repeatable)")
	f.StringVar(&o.adminFile, "admin-file", "", "read admin addresses from `FILE`, one per line ('#' comments; - for stdin)")
	f.StringVarP(&o.output, "output", "o", "json", "output format: json or yaml")
	f.StringVar(&o.name, "name", "", "only resources whose name matches this `GLOB`")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print secret material instead of [redacted]")
	f.BoolVar(&o.includeEDS, "include-eds", true, "include EDS endpoints in \"all\" (always on for \"endpoint\")")
	f.DurationVar(&o.timeout, "timeout", admin.DefaultTimeout, "per-proxy time limit")
	f.StringVar(&o.kube.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default $KUBECONFIG, then ~/.kube/config)")
	f.StringVar(&o.kube.context, "context", "", "kubeconfig context to use")
	f.StringVarP(&o.kube.namespace, "namespace", "n", DefaultPodNamespace, "namespace of the Envoy pods")
	f.StringArrayVarP(&o.kube.labels, "labels", "l", nil, "label selector of the Envoy pods (repeatable; default Envoy Gateway's proxy labels)")
	f.BoolVarP(&o.kube.allNamespaces, "all-namespaces", "A", false, "Envoy pods of every namespace")
	f.IntVar(&o.kube.adminPort, "pod-admin-port", DefaultPodAdminPort, "admin port of the Envoy pods")
	fixed := func(v ...string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return v, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("output", fixed("json", "yaml"))
	_ = cmd.RegisterFlagCompletionFunc("admin", fixed(DefaultAdmin))
	_ = cmd.RegisterFlagCompletionFunc("name", fixed("*"))
	_ = cmd.RegisterFlagCompletionFunc("timeout", fixed("5s", "30s"))
	_ = cmd.RegisterFlagCompletionFunc("namespace", fixed(DefaultPodNamespace))
	_ = cmd.RegisterFlagCompletionFunc("labels", fixed(EnvoyPodSelector...))
	_ = cmd.RegisterFlagCompletionFunc("context", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("pod-admin-port", fixed(strconv.Itoa(DefaultPodAdminPort)))
	_ = cmd.MarkFlagFilename("admin-file")
	_ = cmd.MarkFlagFilename("kubeconfig")
	return cmd
}

// typeNames are the TYPE arguments, for completion.
var typeNames = []string{"all", "bootstrap", "listener", "route", "cluster", "endpoint", "secret"}

func (o *dumpOptions) run(cmd *cobra.Command, ios *cli.IOStreams, args []string) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	t := typeAll
	if len(args) >= 1 {
		var err error
		if t, err = parseType(args[0]); err != nil {
			return cli.UsageError(err)
		}
	}
	var podName string
	if len(args) == 2 {
		podName = args[1]
	}
	if o.output != "yaml" && o.output != "json" {
		return cli.UsageErrorf("--output %q: want json or yaml", o.output)
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
	changed := func(names ...string) bool {
		for _, n := range names {
			if cmd.Flags().Changed(n) {
				return true
			}
		}
		return false
	}
	direct := len(o.admins) > 0 || o.adminFile != ""
	clusterFlags := podName != "" || changed("kubeconfig", "context", "namespace", "labels", "all-namespaces", "pod-admin-port")
	if direct && clusterFlags {
		return cli.UsageErrorf("--admin and --admin-file read proxies directly; POD, -n, -l, -A, --kubeconfig and --context find them in a cluster: use one or the other")
	}
	eds := o.includeEDS && t == typeAll || t == typeEndpoint
	p := &printer{o: o, ios: ios, t: t, filter: filter}
	if !direct && (clusterFlags || kubeconfigFound()) {
		return p.fromCluster(ctx, podName, eds)
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
	results := admin.Each(ctx, addrs, []admin.Option{admin.WithTimeout(o.timeout)},
		func(ctx context.Context, c *admin.Client) (*adminv3.ConfigDump, error) {
			return c.ConfigDump(ctx, "", "", eds)
		})
	out := map[string]any{}
	for _, a := range addrs {
		r := results[a]
		if v, ok := p.one(a, r.Value, r.Err); ok {
			out[a] = v
		}
	}
	var doc any = out
	if len(addrs) == 1 {
		doc = out[addrs[0]]
	}
	return p.print(doc, len(out) > 0)
}

// printer turns dumps into the output and counts failures.
type printer struct {
	o      *dumpOptions
	ios    *cli.IOStreams
	t      resourceType
	filter *nameFilter
	failed int
}

// one processes the dump of the proxy named label; false when it could
// not be read (said on stderr).
func (p *printer) one(label string, d *adminv3.ConfigDump, err error) (any, bool) {
	if err != nil && !admin.IsPartial(err) {
		fmt.Fprintf(p.ios.ErrOut, "%s%v\n", p.ios.ErrorPrefix(), err)
		p.failed++
		return nil, false
	}
	if err != nil {
		p.ios.Warnf("%v", err)
	}
	if p.filter != nil {
		p.filter.reset()
	}
	v, err := p.o.process(d, p.t, p.filter)
	if err != nil {
		fmt.Fprintf(p.ios.ErrOut, "%s%s: %v\n", p.ios.ErrorPrefix(), label, err)
		p.failed++
		return nil, false
	}
	if p.filter != nil && p.filter.keptOf(p.t) == 0 {
		what := "resource"
		if p.t != typeAll {
			what = string(p.t)
		}
		p.ios.Warnf("%s: --name %q matches no %s", label, p.filter.pattern, what)
	}
	return v, true
}

func (p *printer) print(doc any, any bool) error {
	if any {
		b, err := render(doc, p.o.output)
		if err != nil {
			return err
		}
		if _, err := p.ios.Out.Write(b); err != nil {
			return err
		}
	}
	if p.failed > 0 {
		return &cli.ExitError{Code: cli.ExitProblems}
	}
	return nil
}

// fromCluster reads the selected pods through port-forwards, in parallel,
// and prints {namespace: {pod: dump}}.
func (p *printer) fromCluster(ctx context.Context, podName string, eds bool) error {
	k := &p.o.kube
	if k.adminPort <= 0 || k.adminPort > 65535 {
		return cli.UsageErrorf("--pod-admin-port %d: want 1 to 65535", k.adminPort)
	}
	if !p.ios.Verbose {
		// client-go logs forwarding errors through klog on stderr; egctl
		// says what went wrong itself, once per pod.
		klog.SetLogger(logr.Discard())
	}
	cfg, err := k.restConfig()
	if err != nil {
		return cli.UsageError(err)
	}
	cs, err := podClient(cfg)
	if err != nil {
		return cli.UsageError(err)
	}
	running, notRunning, err := k.selectPods(ctx, cs, podName)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitProblems, Err: err}
	}
	for _, np := range notRunning {
		fmt.Fprintf(p.ios.ErrOut, "%spod %s is not running\n", p.ios.ErrorPrefix(), np)
		p.failed++
	}
	type answer struct {
		d   *adminv3.ConfigDump
		err error
	}
	answers := make([]answer, len(running))
	var wg sync.WaitGroup
	for i, pd := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr, stop, err := forward(ctx, cfg, cs, pd, k.adminPort, io.Discard)
			if err != nil {
				answers[i].err = err
				return
			}
			defer stop()
			c, err := admin.New(addr, admin.WithTimeout(p.o.timeout))
			if err != nil {
				answers[i].err = err
				return
			}
			d, err := c.ConfigDump(ctx, "", "", eds)
			if err != nil {
				err = fmt.Errorf("pod %s: %w", pd, err)
			}
			answers[i] = answer{d, err}
		}()
	}
	wg.Wait()
	out := map[string]map[string]any{}
	for i, pd := range running {
		if v, ok := p.one("pod "+pd.String(), answers[i].d, answers[i].err); ok {
			if out[pd.namespace] == nil {
				out[pd.namespace] = map[string]any{}
			}
			out[pd.namespace][pd.name] = v
		}
	}
	return p.print(out, len(out) > 0)
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
