package rootcmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/internal/envoytest"
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
	envoy, haveEnvoy := envoytest.Lookup()
	if !haveEnvoy && os.Getenv("CI") == "true" {
		t.Fatal("no Envoy binary: the scripts marked [envoy] need one (make envoy, or ENVOY_BIN)")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitCode},
		Setup: func(env *testscript.Env) error {
			// --envoy-validate finds Envoy as the tests do.
			env.Setenv("ENVOY_BIN", envoy)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "envoy" {
				return haveEnvoy, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
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
