package report

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/version"
)

// Flags are the reporting flags: where reports go, what is suppressed,
// whether warnings fail.
type Flags struct {
	Reports  []string
	Suppress []string
	Strict   bool

	flag         string
	targets      []Target
	suppressions []Suppression
}

// AddFlags registers the report flag (name, shorthand) and --suppress.
func (f *Flags) AddFlags(cmd *cobra.Command, name, short string) {
	f.flag = "--" + name
	fs := cmd.Flags()
	fs.StringArrayVarP(&f.Reports, name, short, nil, "report format: "+strings.Join(Formats, ", ")+"; FORMAT=FILE writes it to a file; repeatable")
	fs.StringArrayVar(&f.Suppress, "suppress", nil, "silence findings of a code (EGC2002 or GatewayClassNotOurs), or CODE=GLOB on the objects whose \"Kind namespace/name\" matches; repeatable")
	_ = cmd.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if i := strings.IndexByte(prefix, '='); i >= 0 {
			return nil, cobra.ShellCompDirectiveDefault // a file name
		}
		return Formats, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("suppress", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, c := range Codes() {
			out = append(out, cobra.CompletionWithDesc(c.ID, c.Name))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// Complete parses the flags.
func (f *Flags) Complete() error {
	var err error
	if f.targets, err = ParseTargets(f.flag, f.Reports); err != nil {
		return cli.UsageError(err)
	}
	if f.suppressions, err = ParseSuppressions(f.Suppress); err != nil {
		return cli.UsageError(err)
	}
	return nil
}

// Targets are the reports to write; text to the stream when none is
// asked for.
func (f *Flags) Targets() []Target {
	if len(f.targets) == 0 {
		return []Target{{Format: FormatText}}
	}
	return f.targets
}

// Asked says whether a report flag was given.
func (f *Flags) Asked() bool { return len(f.targets) > 0 }

// Build applies the suppressions and sorts: the report, ready to write.
func (f *Flags) Build(findings []Finding, tool string) (*Report, error) {
	kept, n := Filter(findings, f.suppressions)
	Sort(kept)
	return &Report{Tool: tool, Version: version.Get().Version, Findings: kept, Suppressed: n, Strict: f.Strict}, nil
}

// Filter applies the suppressions only, keeping the order.
func (f *Flags) Filter(findings []Finding) ([]Finding, int) {
	return Filter(findings, f.suppressions)
}
