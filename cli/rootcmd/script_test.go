package rootcmd

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
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
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitCode},
	})
}

// exitCode runs "exitcode N PROGRAM ARGS...": PROGRAM must exit with status
// N (0, 1 and 2 mean different things to egctl). Its output is kept for
// the stdout and stderr commands that follow, as exec keeps it.
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
