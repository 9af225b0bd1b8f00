package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
)

const (
	goBuildTimeout = 5 * time.Minute
	egctlTimeout   = 60 * time.Second
)

// Binaries built once by TestMain for the whole suite.
var (
	egctlBin     string
	egctlErr     error // why egctlBin is unusable, when it is
	echoBasicBin string
	echoBasicErr error
)

// GoBuild builds one package of the main module (or of its requirements)
// into out. Build output is the error message when it fails.
func GoBuild(pkg, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), goBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = envoytest.RepoRoot()
	// The module pins its toolchain; never let a build here fetch another.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// Result is what one egctl run produced.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
}

func (r Result) String() string {
	return fmt.Sprintf("egctl %s\nexit code: %d\n--- stderr ---\n%s", strings.Join(r.Args, " "), r.Code, r.Stderr)
}

// RunEgctl runs the egctl under test with args and returns its output and
// exit code. It fails the test only when egctl cannot be run at all.
func RunEgctl(t testing.TB, args ...string) Result {
	t.Helper()
	requireEgctl(t)
	ctx, cancel := context.WithTimeout(context.Background(), egctlTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, egctlBin, args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	setProcAttr(cmd)
	err := cmd.Run()
	res := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("egctl %s: no exit within %s\n%s", strings.Join(args, " "), egctlTimeout, res.Stderr)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("running egctl %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// requireEgctl fails the test unless Main built egctl.
func requireEgctl(t testing.TB) {
	t.Helper()
	if egctlErr != nil {
		t.Fatalf("egctl is not available: %v", egctlErr)
	}
	if egctlBin == "" {
		t.Fatal("egctl was not built: run these tests through `go test` so TestMain (e2e.Main) builds it")
	}
}

// Translate runs `egctl x translate -f dir --to bootstrap --admin-address
// adminAddr [--gateway gateway]` and writes its stdout to bootstrap.yaml in
// a fresh directory, returning the result and that file's path.
func Translate(t testing.TB, dir, adminAddr, gateway string) (Result, string) {
	t.Helper()
	args := []string{"x", "translate", "-f", dir, "--to", "bootstrap", "--admin-address", adminAddr}
	if gateway != "" {
		args = append(args, "--gateway", gateway)
	}
	args = append(args, DefaultListenerPorts(t, args)...)
	res := RunEgctl(t, args...)
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, []byte(res.Stdout), 0o644); err != nil {
		t.Fatalf("writing bootstrap: %v", err)
	}
	return res, path
}

// DefaultListenerPorts are the egctl flags that give the listeners Envoy
// Gateway's defaults add ports of their own: the readiness listener
// (19003, on unless --lean) and the Prometheus stats listener (19001, on
// unless --lean, and whenever an EnvoyProxy's telemetry.metrics asks, lean
// or not). Parallel proxies cannot all bind the fixed ports; StartEnvoy
// refuses a bootstrap that would. A flag already in args is kept.
func DefaultListenerPorts(t testing.TB, args []string) []string {
	t.Helper()
	var flags []string
	if !slices.Contains(args, "--lean") && !slices.Contains(args, "--ready-port") {
		flags = append(flags, "--ready-port", strconv.Itoa(FreePort(t)))
	}
	if !slices.Contains(args, "--stats-port") {
		flags = append(flags, "--stats-port", strconv.Itoa(FreePort(t)))
	}
	return flags
}
