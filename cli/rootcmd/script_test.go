package rootcmd

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/egctl/egctl/cli"
)

// TestMain lets the scripts run `egctl` as a command without building a
// binary: testscript re-executes this test binary under that name.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"egctl": func() { os.Exit(Execute(cli.System(), os.Args[1:])) },
	})
}

// TestScripts runs the CLI sessions in testdata/script/*.txtar: commands,
// their stdout, stderr and exit status, as a user would see them.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
	})
}
