package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// MainOptions say what a test binary's TestMain prepares besides egctl.
type MainOptions struct {
	// EchoBasic builds the official echo backend for StartEchoBasic.
	EchoBasic bool
}

// Main is the body of TestMain for every package that runs Envoy through
// this harness: it finds Envoy (missing is a failure under CI=true and a
// loud skip of every Envoy test elsewhere), builds egctl (and echo-basic
// when asked) once for the binary, runs the tests and removes the builds.
// Use it as os.Exit(e2e.Main(m, e2e.MainOptions{})).
func Main(m *testing.M, opts MainOptions) int {
	flag.Parse()
	if bin, err := FindEnvoy(); err != nil {
		banner := strings.Repeat("!", 78)
		if inCI() {
			fmt.Fprintf(os.Stderr, "%s\nE2E: ENVOY MISSING IN CI (CI=true): %v\nE2E: %s\n%s\n", banner, err, envoyInstallHint, banner)
			return 1
		}
		// Every test that needs Envoy skips itself (requireEnvoy) with
		// the same hint; the rest still run.
		fmt.Fprintf(os.Stderr, "%s\nE2E: SKIPPING EVERY ENVOY TEST: %v\nE2E: %s\n%s\n", banner, err, envoyInstallHint, banner)
	} else if v, err := EnvoyVersion(bin); err != nil {
		fmt.Fprintf(os.Stderr, "E2E: Envoy found but unusable: %v\n", err)
		return 1
	} else if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "E2E: using %s\n", v)
	}

	tmp, err := os.MkdirTemp("", "egctl-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "E2E: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	// A build failure is recorded, not fatal here: the tests that need the
	// binary fail with the compiler's message, the others still run.
	var wg sync.WaitGroup
	wg.Go(func() {
		egctlBin = filepath.Join(tmp, "egctl")
		egctlErr = GoBuild("github.com/egctl/egctl/cmd/egctl", egctlBin)
	})
	if opts.EchoBasic {
		wg.Go(func() {
			echoBasicBin = filepath.Join(tmp, "echo-basic")
			echoBasicErr = GoBuild("sigs.k8s.io/gateway-api/conformance/echo-basic", echoBasicBin)
		})
	}
	wg.Wait()
	for _, err := range []error{egctlErr, echoBasicErr} {
		if err != nil {
			fmt.Fprintf(os.Stderr, "E2E: %v\n", err)
		}
	}
	return m.Run()
}
