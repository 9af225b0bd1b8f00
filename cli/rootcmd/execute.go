package rootcmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
)

// Execute runs egctl with args and returns the process exit code: 0 on
// success, 1 when a command found problems, 2 for usage and input errors.
func Execute(ios *cli.IOStreams, args []string) int {
	root := NewCmd(ios)
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(ios.ErrOut, "Error: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(ios.ErrOut, "Error: %v\n", err)
	if isCobraUsage(err) {
		fmt.Fprintf(ios.ErrOut, "Run 'egctl --help' for usage.\n")
		return cli.ExitUsage
	}
	return 1
}

// isCobraUsage recognises the argument errors cobra returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}
