// Package rootcmd assembles the egctl command tree.
package rootcmd

import (
	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/translatecmd"
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
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)

	experimental := &cobra.Command{
		Use:     "experimental",
		Aliases: []string{"x"},
		Short:   "Experimental commands: translate, status, diff, certgen",
	}
	experimental.AddCommand(translatecmd.NewCmd(ios))
	for _, c := range extraExperimental {
		experimental.AddCommand(c(ios))
	}
	root.AddCommand(experimental)
	root.AddCommand(versioncmd.NewCmd(ios))
	for _, c := range extraRoot {
		root.AddCommand(c(ios))
	}
	return root
}

type constructor func(*cli.IOStreams) *cobra.Command

// Commands contributed by other files in this package (one file per
// command family keeps this one free of merge traffic).
var (
	extraExperimental []constructor
	extraRoot         []constructor
)

type cobraCommand = cobra.Command
