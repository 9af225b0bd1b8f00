package compile

import (
	"sort"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
)

// NamespaceCompletion completes -n with "default" and the namespaces of
// the manifests the command line already names.
func NamespaceCompletion(o *Options) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		seen := map[string]bool{"default": true}
		if set := o.loadForCompletion(); set != nil {
			for k := range set.Origins {
				if k.Namespace != "" {
					seen[k.Namespace] = true
				}
			}
		}
		names := make([]string, 0, len(seen))
		for n := range seen {
			names = append(names, n)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// loadForCompletion loads -f and -k quietly; nil without any.
func (o *Options) loadForCompletion() *resource.Set {
	var files []string
	for _, f := range o.Files {
		if f != "-" {
			files = append(files, f)
		}
	}
	if len(files) == 0 && len(o.Kustomize) == 0 {
		return nil
	}
	set, _, _ := manifest.Load(files, o.LoadOptions(nil))
	return set
}

// GatewayCompletion completes --gateway with the Gateways of the
// manifests the command line already names (-f, -k), as namespace/name.
// Nothing is printed for input that does not load.
func GatewayCompletion(o *Options) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		set := o.loadForCompletion()
		if set == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, g := range set.Gateways {
			names = append(names, g.Namespace+"/"+g.Name)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
