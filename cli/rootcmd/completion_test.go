package rootcmd

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/cli"
)

// Every flag that takes a value says how to complete it: a list of its
// values, files or directories, or explicitly nothing. A new flag without
// one fails here, so no enumerated value is left for the user to guess.
func TestEveryFlagCompletes(t *testing.T) {
	root := NewCmd(&cli.IOStreams{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			if f.Value.Type() == "bool" || f.Name == "help" {
				return
			}
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok {
				return
			}
			if _, ok := f.Annotations[cobra.BashCompFilenameExt]; ok {
				return
			}
			if _, ok := f.Annotations[cobra.BashCompSubdirsInDir]; ok {
				return
			}
			t.Errorf("%s --%s: no completion registered (RegisterFlagCompletionFunc, MarkFlagFilename or cobra.NoFileCompletions)", c.CommandPath(), f.Name)
		}
		c.LocalNonPersistentFlags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == cobra.ShellCompRequestCmd || sub.Name() == cobra.ShellCompNoDescRequestCmd || sub.Parent().Name() == "completion" {
				continue
			}
			walk(sub)
		}
	}
	walk(root)
}

// complete runs egctl's hidden __complete command as a shell would.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &cli.IOStreams{Out: &out, ErrOut: &errOut}
	root := NewCmd(ios)
	root.SetArgs(append([]string{cobra.ShellCompNoDescRequestCmd}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %v: %v\n%s", args, err, errOut.String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, l)
		}
	}
	return got
}

func TestEnumeratedCompletions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"config", "dump", ""}, []string{"all", "bootstrap", "listener", "route", "cluster", "endpoint", "secret"}},
		{[]string{"config", "envoy-proxy", "-o", ""}, []string{"json", "yaml"}},
		{[]string{"x", "status", "-o", ""}, []string{"table", "json", "yaml"}},
		{[]string{"x", "status", ""}, []string{"all", "xroute", "xpolicy", "gatewayclass", "gateway", "httproute"}},
		{[]string{"x", "diff", "-o", ""}, []string{"text", "json", "markdown"}},
		{[]string{"x", "certgen", "--key-type", ""}, []string{"ecdsa", "rsa"}},
		{[]string{"x", "translate", "--to", ""}, []string{"gateway-api", "xds", "ir", "bootstrap", "ratelimit"}},
		{[]string{"x", "translate", "-f", "testdata/complete/gateways.yaml", "--gateway", ""}, []string{"default/eg", "infra/public"}},
		{[]string{"x", "status", "-f", "testdata/complete/gateways.yaml", "--gateway", ""}, []string{"default/eg", "infra/public"}},
		{[]string{"x", "validate", "-o", ""}, []string{"text", "json", "sarif", "github", "junit"}},
		{[]string{"x", "validate", "--suppress", ""}, []string{"EGC1001", "EGC2002"}},
		{[]string{"--color", ""}, []string{"auto", "always", "never"}},
		{[]string{"x", "validate", "-f", "testdata/complete/gateways.yaml", "-n", ""}, []string{"default", "infra"}},
		{[]string{"version", "-o", ""}, []string{"json", "yaml"}},
	} {
		got := complete(t, tc.args...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("egctl %s: completions %v lack %q", strings.Join(tc.args, " "), got, w)
			}
		}
	}
}
