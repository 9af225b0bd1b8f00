package egcompat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/translate"
)

// TestEnvoyGatewayCases runs every EG translator test case that uses only
// what egctl supports through translate.Translate and compares statuses and
// route structure with EG's expected output. It fails on any mismatch not
// accepted in expectations (expect_test.go), and on any accepted mismatch
// that no longer happens, so the table stays true.
//
// EGCOMPAT_REPORT=1 logs the per-case summary; EGCOMPAT_RUN=substring
// limits the cases.
func TestEnvoyGatewayCases(t *testing.T) {
	start := time.Now()
	dir := filepath.Join(egDir(t), "internal", "gatewayapi", "testdata")
	base, err := loadBaseSecrets(dir)
	if err != nil {
		t.Fatalf("base secrets: %v", err)
	}
	ins, err := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no EG test cases in %s (%v)", dir, err)
	}
	filter := os.Getenv("EGCOMPAT_RUN")

	used := map[int]bool{}
	classCases := map[string]map[string]bool{} // class → cases with a mismatch of that class
	classLines := map[string]int{}
	whyCases := map[string]map[string]bool{} // class + reason → cases, for the report
	whyLines := map[string]int{}
	skipped := map[string]int{}
	var compared, clean, accepted int
	var unexpected []string
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		if filter != "" && !strings.Contains(name, filter) {
			continue
		}
		c, skip, err := loadCase(dir, name, base)
		var de *decodeError
		if errors.As(err, &de) {
			skipped["input does not decode into the typed API"]++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if skip != "" {
			skipped[skip]++
			continue
		}
		compared++
		res, err := translate.Translate(c.In, caseOptions)
		if err != nil {
			t.Errorf("%s: translate: %v", name, err)
			continue
		}
		// What egctl would print must pass its own checks: an IR that
		// breaks an invariant is an internal error for the user.
		if err := res.IR.Validate(); err != nil {
			t.Errorf("%s: IR invalid: %v", name, err)
		}
		if os.Getenv("EGCOMPAT_DEBUG") != "" {
			for _, p := range res.Problems {
				t.Logf("%s: egctl problem: %s", name, p)
			}
		}
		diffs := append(compareStatus(c.Want, res), compareIR(c.Want.XdsIR, res.IR)...)
		for _, cmp := range kindComparers {
			diffs = append(diffs, cmp(c, res)...)
		}
		if len(diffs) == 0 {
			clean++
			continue
		}
		caseOK := true
		for _, d := range diffs {
			if os.Getenv("EGCOMPAT_DEBUG") != "" {
				t.Logf("%s: mismatch: %s", name, d)
			}
			if i := expectedIndex(name, d); i >= 0 {
				used[i] = true
				cl := expectations[i].Class
				if classCases[cl] == nil {
					classCases[cl] = map[string]bool{}
				}
				classCases[cl][name] = true
				classLines[cl]++
				why := cl + ": " + expectations[i].Why
				if whyCases[why] == nil {
					whyCases[why] = map[string]bool{}
				}
				whyCases[why][name] = true
				whyLines[why]++
				continue
			}
			caseOK = false
			unexpected = append(unexpected, name+": "+d)
		}
		if caseOK {
			accepted++
		}
	}
	if filter == "" {
		for i, e := range expectations {
			if !used[i] {
				t.Errorf("expectation %d (%s, %q) matched nothing: fixed? remove it from expect_test.go", i, e.Case, e.Mismatch)
			}
		}
	}
	for _, u := range unexpected {
		t.Errorf("unexpected mismatch: %s", u)
	}
	if compared == 0 {
		t.Fatalf("no case compared")
	}
	if os.Getenv("EGCOMPAT_REPORT") != "" || testing.Verbose() {
		var reasons []string
		total := 0
		for r, n := range skipped {
			reasons = append(reasons, fmt.Sprintf("%4d %s", n, r))
			total += n
		}
		sort.Strings(reasons)
		t.Logf("EG cases: %d; skipped %d; compared %d: %d identical, %d with only accepted differences, %d with unexpected ones (%s)",
			len(ins), total, compared, clean, accepted, compared-clean-accepted, time.Since(start).Round(time.Millisecond))
		for _, cl := range []string{"a", "b", "c"} {
			t.Logf("class %s: %d mismatches in %d cases", cl, classLines[cl], len(classCases[cl]))
		}
		if os.Getenv("EGCOMPAT_REPORT") != "" {
			t.Logf("skip reasons:\n%s", strings.Join(reasons, "\n"))
			keys := make([]string, 0, len(whyLines))
			for w := range whyLines {
				keys = append(keys, w)
			}
			sort.Strings(keys) // by class, then reason
			whys := make([]string, 0, len(keys))
			for _, w := range keys {
				whys = append(whys, fmt.Sprintf("%4d lines %3d cases  %s", whyLines[w], len(whyCases[w]), w))
			}
			t.Logf("accepted differences by class and reason:\n%s", strings.Join(whys, "\n"))
		}
	}
}
