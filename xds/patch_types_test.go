package xds

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// patchTypesSkipped are the API packages patch_types.go leaves out: xDS
// services, admin data and annotations (never inside a resource), and the
// OpenTelemetry ones, which need a module egctl does not depend on.
func patchTypesSkipped(pkg string) bool {
	for _, s := range []string{"/service/", "/watchdog/", "/annotations", "/data/", "open_telemetry", "opentelemetry"} {
		if strings.Contains(pkg, s) {
			return true
		}
	}
	return false
}

// TestPatchTypesComplete keeps patch_types.go listing every Envoy API
// package of the go-control-plane version egctl builds with.
func TestPatchTypesComplete(t *testing.T) {
	const mod = "github.com/envoyproxy/go-control-plane/envoy"
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("%s not found: %v", mod, err)
	}
	want := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pb.go") {
			pkg := mod + strings.TrimPrefix(filepath.ToSlash(filepath.Dir(p)), filepath.ToSlash(dir))
			if !patchTypesSkipped(pkg) {
				want[pkg] = true
			}
		}
		return nil
	})
	f, err := parser.ParseFile(token.NewFileSet(), "patch_types.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		have[p] = true
	}
	var missing []string
	for p := range want {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("patch_types.go misses %d packages:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
