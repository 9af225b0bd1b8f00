// Package rootcmd assembles the egctl command tree.
package rootcmd

import (
	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/certgencmd"
	"github.com/egctl/egctl/cli/configcmd"
	"github.com/egctl/egctl/cli/diffcmd"
	"github.com/egctl/egctl/cli/servecmd"
	"github.com/egctl/egctl/cli/statuscmd"
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
		Short:   "Commands whose flags may still change: translate, status, diff, certgen, serve",
	}
	experimental.AddCommand(
		translatecmd.NewCmd(ios),
		statuscmd.NewCmd(ios),
		diffcmd.NewCmd(ios),
		certgencmd.NewCmd(ios),
		servecmd.NewCmd(ios),
	)
	root.AddCommand(experimental, configcmd.NewCmd(ios), versioncmd.NewCmd(ios))
	return root
}
