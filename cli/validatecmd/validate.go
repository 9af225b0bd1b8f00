// Package validatecmd implements `egctl x validate`: compile manifests
// and report what is wrong with them, and nothing else — a CI gate.
package validatecmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/cli/envoycheck"
	"github.com/egctl/egctl/cli/report"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/xds"
)

// Options are the flags of `egctl x validate`.
type Options struct {
	IO *cli.IOStreams
	compile.Options
	Report report.Flags

	EnvoyValidate string
	ListCodes     bool
}

// NewCmd returns `egctl x validate`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	o := &Options{IO: ios, Options: *compile.NewOptions()}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check manifests as a CI gate: load, compile, report problems, print no configuration",
		Long: `Validate compiles manifests exactly as 'egctl x translate' does and prints
only what is wrong: nothing at all when everything is accepted.

Every finding has a code and a severity, as 'istioctl analyze' gives
them: error (fails the run), warning (fails it with --strict), info
(shown with -v). --suppress CODE silences one kind of finding everywhere,
--suppress CODE=GLOB on the objects whose "Kind namespace/name" matches
(for instance a repository shared by several controllers silences
EGC2002, Gateways of another controller's GatewayClass). --list-codes
prints them all.

-o picks the report: text (default), json, sarif (code scanning),
github (workflow annotations on the pull request's lines) or junit (XML
for CI dashboards: one test case per object). -o FORMAT=FILE writes a
report to a file; -o is repeatable.

--envoy-validate runs the real Envoy ('envoy --mode validate') on the
bootstrap compiled for every Gateway, so the gate also knows that Envoy
accepts the output.

Exit status: 0 when nothing fails; 1 when an error (or, with --strict, a
warning) is found; 2 for usage errors and input the API server would
refuse (those are reported in the chosen format too).`,
		Example: `  # The gate: silent on success
  egctl x validate -f manifests/

  # On a pull request: annotations on the changed lines, JUnit for the dashboard
  egctl x validate -f manifests/ -o github -o junit=egctl.xml

  # Warnings fail too; another controller's Gateways are expected here
  egctl x validate -k overlays/prod --strict --suppress EGC2002

  # ... and the real Envoy must accept every bootstrap
  egctl x validate -f manifests/ --envoy-validate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ListCodes {
				return listCodes(o.IO)
			}
			if err := o.Options.Complete(true); err != nil {
				return err
			}
			if err := o.Report.Complete(); err != nil {
				return err
			}
			return run(cmd.Context(), o)
		},
	}
	o.AddInputFlags(cmd, compile.WithFiles|compile.WithStdin)
	o.Options.AddFlags(cmd)
	o.Report.AddFlags(cmd, "output", "o")
	cmd.Flags().BoolVar(&o.Report.Strict, "strict", false, "warnings fail the run too")
	envoycheck.AddFlag(cmd, &o.EnvoyValidate)
	cmd.Flags().BoolVar(&o.ListCodes, "list-codes", false, "list every finding code with its severity and meaning, and exit")
	return cmd
}

func listCodes(ios *cli.IOStreams) error {
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tSEVERITY\tMEANING")
	for _, c := range report.Codes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Severity, c.Help)
	}
	return tw.Flush()
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	bin, check, err := envoycheck.Find(o.EnvoyValidate)
	if err != nil {
		return cli.UsageError(err)
	}
	prog := o.IO.StartProgress("reading manifests")
	defer prog.Done()
	set, warns, loadErr := o.Load(o.IO.In)
	findings := report.FromLoad(loadErr, warns)
	if loadErr != nil {
		prog.Done()
		// Input the API server would refuse is exit status 2, as
		// everywhere in egctl, whatever else the report says.
		if err := o.write(findings, nil); err != nil && !isExit(err, cli.ExitProblems) {
			return err
		}
		return &cli.ExitError{Code: cli.ExitUsage}
	}
	settings, err := o.Settings(true)
	if err != nil {
		return err
	}
	prog.Stage("translating")
	res, err := settings.Compile(set)
	if err != nil {
		return err
	}
	for _, n := range res.Added {
		findings = append(findings, report.Added(n))
	}
	if res.Empty && !settings.AllowEmpty {
		findings = append(findings, report.Empty(cli.EmptyInputMessage))
	}
	prog.Stage("building xDS resources")
	all, err := res.Build()
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		findings = append(findings, report.FromProblem(p))
	}
	for _, w := range res.Warnings {
		findings = append(findings, report.FromWarning(w))
	}
	if check {
		prog.Stage("envoy --mode validate")
		host, port := o.AdminHostPort()
		verdicts, err := envoycheck.Validate(ctx, bin, all, xds.BootstrapOptions{AdminAddress: host, AdminPort: port})
		if err != nil {
			return err
		}
		for _, v := range verdicts {
			if v.Err != nil {
				findings = append(findings, report.EnvoyRejected(v.Proxy, set.Origin(gatewayKey(v.Proxy)), v.Err.Error()))
			}
		}
	}
	prog.Done()
	return o.write(findings, checked(set))
}

// write filters, sorts and writes the findings, and turns a failure
// into exit status 1.
func (o *Options) write(findings []report.Finding, objects []report.Checked) error {
	r, err := o.Report.Build(findings, "egctl x validate")
	if err != nil {
		return err
	}
	r.Objects = objects
	r.Verbose = o.IO.Verbose
	r.Color = o.IO.Color()
	if err := r.Write(o.Report.Targets(), o.IO.Out); err != nil {
		return err
	}
	if r.Failed() {
		return &cli.ExitError{Code: cli.ExitProblems}
	}
	return nil
}

func isExit(err error, code int) bool {
	var ee *cli.ExitError
	return errors.As(err, &ee) && ee.Code == code && ee.Err == nil
}

// checked lists every input object, in file order.
func checked(set *resource.Set) []report.Checked {
	if set == nil {
		return nil
	}
	out := make([]report.Checked, 0, len(set.Origins))
	for k, o := range set.Origins {
		out = append(out, report.Checked{Object: report.Object{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}, File: o.File, Line: o.Line})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

func gatewayKey(nsName string) resource.Key {
	ns, name, _ := strings.Cut(nsName, "/")
	return resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: ns, Name: name}
}
