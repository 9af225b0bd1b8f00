package statuscmd

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/clitest"
)

// result is one in-process run of a command.
type result struct {
	stdout, stderr string
	code           int
}

func execute(t *testing.T, newCmd func(*cli.IOStreams) *cobra.Command, stdin io.Reader, args ...string) result {
	t.Helper()
	r := clitest.Run(t, newCmd, stdin, args...)
	return result{stdout: r.Stdout, stderr: r.Stderr, code: r.Code}
}

func runStatus(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, NewCmd, nil, args...)
}
