package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// noPluginTag keeps the standard library's plugin package out of egctl:
// kustomize's Go plugin loader imports it, and a cgo build importing it
// is linked as a program that loads plugins, 26 MB larger
// (docs/performance.md "Binary size").
const noPluginTag = "kustomize_disable_go_plugin_support"

// TestBuildsLeaveOutPluginLoader: every recipe that builds egctl (make
// build, the Dockerfile, goreleaser, the GitHub Action's go install, make
// bench) passes the tag.
func TestBuildsLeaveOutPluginLoader(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	mk := read("Makefile")
	if !regexp.MustCompile(`(?m)^TAGS := .*\b` + noPluginTag + `\b`).MatchString(mk) {
		t.Errorf("Makefile: TAGS lacks %s", noPluginTag)
	}
	if !regexp.MustCompile(`(?m)^\t\$\(GO\) build .*-tags '\$\(TAGS\)'.* -o bin/egctl `).MatchString(mk) {
		t.Errorf("Makefile: the build target does not pass -tags '$(TAGS)'")
	}
	for _, run := range dockerStages(t)["build"].runs {
		if strings.HasPrefix(run, "go build ") && !strings.Contains(run, "-tags "+noPluginTag) {
			t.Errorf("Dockerfile: %s: lacks -tags %s", run, noPluginTag)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+- -tags=` + noPluginTag + `$`).MatchString(read(".goreleaser.yaml")) {
		t.Errorf(".goreleaser.yaml: the build's flags lack -tags=%s", noPluginTag)
	}
	if !strings.Contains(read("action.yml"), "go install -tags "+noPluginTag+" github.com/egctl/egctl/cmd/egctl@") {
		t.Errorf("action.yml: go install lacks -tags %s", noPluginTag)
	}
	if !strings.Contains(read("test/bench/run.sh"), "build -trimpath -tags "+noPluginTag+" ") {
		t.Errorf("test/bench/run.sh: the build of bin/egctl lacks -tags %s (make bench reports its size)", noPluginTag)
	}
}

// TestLinkedPackages: built as the recipes build it, egctl links neither
// the plugin package nor client-go's kubernetes/scheme (every API group of
// Kubernetes, 14 MB; egctl reads pods only, cli/configcmd/kube.go).
func TestLinkedPackages(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", noPluginTag, "./cmd/egctl")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	if !deps["sigs.k8s.io/kustomize/api/krusty"] || !deps["k8s.io/client-go/tools/portforward"] {
		t.Fatalf("go list printed no kustomize or port-forward: not egctl's dependencies?\n%.500s", out)
	}
	for _, p := range []string{"plugin", "k8s.io/client-go/kubernetes/scheme", "k8s.io/client-go/kubernetes/typed/core/v1"} {
		if deps[p] {
			t.Errorf("egctl links %s", p)
		}
	}
}
