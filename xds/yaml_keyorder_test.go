package xds

import (
	"slices"
	"testing"
)

// go-yaml's key order is not transitive; whatever order a map's keys come
// in, the writer must print them in one order.
func TestYAMLKeyOrderDeterministic(t *testing.T) {
	base := []string{"d889c", "d8f1", "d384", "corp_2c6f", "corp_019e", "corp_8ef9", "a10", "a9", "a09", "b"}
	var want []string
	for i := range 50 {
		keys := slices.Clone(base)
		// A different starting order each time.
		for j := range keys {
			k := (j*7 + i*3) % len(keys)
			keys[j], keys[k] = keys[k], keys[j]
		}
		sorted := slices.Clone(keys)
		sortYAMLKeys(sorted)
		kvs := make([]mapEntry, len(keys))
		for j, k := range keys {
			kvs[j].k = k
		}
		sortMapEntries(kvs)
		short := slices.Clone(keys[:8])
		sortStructKeys(short)
		if want == nil {
			want = sorted
		}
		if !slices.Equal(sorted, want) {
			t.Fatalf("sortYAMLKeys(%q) = %q, want %q", keys, sorted, want)
		}
		for j := range kvs {
			if kvs[j].k != want[j] {
				t.Fatalf("sortMapEntries from %q: %q at %d, want %q", keys, kvs[j].k, j, want[j])
			}
		}
		short2 := slices.Clone(keys[:8])
		sortYAMLKeys(short2)
		if !slices.Equal(short, short2) {
			t.Fatalf("sortStructKeys(%q) = %q, sortYAMLKeys gives %q", keys[:8], short, short2)
		}
	}
}
