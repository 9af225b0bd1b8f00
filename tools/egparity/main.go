// Command egparity compares egctl's xDS with Envoy Gateway's own egctl, on
// Envoy Gateway's translator test inputs turned into manifests.
//
// It lives in its own module so that Envoy Gateway's egctl (built from its
// module at the version egctl's go.mod names, `make egparity`) and its
// dependencies stay out of egctl's go.mod. It runs both binaries on each
// input (`x translate --to xds -t all -o json`), canonicalises every
// resource (compact JSON, sorted keys) and prints, per kind of input and per
// resource type, how many resources have the same names and the same bytes,
// and the field paths that differ most often. Nothing of Envoy Gateway is
// copied: its inputs are read from the module cache at run time.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	var (
		egBin    = flag.String("eg", "", "Envoy Gateway's egctl binary")
		oursBin  = flag.String("egctl", "", "egctl binary")
		casesDir = flag.String("cases", "", "Envoy Gateway's internal/gatewayapi/testdata (default: from the module cache)")
		workDir  = flag.String("work", "", "keep each case's manifest and both outputs here")
		run      = flag.String("run", "", "only cases whose name contains this")
		top      = flag.Int("top", 25, "field paths to list")
		jobs     = flag.Int("j", 2, "cases run at once")
		markdown = flag.Bool("md", false, "print the tables as Markdown")
		show     = flag.Bool("show", false, "print every differing resource of every case")
		oursArgs = flag.String("egctl-args", "", "extra arguments for egctl (space separated)")
		clean    = flag.Bool("clean", false, "count only the cases egctl translates without a problem (exit 0)")
		ignore   = flag.String("ignore", "", "comma-separated field names to drop on both sides before comparing (what-if: \"accessLog\")")
	)
	flag.Parse()
	if *egBin == "" || *oursBin == "" {
		fmt.Fprintln(os.Stderr, "egparity: -eg and -egctl are required")
		os.Exit(2)
	}
	dir := *casesDir
	if dir == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/envoyproxy/gateway").Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "egparity: finding Envoy Gateway's module: %v\n", err)
			os.Exit(2)
		}
		dir = filepath.Join(strings.TrimSpace(string(out)), "internal", "gatewayapi", "testdata")
	}
	base, err := loadBase(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "egparity: %v\n", err)
		os.Exit(2)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	var names []string
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".in.yaml")
		if strings.Contains(n, *run) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintf(os.Stderr, "egparity: no cases in %s\n", dir)
		os.Exit(2)
	}
	tmp := *workDir
	if tmp == "" {
		tmp, err = os.MkdirTemp("", "egparity")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer os.RemoveAll(tmp)
	}
	extra := strings.Fields(*oursArgs)
	if *ignore != "" {
		ignoredKeys = strings.Split(*ignore, ",")
	}

	results := make([]*caseResult, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(*jobs, 1))
	start := time.Now()
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = runCase(dir, tmp, n, base, *egBin, *oursBin, extra)
		}()
	}
	wg.Wait()

	if *clean {
		kept := results[:0]
		for _, r := range results {
			if r.EGOK && r.OursClean {
				kept = append(kept, r)
			}
		}
		results = kept
	}
	rep := summarize(results)
	rep.print(os.Stdout, *markdown, *top)
	fmt.Fprintf(os.Stdout, "\n%d cases in %s.\n", len(names), time.Since(start).Round(time.Second))
	if *show {
		for _, r := range results {
			if len(r.diffs) == 0 {
				continue
			}
			fmt.Printf("\n== %s (%s)\n", r.Name, r.Kind)
			for _, d := range r.diffs {
				fmt.Println("  " + d)
			}
		}
	}
}

func runCase(dir, tmp, name string, base []map[string]any, egBin, oursBin string, extra []string) *caseResult {
	r := &caseResult{Name: name}
	in, err := convertCase(dir, name, base)
	if err != nil {
		r.Kind, r.EGErr, r.OursErr = "Gateway", err.Error(), err.Error()
		return r
	}
	r.Kind = kindOfCase(in.Keys)
	cdir := filepath.Join(tmp, name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		r.EGErr = err.Error()
		return r
	}
	manifest := filepath.Join(cdir, "in.yaml")
	if err := os.WriteFile(manifest, in.Manifest, 0o644); err != nil {
		r.EGErr = err.Error()
		return r
	}
	args := []string{"x", "translate", "-f", manifest, "--to", "xds", "-t", "all", "-o", "json"}
	egOut, egCode, egErr := cachedRun(cdir, in.Manifest, egBin, args)
	oursOut, oursCode, oursErr := runBin(oursBin, append(args, extra...))
	_ = os.WriteFile(filepath.Join(cdir, "egctl.json"), oursOut, 0o644)

	var eg, ours proxyResources
	if egCode == 0 {
		if eg, err = parseOutput(egOut); err != nil {
			egErr = "unparseable output: " + err.Error()
		}
	}
	r.EGOK = egCode == 0 && eg != nil && len(eg) > 0
	if !r.EGOK && egErr == "" {
		egErr = fmt.Sprintf("exit %d, %d proxies", egCode, len(eg))
	}
	r.EGErr = firstLine(egErr)
	if oursCode == 0 || oursCode == 1 {
		if ours, err = parseOutput(oursOut); err != nil {
			oursErr = "unparseable output: " + err.Error()
		}
	}
	r.OursOK = (oursCode == 0 || oursCode == 1) && ours != nil
	r.OursClean = r.OursOK && oursCode == 0
	if !r.OursOK {
		r.OursErr = fmt.Sprintf("exit %d: %s", oursCode, firstLine(oursErr))
	}
	if r.EGOK {
		if ours == nil {
			ours = proxyResources{}
		}
		compareOutputs(eg, ours, r)
	}
	return r
}

// cachedRun runs Envoy Gateway's egctl, or returns what it printed for the
// same manifest last time (in the work directory): it is the slow side, and
// its output only changes with its binary.
func cachedRun(dir string, manifest []byte, bin string, args []string) ([]byte, int, string) {
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, -1, err.Error()
	}
	sum := sha256.Sum256(manifest)
	key := fmt.Sprintf("%x %s %d %d", sum, filepath.Base(bin), fi.Size(), fi.ModTime().UnixNano())
	keyFile, outFile, errFile := filepath.Join(dir, "eg.key"), filepath.Join(dir, "eg.json"), filepath.Join(dir, "eg.stderr")
	if k, err := os.ReadFile(keyFile); err == nil {
		if f := strings.SplitN(string(k), "\n", 2); len(f) == 2 && sameKey(f[0], key) {
			out, err1 := os.ReadFile(outFile)
			stderr, err2 := os.ReadFile(errFile)
			code, err3 := strconv.Atoi(strings.TrimSpace(f[1]))
			if err1 == nil && err2 == nil && err3 == nil {
				return out, code, string(stderr)
			}
		}
	}
	out, code, stderr := runBin(bin, args)
	_ = os.WriteFile(outFile, out, 0o644)
	_ = os.WriteFile(errFile, []byte(stderr), 0o644)
	if code >= 0 {
		_ = os.WriteFile(keyFile, []byte(fmt.Sprintf("%s\n%d\n", key, code)), 0o644)
	}
	return out, code, stderr
}

// sameKey compares two cache keys but for the binary's directory: the same
// binary is named by a relative path from tools/egparity or by the absolute
// one make passes, and a key naming the path missed the cache every time.
func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != 4 || len(fb) != 4 {
		return false
	}
	fa[1], fb[1] = filepath.Base(fa[1]), filepath.Base(fb[1])
	return slices.Equal(fa, fb)
}

func runBin(bin string, args []string) ([]byte, int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return nil, -1, err.Error()
	}
	return stdout.Bytes(), code, stderr.String()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
