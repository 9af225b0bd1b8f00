package xds

import (
	"fmt"
	"strings"
	"testing"
)

// TestDurationText checks durationText against the spelling it replaced
// (Sprintf, then trimming groups of three zeros).
func TestDurationText(t *testing.T) {
	old := func(sign string, secs, nanos int64) string {
		x := fmt.Sprintf("%s%d.%09d", sign, secs, nanos)
		x = strings.TrimSuffix(x, "000")
		x = strings.TrimSuffix(x, "000")
		x = strings.TrimSuffix(x, ".000")
		return x + "s"
	}
	for _, secs := range []int64{0, 1, 7, 60, 315576000000} {
		for _, nanos := range []int64{0, 1, 10, 999, 1000, 1001, 120000, 1000000, 5000000, 100000000, 500000001, 999999999} {
			for _, sign := range []string{"", "-"} {
				if got, want := durationText(sign, secs, nanos), old(sign, secs, nanos); got != want {
					t.Errorf("durationText(%q, %d, %d) = %q, want %q", sign, secs, nanos, got, want)
				}
			}
		}
	}
}
