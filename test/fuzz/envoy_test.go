package fuzz

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// TestBootstrapsLoadInEnvoy: what egctl compiles, Envoy must load. Every
// seed (and every corpus entry under $EGCTL_FUZZ_CORPUS, e.g. the fuzz
// cache, for a deeper run) is compiled and checked with `envoy --mode
// validate`. Validation binds no port.
func TestBootstrapsLoadInEnvoy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Envoy once per input")
	}
	bin := envoytest.Find(t)
	inputs := append(seeds(t), corpusDir(t, filepath.Join("testdata", "fuzz", "FuzzPipeline"))...)
	if dir := os.Getenv("EGCTL_FUZZ_CORPUS"); dir != "" {
		inputs = append(inputs, corpusDir(t, dir)...)
	}
	tmp := t.TempDir()
	deadline := time.Now().Add(3 * time.Minute)
	checked := 0
	defer func() { t.Logf("Envoy validated %d bootstraps from %d inputs", checked, len(inputs)) }()
	for _, s := range inputs {
		if time.Now().After(deadline) {
			t.Logf("time bound reached; stopped before %s", s.name)
			break
		}
		set, _, err := manifest.LoadBytes("in.yaml", s.data, manifest.Options{})
		if err != nil {
			continue
		}
		res, err := translate.Translate(set, translate.Options{})
		if err != nil {
			continue // FuzzPipeline reports it
		}
		all, err := xds.Translate(res.IR)
		if err != nil {
			continue
		}
		for i, r := range all {
			bs, err := xds.StaticBootstrap(r, xds.BootstrapOptions{})
			if err != nil {
				continue
			}
			y, err := xds.Marshal(bs, "yaml")
			if err != nil {
				continue
			}
			p := filepath.Join(tmp, "bootstrap-"+strconv.Itoa(i)+".yaml")
			if err := os.WriteFile(p, y, 0o644); err != nil {
				t.Fatal(err)
			}
			checked++
			if msg := envoyValidate(bin, p); msg != "" {
				t.Errorf("%s: proxy %d: Envoy refuses the bootstrap: %s", s.name, i, msg)
			}
		}
	}
}

// envoyValidate returns Envoy's complaint about the bootstrap at path, or "".
func envoyValidate(bin, path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--mode", "validate", "-c", path, "--log-level", "critical")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	msg := lines[len(lines)-1]
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// corpusDir reads go-fuzz corpus files ("go test fuzz v1" + one []byte).
func corpusDir(t *testing.T, dir string) []seed {
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	var out []seed
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(raw), "\n", 2)
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			continue
		}
		lit := strings.TrimSpace(lines[1])
		lit = strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")")
		v, err := strconv.Unquote(lit)
		if err != nil {
			continue
		}
		out = append(out, seed{"corpus/" + filepath.Base(p), []byte(v)})
	}
	return out
}
