package compile

import (
	"sort"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/manifest"
)

// GatewayCompletion completes --gateway with the Gateways of the
// manifests the command line already names (-f, -k), as namespace/name.
// Nothing is printed for input that does not load.
func GatewayCompletion(o *Options) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var files []string
		for _, f := range o.Files {
			if f != "-" {
				files = append(files, f)
			}
		}
		if len(files) == 0 && len(o.Kustomize) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		lo := o.LoadOptions(nil)
		set, _, _ := manifest.Load(files, lo)
		var names []string
		for _, g := range set.Gateways {
			names = append(names, g.Namespace+"/"+g.Name)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
