// Package versioncmd implements `egctl version`.
package versioncmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/version"
)

// NewCmd returns `egctl version`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print egctl's version and the API versions it speaks",
		Example: `  egctl version
  egctl version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			switch output {
			case "":
				fmt.Fprintf(ios.Out, "egctl %s\n", info.Version)
				if info.Commit != "" {
					fmt.Fprintf(ios.Out, "  commit:            %s\n", info.Commit)
				}
				fmt.Fprintf(ios.Out, "  go:                %s %s\n", info.GoVersion, info.Platform)
				fmt.Fprintf(ios.Out, "  envoy api:         %s\n", info.EnvoyAPI)
				fmt.Fprintf(ios.Out, "  gateway api:       %s\n", info.GatewayAPI)
				fmt.Fprintf(ios.Out, "  envoy gateway api: %s\n", info.EnvoyGatewayAPI)
				return nil
			case "json":
				b, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(ios.Out, "%s\n", b)
				return err
			case "yaml":
				b, err := yaml.Marshal(info)
				if err != nil {
					return err
				}
				_, err = ios.Out.Write(b)
				return err
			default:
				return cli.UsageErrorf("--output must be yaml or json, not %q", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: yaml or json (default: text)")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}
