package statuscmd

import (
	"testing"

	"github.com/egctl/egctl/diff"
)

// Drift is compared from the manifests to the proxy: what the manifests
// have and the proxy lacks is "missing on the proxy", not "removed".
func TestDriftWords(t *testing.T) {
	for c, want := range map[diff.Change]string{
		diff.Removed: "missing on the proxy:",
		diff.Added:   "only on the proxy:",
		diff.Changed: "changed",
	} {
		if got := driftWord(c); got != want {
			t.Errorf("%s: %q, want %q", c, got, want)
		}
	}
}
