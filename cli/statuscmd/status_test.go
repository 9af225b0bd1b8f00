package statuscmd

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli/statuscmd -update)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs from golden; got:\n%s", path, got)
	}
}

func TestObjectsTable(t *testing.T) {
	r := runStatus(t, "-f", "testdata/broken.yaml")
	if r.code != 1 {
		t.Fatalf("code %d, want 1 (objects not OK)\n%s", r.code, r.stderr)
	}
	golden(t, "broken.txt", r.stdout)
	// broken.yaml's routes also name two Gateways that do not exist.
	if !strings.Contains(r.stderr, "6 object rows are not OK (not accepted, conflicted, partially invalid or unresolved references)") {
		t.Errorf("stderr: %q", r.stderr)
	}

	r = runStatus(t, "-f", "../diffcmd/testdata/gateway.yaml")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("all accepted: code %d\n%s", r.code, r.stderr)
	}
	golden(t, "gateway.txt", r.stdout)
}

func TestObjectsJSONAndYAML(t *testing.T) {
	r := runStatus(t, "-f", "testdata/broken.yaml", "-o", "json")
	var rep Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.stdout)
	}
	var api, partial *ObjectStatus
	for i := range rep.Objects {
		if rep.Objects[i].Kind == "HTTPRoute" && rep.Objects[i].Name == "api" && api == nil {
			api = &rep.Objects[i]
		}
		if rep.Objects[i].Kind == "HTTPRoute" && rep.Objects[i].Name == "partial" {
			partial = &rep.Objects[i]
		}
	}
	if api == nil || api.OK || api.ResolvedRefs != "False" || api.Reason != "BackendNotFound" || api.Parent != "default/eg (http)" || !strings.HasSuffix(api.Origin, "broken.yaml:55") {
		t.Errorf("HTTPRoute default/api row: %+v", api)
	}
	// Accepted and resolved, but a rule was dropped: not OK.
	if partial == nil || partial.OK || partial.Accepted != "True" || partial.ResolvedRefs != "True" || partial.Reason != "UnsupportedValue" || !strings.Contains(partial.Message, "Dropped Rule(s) [1]") {
		t.Errorf("HTTPRoute default/partial row: %+v", partial)
	}
	if r.code != 1 {
		t.Errorf("-o json keeps the exit status: %d", r.code)
	}

	r = runStatus(t, "-f", "testdata/broken.yaml", "-o", "yaml")
	var fromYAML Report
	if err := yaml.Unmarshal([]byte(r.stdout), &fromYAML); err != nil || len(fromYAML.Objects) != len(rep.Objects) {
		t.Errorf("-o yaml: %v, %d objects", err, len(fromYAML.Objects))
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "nothing to show"},
		{[]string{"-f", "testdata/broken.yaml", "-o", "wide"}, "--output"},
		{[]string{"--admin", "nohost"}, "HOST:PORT"},
		{[]string{"-f", "testdata/missing.yaml"}, "missing.yaml"},
		{[]string{"extra", "-f", "testdata/broken.yaml"}, "unknown input resource type: extra"},
		{[]string{"gateway", "httproute", "-f", "testdata/broken.yaml"}, "at most one TYPE"},
		{[]string{"gateway", "--admin", "127.0.0.1:1"}, "TYPE lists objects from manifests"},
		{[]string{"-A", "-f", "testdata/broken.yaml"}, "-A goes with a TYPE"},
	} {
		r := runStatus(t, tc.args...)
		if r.code != 2 {
			t.Errorf("%v: code %d, want 2\n%s", tc.args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, r.stderr, tc.want)
		}
	}
}

func TestUnreachableProxy(t *testing.T) {
	r := runStatus(t, "--admin", "127.0.0.1:1", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stdout, "Proxy 127.0.0.1:1") || !strings.Contains(r.stdout, "connection refused") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
