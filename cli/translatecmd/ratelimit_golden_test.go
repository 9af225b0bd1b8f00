package translatecmd_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenRateLimit compiles every rate limit input (in/ratelimit-*.yaml)
// to the rate-limit service's configuration, the sixth output those inputs
// have: out/<input>.ratelimit.yaml. test/e2e loads such configurations in
// the real service.
func TestGoldenRateLimit(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join(goldenDir, "in", "ratelimit-*.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no rate limit golden inputs: %v", err)
	}
	for _, in := range ins {
		base := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(base, func(t *testing.T) {
			stdout, stderr, code := runEgctl("x", "translate", "-f", in, "--to", "ratelimit")
			if code == 2 {
				t.Fatalf("exit 2: %s", stderr)
			}
			golden(t, filepath.Join(goldenDir, "out", base+".ratelimit.yaml"), stdout)
		})
	}
}
