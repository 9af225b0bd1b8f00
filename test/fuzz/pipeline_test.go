// Package fuzz drives the whole compiler (manifest → translate → ir →
// xds → bootstrap / config dump → YAML) with generated manifests. The
// invariant it checks: any input the loader accepts compiles end to end,
// and compiles to the same bytes every time.
package fuzz

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// compile runs every stage after a successful load and returns the
// concatenated YAML of every proxy's static bootstrap and config dump.
// loaded is false when the loader rejected the input (not a failure).
func compile(data []byte) (out []byte, loaded bool, err error) {
	set, _, lerr := manifest.LoadBytes("fuzz.yaml", data, manifest.Options{})
	if lerr != nil {
		return nil, false, nil
	}
	res, err := translate.Translate(set, translate.Options{})
	if err != nil {
		return nil, true, fmt.Errorf("translate: %w", err)
	}
	if err := res.IR.Validate(); err != nil {
		return nil, true, fmt.Errorf("translate produced invalid IR: %w", err)
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		return nil, true, fmt.Errorf("xds.Translate of a valid IR: %w", err)
	}
	var buf bytes.Buffer
	for i, r := range all {
		bs, err := xds.StaticBootstrap(r, xds.BootstrapOptions{})
		if err != nil {
			return nil, true, fmt.Errorf("proxy %d: StaticBootstrap: %w", i, err)
		}
		if err := bs.ValidateAll(); err != nil {
			return nil, true, fmt.Errorf("proxy %d: bootstrap fails proto validation: %w", i, err)
		}
		y, err := xds.Marshal(bs, "yaml")
		if err != nil {
			return nil, true, fmt.Errorf("proxy %d: marshal bootstrap: %w", i, err)
		}
		buf.Write(y)
		dump, err := xds.ConfigDump(r, bs, nil)
		if err != nil {
			return nil, true, fmt.Errorf("proxy %d: ConfigDump: %w", i, err)
		}
		y, err = xds.Marshal(dump, "yaml")
		if err != nil {
			return nil, true, fmt.Errorf("proxy %d: marshal config dump: %w", i, err)
		}
		buf.Write(y)
	}
	return buf.Bytes(), true, nil
}

// check is the property shared by the fuzz target and the seed test.
func check(t testing.TB, data []byte) {
	t.Helper()
	first, loaded, err := compile(data)
	if !loaded {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := compile(data)
	if err != nil {
		t.Fatalf("second run failed where the first passed: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("non-deterministic output: %d vs %d bytes, first difference at byte %d",
			len(first), len(second), firstDiff(first, second))
	}
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// seed is one named corpus entry.
type seed struct {
	name string
	data []byte
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t testing.TB) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// seeds gathers the golden translate inputs, the YAML sections of the CLI
// scripts and the hand-written structural mutations.
func seeds(t testing.TB) []seed {
	root := repoRoot(t)
	var out []seed
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "translate", "in", "*.yaml"))
	sort.Strings(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, seed{filepath.Base(p), data})
		out = append(out, derived(filepath.Base(p), data)...)
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "cli", "rootcmd", "testdata", "script", "*.txtar"))
	sort.Strings(scripts)
	for _, p := range scripts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range txtarFiles(data) {
			if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
				out = append(out, seed{filepath.Base(p) + "/" + name, body})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		t.Fatal("no seed files found under " + root)
	}
	for _, m := range mutations() {
		out = append(out, seed{"mutation/" + m.name, []byte(m.data)})
	}
	return out
}

// txtarFiles splits a txtar archive into its "-- name --" sections.
func txtarFiles(data []byte) map[string][]byte {
	files := map[string][]byte{}
	var cur string
	var body bytes.Buffer
	flush := func() {
		if cur != "" {
			files[cur] = bytes.Clone(body.Bytes())
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trim := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			flush()
			cur = strings.TrimSpace(trim[3 : len(trim)-3])
			continue
		}
		if cur != "" {
			body.WriteString(line)
		}
	}
	flush()
	return files
}

func FuzzPipeline(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
	})
}

// TestPipelineSeeds runs the corpus (seeds and testdata/fuzz regressions
// are both run by `go test` already through FuzzPipeline; this names each
// seed so a failure says which one).
func TestPipelineSeeds(t *testing.T) {
	for _, s := range seeds(t) {
		t.Run(s.name, func(t *testing.T) { check(t, s.data) })
	}
}

// BenchmarkPipelineSeeds measures one pass over the corpus, which CI runs
// on every change (`go test -run '^$' -bench PipelineSeeds ./test/fuzz`).
func BenchmarkPipelineSeeds(b *testing.B) {
	ss := seeds(b)
	for b.Loop() {
		for _, s := range ss {
			check(b, s.data)
		}
	}
}

// derived rewrites a golden input into structural variants that need its
// certificates and grants: "*" beside no hostname on one port (both mean
// any host), and a second HTTPS listener sharing the port.
func derived(name string, data []byte) []seed {
	if name != "https.yaml" {
		return nil
	}
	const https = "    - name: https\n      protocol: HTTPS\n      port: 443\n      hostname: www.example.com\n"
	const http = "    - name: http\n      protocol: HTTP\n      port: 80\n"
	in := string(data)
	if !strings.Contains(in, https) || !strings.Contains(in, http) {
		return nil
	}
	tls := "      tls:\n        mode: Terminate\n        certificateRefs:\n          - {kind: Secret, name: example-cert, namespace: certs}\n      allowedRoutes:\n        namespaces: {from: All}\n"
	star := strings.Replace(in, https, "    - name: https-any\n      protocol: HTTPS\n      port: 443\n"+tls+https+`      hostname: "*"`+"\n", 1)
	star = strings.Replace(star, "hostname: www.example.com\n      hostname: \"*\"", "hostname: \"*\"", 1)
	return []seed{
		{"derived/https-star-and-none", []byte(star)},
		{"derived/http-star-and-none", []byte(strings.Replace(in, http, http+"      allowedRoutes:\n        namespaces: {from: All}\n    - name: http-any\n      protocol: HTTP\n      port: 80\n      hostname: \"*\"\n", 1))},
		{"derived/https-two-hostnames", []byte(strings.Replace(in, https, "    - name: https-b\n      protocol: HTTPS\n      port: 443\n      hostname: \"*.example.com\"\n"+tls+https, 1))},
	}
}
