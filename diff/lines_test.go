package diff

import (
	"math/rand"
	"strings"
	"testing"
)

// apply replays an edit script and checks it is well formed.
func apply(t *testing.T, a, b []string, ops []lineOp) []string {
	t.Helper()
	var out []string
	ai, bi := 0, 0
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			if o.a != ai || o.b != bi || a[o.a] != b[o.b] {
				t.Fatalf("bad equal op %+v at a=%d b=%d", o, ai, bi)
			}
			out = append(out, a[ai])
			ai++
			bi++
		case opDelete:
			if o.a != ai {
				t.Fatalf("bad delete op %+v at a=%d", o, ai)
			}
			ai++
		case opInsert:
			if o.b != bi {
				t.Fatalf("bad insert op %+v at b=%d", o, bi)
			}
			out = append(out, b[bi])
			bi++
		}
	}
	if ai != len(a) || bi != len(b) {
		t.Fatalf("script consumed a=%d/%d b=%d/%d", ai, len(a), bi, len(b))
	}
	return out
}

// lcs is the textbook dynamic programme, to check Myers finds a shortest
// script.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestLineDiffIsShortestAndValid(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "c", "d"}
	for iter := 0; iter < 500; iter++ {
		a := make([]string, rng.Intn(12))
		b := make([]string, rng.Intn(12))
		for i := range a {
			a[i] = alphabet[rng.Intn(len(alphabet))]
		}
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		ops := lineDiff(a, b)
		got := apply(t, a, b, ops)
		if strings.Join(got, "") != strings.Join(b, "") {
			t.Fatalf("a=%v b=%v: script yields %v", a, b, got)
		}
		edits := 0
		for _, o := range ops {
			if o.kind != opEqual {
				edits++
			}
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("a=%v b=%v: %d edits, shortest is %d", a, b, edits, want)
		}
	}
}

func TestUnifiedFormat(t *testing.T) {
	old := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	new := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\nthirteen\n"
	want := `@@ -2,7 +2,7 @@
 2
 3
 4
-5
+five
 6
 7
 8
@@ -10,3 +10,4 @@
 10
 11
 12
+thirteen
`
	if got := unified(old, new, 3); got != want {
		t.Errorf("unified:\n%s\nwant:\n%s", got, want)
	}
	if got := unified(old, old, 3); got != "" {
		t.Errorf("equal texts gave %q", got)
	}
	if got, want := unified("", "a\nb\n", 3), "@@ -0,0 +1,2 @@\n+a\n+b\n"; got != want {
		t.Errorf("pure insert: %q, want %q", got, want)
	}
	if got, want := unified("a\n", "", 3), "@@ -1 +0,0 @@\n-a\n"; got != want {
		t.Errorf("pure delete: %q, want %q", got, want)
	}
}

func TestLineDiffBoundedOnHugeInput(t *testing.T) {
	// Two unrelated texts far past the search bound still give a valid
	// (if not shortest) script.
	n := maxEditDistance + 500
	a := make([]string, n)
	b := make([]string, n)
	for i := range a {
		a[i] = "a" + string(rune('0'+i%10))
		b[i] = "b" + string(rune('0'+i%10))
	}
	got := apply(t, a, b, lineDiff(a, b))
	if len(got) != n || got[0] != b[0] {
		t.Fatalf("bad result")
	}
}
