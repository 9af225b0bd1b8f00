package statuscmd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
)

// result is one in-process run of a command.
type result struct {
	stdout, stderr string
	code           int
}

// execute runs cmd with args the way egctl's root does: buffers for the
// streams, cli exit codes, cobra's own argument errors as usage errors.
func execute(t *testing.T, newCmd func(*cli.IOStreams) *cobra.Command, stdin io.Reader, args ...string) result {
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
	code := cli.Code(err)
	var ee *cli.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		errOut.WriteString("Error: " + err.Error() + "\n")
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func runStatus(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, NewCmd, nil, args...)
}
