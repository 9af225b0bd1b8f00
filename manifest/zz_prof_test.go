package manifest

import (
	"os"
	"testing"
	"time"
)

func TestZZLoad10k(t *testing.T) {
	p := os.Getenv("ZZ_FILE")
	if p == "" {
		t.Skip()
	}
	t0 := time.Now()
	_, _, err := Load([]string{p}, Options{SkipAPIValidation: os.Getenv("ZZ_SKIP") == "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load %v", time.Since(t0))
}
