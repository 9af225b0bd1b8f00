// Package ci tests the files that wire egctl into CI: the GitHub Action's
// script, the pre-commit hook, the Dockerfile's build stage and the
// goreleaser build, each run here as plain commands (no Docker daemon,
// goreleaser or GitHub runner is needed).
package ci

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

const root = "../.."

var (
	staticOnce sync.Once
	staticBin  string
	staticErr  error
	cloned     bool // built from a git clone: the build info names its commit
	buildDir   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dockerBuild runs the Dockerfile's build stage as plain commands: its
// ENV, then its `go build` with /out replaced by a temporary directory.
// The binary is shared by the tests that need an egctl.
func dockerBuild(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds egctl (-short)")
	}
	staticOnce.Do(func() {
		stage := dockerStages(t)["build"]
		if stage == nil {
			t.Fatal("Dockerfile: no stage named build")
		}
		dir, err := os.MkdirTemp("", "egctl-ci-")
		if err != nil {
			staticErr = err
			return
		}
		buildDir = dir
		var build string
		for _, run := range stage.runs {
			if strings.HasPrefix(run, "go build ") {
				build = strings.ReplaceAll(run, "/out/", dir+"/")
			}
		}
		if build == "" {
			staticErr = errString("Dockerfile: the build stage has no `go build`")
			return
		}
		// Built in a fresh clone of the checkout, as a clean clone or the
		// image's build context is (a git worktree's .git is a file, which
		// the go command does not read VCS information from). Without git,
		// the tree itself.
		src := filepath.Join(dir, "src")
		cloned = exec.Command("git", "clone", "-q", "--shared", root, src).Run() == nil
		if !cloned {
			src = root
		}
		cmd := exec.Command("sh", "-c", build)
		cmd.Dir = src
		// The golang image stamps VCS information (its GOFLAGS are empty);
		// a machine's GOFLAGS=-buildvcs=false would hide what it does.
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
		cmd.Env = append(cmd.Env, stage.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = errString(build + ": " + err.Error() + "\n" + string(out))
			return
		}
		staticBin = filepath.Join(dir, "egctl")
	})
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticBin
}

type errString string

func (e errString) Error() string { return string(e) }

type dockerStage struct {
	from string
	env  []string
	runs []string
	rest []string // COPY, ENTRYPOINT, ...
}

// dockerStages reads the Dockerfile's stages by name ("" for the last
// unnamed one). Only what this Dockerfile uses is understood.
func dockerStages(t *testing.T) map[string]*dockerStage {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages := map[string]*dockerStage{}
	var cur *dockerStage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			image, name, _ := strings.Cut(arg, " AS ")
			cur = &dockerStage{from: image}
			stages[strings.TrimSpace(name)] = cur
		case "ENV":
			cur.env = append(cur.env, strings.Fields(arg)...)
		case "RUN":
			cur.runs = append(cur.runs, arg)
		default:
			cur.rest = append(cur.rest, line)
		}
	}
	return stages
}

func TestDockerfileStaticDistroless(t *testing.T) {
	bin := dockerBuild(t)
	// Static: no program interpreter (the distroless static image has no
	// libc).
	ef, err := elf.Open(bin)
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skip("not an ELF platform")
		}
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("egctl from the Dockerfile's build stage is dynamically linked")
		}
	}
	final := dockerStages(t)[""]
	if final == nil || !strings.HasPrefix(final.from, "gcr.io/distroless/static") {
		t.Fatalf("the last stage is not distroless static: %+v", final)
	}
	joined := strings.Join(final.rest, "\n")
	if !strings.Contains(joined, "COPY --from=build /out/egctl /egctl") || !strings.Contains(joined, `ENTRYPOINT ["/egctl"]`) {
		t.Fatalf("the last stage does not run the built egctl:\n%s", joined)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit, GatewayAPI string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	// Built from a git checkout, the build info names the commit; the
	// version is the module's (a pseudo-version without a tag), not "dev".
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err == nil && cloned {
		if v.Commit != strings.TrimSpace(string(head)) {
			t.Errorf("commit %q, want HEAD %s", v.Commit, head)
		}
		if v.Version == "dev" || v.Version == "" {
			t.Errorf("version %q: want the version from the build info", v.Version)
		}
	}
	if !strings.HasPrefix(v.GatewayAPI, "v1.") {
		t.Errorf("gatewayAPI %q", v.GatewayAPI)
	}
}

// TestGoreleaserBuild runs the goreleaser build for this platform as the
// go command goreleaser would run (its env, flags, ldflags with the
// templates filled in) and checks the linked version.
func TestGoreleaserBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds egctl (-short)")
	}
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int
		Builds  []struct {
			ID, Main, Binary string
			Env, Flags       []string
			Ldflags          []string
			Goos, Goarch     []string
		}
		Archives []struct{ Formats []string }
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 || len(cfg.Archives) == 0 {
		t.Fatalf("goreleaser config: version %d, %d builds, %d archives", cfg.Version, len(cfg.Builds), len(cfg.Archives))
	}
	b := cfg.Builds[0]
	for _, want := range []string{"linux", "darwin"} {
		if !contains(b.Goos, want) {
			t.Errorf("goos %v lacks %s", b.Goos, want)
		}
	}
	if !contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("env %v: want a static build", b.Env)
	}
	fill := strings.NewReplacer("{{ .Version }}", "v9.8.7", "{{ .FullCommit }}", "0123456789abcdef")
	ldflags := fill.Replace(strings.Join(b.Ldflags, " "))
	if strings.Contains(ldflags, "{{") {
		t.Fatalf("ldflags use a template this test does not know: %s", ldflags)
	}
	bin := filepath.Join(t.TempDir(), b.Binary)
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-ldflags", ldflags, "-o", bin, b.Main)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), b.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^egctl v9\.8\.7\b`).Match(out) || !strings.Contains(string(out), "0123456789abcdef") {
		t.Errorf("egctl version of the release build:\n%s", out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const gateway = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: 8080}
`

func route(host, backend string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [` + host + `]
  rules:
  - backendRefs: [{name: ` + backend + `, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{port: 80}]
`
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestActionScript runs the Action's script in a repository with a base
// branch and a change on top, as a pull request's job would.
func TestActionScript(t *testing.T) {
	egctl := dockerBuild(t)
	repo := t.TempDir()
	writeFiles(t, repo, map[string]string{"deploy/gw.yaml": gateway, "deploy/route.yaml": route("a.example.com", "web")})
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "base")
	// The change: a new hostname, and a second route to a Service that
	// does not exist.
	writeFiles(t, repo, map[string]string{
		"deploy/route.yaml":  route("b.example.com", "web"),
		"deploy/broken.yaml": strings.Replace(strings.SplitN(route("c.example.com", "missing"), "---", 2)[0], "name: r,", "name: broken,", 1),
	})
	run := func(env ...string) (stdout string, code int, outputs, summary string) {
		t.Helper()
		tmp := t.TempDir()
		outFile, sumFile := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
		cmd := exec.Command("bash", filepath.Join(root, "ci", "action.sh"))
		abs, _ := filepath.Abs(filepath.Join(root, "ci", "action.sh"))
		cmd.Args[1] = abs
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "EGCTL="+egctl, "RUNNER_TEMP="+tmp, "GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+sumFile, "GITHUB_BASE_REF=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.Output()
		code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		o, _ := os.ReadFile(outFile)
		s, _ := os.ReadFile(sumFile)
		return string(out), code, string(o), string(s)
	}

	stdout, code, outputs, summary := run("INPUT_FILES=deploy", "GITHUB_BASE_REF=main", "INPUT_DIFF_ARGS=--lean")
	if code != 1 {
		t.Errorf("exit status %d, want 1 (a backend is missing)\n%s", code, stdout)
	}
	if !regexp.MustCompile(`(?m)^::error file=deploy/broken.yaml,line=1,title=EGC3001 BackendNotFound::HTTPRoute default/broken: `).MatchString(stdout) {
		t.Errorf("no annotation for the broken route:\n%s", stdout)
	}
	m := regexp.MustCompile(`(?m)^junit=(.*)$`).FindStringSubmatch(outputs)
	if m == nil {
		t.Fatalf("no junit output in %q", outputs)
	}
	if x, err := os.ReadFile(m[1]); err != nil || !strings.Contains(string(x), `<failure message="ResolvedRefs BackendNotFound`) {
		t.Errorf("junit report %s: %v\n%s", m[1], err, x)
	}
	if !strings.Contains(summary, "### Envoy configuration diff") || !strings.Contains(summary, "changed route") && !strings.Contains(summary, "b.example.com") {
		t.Errorf("step summary has no diff of the change:\n%s", summary)
	}
	if !regexp.MustCompile(`(?m)^diff=.*egctl-diff.md$`).MatchString(outputs) {
		t.Errorf("no diff output in %q", outputs)
	}

	// Extra flags reach validate: the broken route's code silenced, the
	// job passes; outside a pull request there is no diff.
	stdout, code, outputs, summary = run("INPUT_FILES=deploy", "INPUT_ARGS=--suppress EGC3001 --strict")
	if code != 0 || strings.Contains(stdout, "::error") {
		t.Errorf("with --suppress EGC3001: exit %d\n%s", code, stdout)
	}
	if summary != "" || !strings.Contains(outputs, "diff=\n") {
		t.Errorf("a diff without a base ref: outputs %q, summary %q", outputs, summary)
	}
}

// TestPreCommitHook runs the hook as pre-commit would: its entry and args
// in the repository's root, with no file names.
func TestPreCommitHook(t *testing.T) {
	egctl := dockerBuild(t)
	data, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID, Entry, Language string
		Args                []string
		PassFilenames       *bool `json:"pass_filenames"`
		Files               string
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].ID != "egctl-validate" || hooks[0].Language != "golang" {
		t.Fatalf("hooks: %+v", hooks)
	}
	h := hooks[0]
	if h.PassFilenames == nil || *h.PassFilenames {
		t.Error("pass_filenames must be false: a route and its Gateway are in different files")
	}
	if !regexp.MustCompile(h.Files).MatchString("deploy/gw.yaml") {
		t.Errorf("files %q does not match a YAML manifest", h.Files)
	}
	entry := strings.Fields(h.Entry)
	if entry[0] != "egctl" {
		t.Fatalf("entry %q", h.Entry)
	}
	hook := func(dir string) int {
		cmd := exec.Command(egctl, append(entry[1:], h.Args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	good := t.TempDir()
	writeFiles(t, good, map[string]string{"gw.yaml": gateway, "route.yaml": route("a.example.com", "web")})
	if code := hook(good); code != 0 {
		t.Errorf("good manifests: exit %d", code)
	}
	bad := t.TempDir()
	writeFiles(t, bad, map[string]string{"gw.yaml": gateway, "route.yaml": route("a.example.com", "missing")})
	if code := hook(bad); code != 1 {
		t.Errorf("a missing backend: exit %d, want 1", code)
	}
}
