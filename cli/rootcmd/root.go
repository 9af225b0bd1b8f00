// Package rootcmd assembles the egctl command tree.
package rootcmd

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/certgencmd"
	"github.com/egctl/egctl/cli/configcmd"
	"github.com/egctl/egctl/cli/diffcmd"
	"github.com/egctl/egctl/cli/servecmd"
	"github.com/egctl/egctl/cli/statuscmd"
	"github.com/egctl/egctl/cli/translatecmd"
	"github.com/egctl/egctl/cli/validatecmd"
	"github.com/egctl/egctl/cli/versioncmd"
)

// NewCmd returns the root `egctl` command with every subcommand.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "egctl",
		Short: "Compile Gateway API manifests into Envoy configuration, offline",
		Long: `egctl compiles Gateway API and Envoy Gateway manifests into Envoy configuration
without a cluster: xDS resources, a go-control-plane snapshot, or a static
bootstrap that Envoy runs as is. It also inspects running Envoys.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if !slices.Contains(cli.ColorModes, ios.ColorMode) {
				return cli.UsageError(&usageError{"--color " + ios.ColorMode + ": want one of " + strings.Join(cli.ColorModes, ", ")})
			}
			if ios.Verbose && ios.Quiet {
				return cli.UsageError(&usageError{"--verbose and --quiet are exclusive"})
			}
			return nil
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	pf := root.PersistentFlags()
	if ios.ColorMode == "" {
		ios.ColorMode = cli.ColorAuto
	}
	pf.StringVar(&ios.ColorMode, "color", ios.ColorMode, "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	pf.BoolVarP(&ios.Verbose, "verbose", "v", false, "say more: notes, timings, details")
	pf.BoolVarP(&ios.Quiet, "quiet", "q", false, "say less: errors and problems only, no warnings, notes or progress")
	_ = root.RegisterFlagCompletionFunc("color", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return cli.ColorModes, cobra.ShellCompDirectiveNoFileComp
	})

	experimental := &cobra.Command{
		Use:     "experimental",
		Aliases: []string{"x"},
		Short:   "Commands whose flags may still change: translate, validate, status, diff, certgen, serve",
	}
	experimental.AddCommand(
		translatecmd.NewCmd(ios),
		validatecmd.NewCmd(ios),
		statuscmd.NewCmd(ios),
		diffcmd.NewCmd(ios),
		certgencmd.NewCmd(ios),
		servecmd.NewCmd(ios),
	)
	root.AddCommand(experimental, configcmd.NewCmd(ios), versioncmd.NewCmd(ios))
	// cobra adds these when it runs; adding them now lets wireGroups see
	// `completion` too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	wireGroups(root)
	setFlagErrors(root)
	return root
}

// setFlagErrors gives every command the same flag-error handling (cobra
// takes the nearest one that is set).
func setFlagErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(flagError)
	for _, sub := range c.Commands() {
		setFlagErrors(sub)
	}
}
