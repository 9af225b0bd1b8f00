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

// It compiles manifests with --lean, as the tests' own helpers compile
// (translate.Options{}, difftest), so that both sides of a comparison
// agree; Envoy Gateway's defaults in diffs are tested on their own
// (TestQuickstartMatchesEnvoyGateway).
func runStatus(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, NewCmd, nil, append([]string{"--lean"}, args...)...)
}
