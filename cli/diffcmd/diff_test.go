package diffcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egctl/egctl/diff"
	"github.com/egctl/egctl/diff/difftest"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

func TestManifestsVsManifests(t *testing.T) {
	r := runDiff(t, "testdata/gateway.yaml", "testdata/gateway.yaml", "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "No differences: 1 proxy, 6 resources compared.") {
		t.Fatalf("same input: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = runDiff(t, "testdata/gateway.yaml", "testdata/gateway-v2.yaml")
	if r.code != 0 {
		t.Fatalf("without --exit-code a difference exits 0; got %d\n%s", r.code, r.stderr)
	}
	r = runDiff(t, "testdata/gateway.yaml", "testdata/gateway-v2.yaml", "--exit-code")
	if r.code != 1 {
		t.Fatalf("--exit-code with a difference: code %d, want 1", r.code)
	}
	for _, want := range []string{
		"default/eg  route     0      0        1        0",
		"--- testdata/gateway.yaml: default/eg route default/eg/http\n",
		"+++ testdata/gateway-v2.yaml: default/eg route default/eg/http\n",
		"-      pathSeparatedPrefix: /api\n+      pathSeparatedPrefix: /api/v2\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colour codes without a terminal")
	}
}

func TestOutputFormats(t *testing.T) {
	r := runDiff(t, "testdata/gateway.yaml", "testdata/gateway-v2.yaml", "-o", "json")
	var entries []diff.Entry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || r.code != 0 {
		t.Fatalf("-o json: code %d, %v\n%s", r.code, err, r.stdout)
	}
	if len(entries) != 2 || entries[0].Type != "route" || entries[1].Type != "endpoint" || entries[0].Proxy != "default/eg" || entries[0].Change != diff.Changed {
		t.Errorf("entries: %+v", entries)
	}

	r = runDiff(t, "testdata/gateway.yaml", "testdata/gateway-v2.yaml", "-o", "markdown")
	for _, want := range []string{"| `default/eg` | route | 0 | 0 | 1 | 0 |", "```diff\n", "<details>"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("-o markdown lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"testdata/gateway.yaml"}, "two arguments"},
		{[]string{"a", "b", "c"}, "two arguments"},
		{[]string{"-", "-"}, "only one of OLD and NEW"},
		{[]string{"testdata/gateway.yaml", "testdata/gateway.yaml", "-o", "xml"}, "--output"},
		{[]string{"testdata/gateway.yaml", "testdata/gateway.yaml", "--gateway", "eg"}, "namespace/name"},
		{[]string{"testdata/gateway.yaml", "testdata/gateway.yaml", "--gateway", "default/nope"}, "not in testdata/gateway.yaml (have: default/eg)"},
		{[]string{"testdata/missing.yaml", "testdata/gateway.yaml"}, "missing.yaml"},
		{[]string{"testdata/gateway.yaml", "testdata/gateway.yaml", "--bogus"}, "unknown flag"},
		{[]string{"admin://127.0.0.1:1", "testdata/gateway.yaml", "--timeout", "2s"}, "127.0.0.1:1"},
	} {
		r := runDiff(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestStdin(t *testing.T) {
	src, err := os.ReadFile("testdata/gateway-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := execute(t, NewCmd, strings.NewReader(string(src)), "testdata/gateway.yaml", "-", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "default/eg/http"`) {
		t.Fatalf("stdin: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// compileFile runs the pipeline on a manifest file.
func compileFile(t *testing.T, path string) []*xds.Resources {
	t.Helper()
	set, _, err := manifest.Load([]string{path}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := translate.Translate(set, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// writeTranslateOutput saves what `egctl x translate --to xds -o json`
// prints: {"xds": {"ns/gw": <config dump>}}.
func writeTranslateOutput(t *testing.T, path string, all []*xds.Resources) {
	t.Helper()
	byName := map[string]json.RawMessage{}
	for _, r := range all {
		boot, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{NodeID: r.Name, XDSHost: "127.0.0.1", XDSPort: 18000})
		if err != nil {
			t.Fatal(err)
		}
		d, err := xds.ConfigDump(r, boot, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := xds.Marshal(d, "json")
		if err != nil {
			t.Fatal(err)
		}
		byName[r.Name] = b
	}
	doc, _ := json.Marshal(map[string]any{"xds": byName})
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSavedDumps(t *testing.T) {
	dir := t.TempDir()
	all := compileFile(t, "testdata/two-gateways.yaml")
	keyed := filepath.Join(dir, "translate.json")
	writeTranslateOutput(t, keyed, all)

	r := runDiff(t, "testdata/two-gateways.yaml", keyed, "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "No differences: 2 proxies") {
		t.Fatalf("manifests vs their own translate output: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A single /config_dump file of the proxy default/eg: paired by node id
	// with the right gateway among two.
	var eg *xds.Resources
	for _, r := range all {
		if r.Name == "default/eg" {
			eg = r
		}
	}
	boot, _ := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{NodeID: "default/eg", XDSHost: "127.0.0.1", XDSPort: 18000})
	d, _ := xds.ConfigDump(eg, boot, nil)
	b, _ := xds.Marshal(d, "yaml")
	single := filepath.Join(dir, "config_dump.yaml")
	if err := os.WriteFile(single, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runDiff(t, single, "testdata/two-gateways.yaml", "--gateway", "default/eg", "--exit-code")
	if r.code != 0 {
		t.Fatalf("dump vs manifests with --gateway: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, single, "testdata/two-gateways.yaml", "--exit-code")
	if r.code != 1 || !strings.Contains(r.stdout, "default/internal") {
		t.Fatalf("dump vs two gateways: default/eg pairs by node id, default/internal is added; code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A bootstrap file (static form) against manifests (dynamic form).
	bs := difftest.StaticBootstrap(t, mustRead(t, "testdata/gateway.yaml"), 19000)
	bf := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(bf, difftest.Marshal(t, bs), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runDiff(t, "testdata/gateway.yaml", bf, "--exit-code")
	if r.code != 0 {
		t.Fatalf("manifests vs their static bootstrap: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDiff(t, bf, "testdata/gateway-v2.yaml", "--exit-code", "-o", "json")
	if r.code != 1 || !strings.Contains(r.stdout, `"type": "route"`) || !strings.Contains(r.stdout, `"type": "endpoint"`) {
		t.Fatalf("static bootstrap vs changed manifests: inline routes and endpoints are reported by type; code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSingleLiveVsSeveralNeedsGateway(t *testing.T) {
	dir := t.TempDir()
	boot, _ := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{NodeID: "some-pod", XDSHost: "127.0.0.1", XDSPort: 18000})
	d, _ := xds.ConfigDump(&xds.Resources{Name: "x"}, boot, nil)
	b, _ := xds.Marshal(d, "json")
	f := filepath.Join(dir, "dump.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runDiff(t, f, "testdata/two-gateways.yaml")
	if r.code != 2 || !strings.Contains(r.stderr, "--gateway") {
		t.Fatalf("code %d\n%s", r.code, r.stderr)
	}
	r = runDiff(t, f, "testdata/two-gateways.yaml", "--gateway", "default/internal", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"proxy": "default/internal"`) {
		t.Fatalf("with --gateway: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// One saved section (as `egctl config dump listener` prints it) compares
// only what it holds, and says so.
func TestSectionDump(t *testing.T) {
	all := compileFile(t, "testdata/gateway.yaml")
	d, err := xds.ConfigDump(all[0], nil, []string{xds.DumpListener})
	if err != nil {
		t.Fatal(err)
	}
	b, err := xds.Marshal(d.GetConfigs()[0], "yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "listeners.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runDiff(t, "testdata/gateway-v2.yaml", f, "--exit-code")
	if r.code != 0 {
		t.Fatalf("listeners agree, the rest is not compared: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "No differences: 1 proxy, 1 resource compared.") ||
		!strings.Contains(r.stdout, "Not compared for default/eg: route, cluster, endpoint, secret (absent from one side's config dump).") {
		t.Errorf("output:\n%s", r.stdout)
	}
	// JSON has no room for the note: it goes to stderr.
	r = runDiff(t, "testdata/gateway-v2.yaml", f, "-o", "json")
	if strings.TrimSpace(r.stdout) != "[]" || !strings.Contains(r.stderr, "warning: Not compared for default/eg: route, cluster, endpoint, secret") {
		t.Errorf("-o json: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// Process substitution hands diff a pipe: it can be read only once.
func TestManifestsFromPipe(t *testing.T) {
	if _, err := os.Stat("/dev/fd"); err != nil {
		t.Skip("no /dev/fd on this system")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		_, _ = w.Write(mustRead(t, "testdata/gateway-v2.yaml"))
		w.Close()
	}()
	pipe := fmt.Sprintf("/dev/fd/%d", r.Fd())
	res := runDiff(t, "testdata/gateway.yaml", pipe, "-o", "json")
	if res.code != 0 || !strings.Contains(res.stdout, "pathSeparatedPrefix: /api/v2") {
		t.Fatalf("code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// Two manifest sets pair Gateways by name: a renamed Gateway is a new
// proxy, not a changed one.
func TestRenamedGateway(t *testing.T) {
	src := strings.ReplaceAll(string(mustRead(t, "testdata/gateway.yaml")), "name: eg\n  namespace: default", "name: eg2\n  namespace: default")
	src = strings.ReplaceAll(src, "parentRefs:\n    - name: eg", "parentRefs:\n    - name: eg2")
	f := filepath.Join(t.TempDir(), "renamed.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runDiff(t, "testdata/gateway.yaml", f, "-o", "json")
	var entries []diff.Entry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	proxies := map[string]diff.Change{}
	for _, e := range entries {
		proxies[e.Proxy] = e.Change
	}
	if proxies["default/eg"] != diff.Removed || proxies["default/eg2"] != diff.Added || len(proxies) != 2 {
		t.Errorf("renamed gateway: %v", proxies)
	}
}
