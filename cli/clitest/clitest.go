// Package clitest runs one egctl command in-process, the way the root
// command would, so tests see the same streams and exit codes a user does.
package clitest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
)

// Result is one run: what the command printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run builds the command with newCmd and runs it with args: buffers for the
// streams, cli exit codes, cobra's flag errors as usage errors.
func Run(t testing.TB, newCmd func(*cli.IOStreams) *cobra.Command, stdin io.Reader, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	ios := &cli.IOStreams{In: stdin, Out: &out, ErrOut: &errOut}
	cmd := newCmd(ios)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	err := cmd.Execute()
	var ee *cli.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return Result{Stdout: out.String(), Stderr: errOut.String(), Code: cli.Code(err)}
}
