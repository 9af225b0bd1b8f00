package configcmd

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// fakeProxy serves testdata/dump.json as /config_dump and records queries.
type fakeProxy struct {
	addr string
	mu   sync.Mutex
	urls []string
}

func (p *fakeProxy) lastURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.urls[len(p.urls)-1]
}

func newProxy(t *testing.T, dumpFile string) *fakeProxy {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", dumpFile))
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProxy{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.urls = append(p.urls, r.URL.String())
		p.mu.Unlock()
		if r.URL.Path != "/config_dump" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	p.addr = strings.TrimPrefix(s.URL, "http://")
	return p
}

// run executes `config ARGS...` in process.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCmd(&cli.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&errOut) // cobra's own usage text, if any, is not data
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	if err != nil && err.Error() != "exit status 1" {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), cli.Code(err)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update to accept):\n--- got ---\n%s", p, got)
	}
}

func TestGolden(t *testing.T) {
	p := newProxy(t, "dump.json")
	for _, tc := range []struct {
		golden  string
		args    []string
		wantURL string
	}{
		{"all.yaml", []string{"dump", "-o", "yaml"}, "/config_dump?include_eds="},
		{"listener.json", []string{"dump", "listener", "-o", "json"}, "/config_dump"},
		{"route-https.yaml", []string{"dump", "route", "--name", "default/eg/https", "-o", "yaml"}, "/config_dump"},
		{"cluster-glob.yaml", []string{"dump", "clusters", "--name", "httproute/default/back*/rule/*", "-o", "yaml"}, "/config_dump"},
		{"endpoint.yaml", []string{"dump", "endpoint", "-o", "yaml"}, "/config_dump?include_eds="},
		{"secret.yaml", []string{"dump", "secret", "-o", "yaml"}, "/config_dump"},
		{"all-name.json", []string{"dump", "all", "--name", "default/eg/http", "-o", "json", "--include-eds"}, "/config_dump?include_eds="},
		{"bootstrap.yaml", []string{"envoy-proxy", "bootstrap", "-o", "yaml"}, "/config_dump"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", append(tc.args, "--admin", p.addr)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if got := p.lastURL(); got != tc.wantURL {
				t.Errorf("asked %s, want %s", got, tc.wantURL)
			}
			golden(t, tc.golden, out)
		})
	}
}

// The input dump carries a private key (base64 in inline_bytes and as
// plain text), a certificate and an HMAC secret: none may show unless
// --show-secrets.
func TestRedaction(t *testing.T) {
	p := newProxy(t, "dump.json")
	const keyText = "supersecretkeymaterial"
	for _, args := range [][]string{{"dump"}, {"dump", "secret", "-o", "json"}, {"dump", "listener"}, {"dump", "bootstrap"}} {
		out, errOut, code := run(t, "", append(args, "--admin", p.addr)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		for _, leak := range []string{keyText, "hmac-very-secret", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS"} {
			if strings.Contains(out, leak) {
				t.Errorf("%v: output leaks %q", args, leak)
			}
		}
	}

	out, _, _ := run(t, "", "dump", "secret", "-o", "json", "--admin", p.addr)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	tc := v["dynamicActiveSecrets"].([]any)[0].(map[string]any)["secret"].(map[string]any)["tlsCertificate"].(map[string]any)
	if tc["privateKey"].(map[string]any)["inlineString"] != "[redacted]" || tc["certificateChain"].(map[string]any)["inlineString"] != "[redacted]" {
		t.Errorf("tls certificate not redacted as expected: %v", tc)
	}
	// Outside Secrets only sensitive fields go: the listener's inline
	// certificate chain (public) stays, its key does not.
	out, _, _ = run(t, "", "dump", "listener", "--admin", p.addr)
	if !strings.Contains(out, "MIIBfakefakefake") || strings.Count(out, "[redacted]") != 1 {
		t.Errorf("listener TLS context redaction wrong:\n%s", out)
	}
	// The bootstrap's static secret keeps its filename reference.
	out, _, _ = run(t, "", "dump", "bootstrap", "--admin", p.addr, "-o", "yaml")
	if !strings.Contains(out, "filename: /certs/tls.crt") {
		t.Errorf("filename reference lost:\n%s", out)
	}

	out, _, code := run(t, "", "dump", "--show-secrets", "--admin", p.addr)
	if code != 0 || !strings.Contains(out, keyText) || !strings.Contains(out, "hmac-very-secret") {
		t.Errorf("--show-secrets hid secrets (exit %d)", code)
	}
}

func TestNameGlob(t *testing.T) {
	p := newProxy(t, "dump.json")
	names := func(args ...string) []string {
		out, errOut, code := run(t, "", append(args, "--admin", p.addr, "-o", "json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		var v struct {
			DynamicListeners []struct{ Name string } `json:"dynamicListeners"`
		}
		json.Unmarshal([]byte(out), &v)
		var n []string
		for _, l := range v.DynamicListeners {
			n = append(n, l.Name)
		}
		return n
	}
	for glob, want := range map[string]string{
		"default/eg/*":     "default/eg/http,default/eg/https",
		"default/eg/http":  "default/eg/http",
		"*/eg/https":       "default/eg/https",
		"default/*":        "", // * does not cross '/'
		"default/eg/htt?s": "default/eg/https",
		"nothing":          "",
	} {
		if got := strings.Join(names("dump", "listener", "--name", glob), ","); got != want {
			t.Errorf("--name %q: %q, want %q", glob, got, want)
		}
	}
	if _, errOut, code := run(t, "", "dump", "listener", "--name", "[", "--admin", p.addr); code != cli.ExitUsage || !strings.Contains(errOut, "syntax error") {
		t.Errorf("bad glob: exit %d %q", code, errOut)
	}
}

func TestSeveralProxies(t *testing.T) {
	a, b := newProxy(t, "dump.json"), newProxy(t, "dump.json")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	file := filepath.Join(t.TempDir(), "proxies.txt")
	os.WriteFile(file, []byte("# fleet\n"+b.addr+"  # second\n\n"+dead+"\n"), 0o644)

	out, errOut, code := run(t, "", "dump", "listener", "--admin", a.addr, "--admin", b.addr, "--admin-file", file, "-o", "json")
	if code != cli.ExitProblems {
		t.Errorf("exit %d, want 1 for one unreachable proxy", code)
	}
	if !strings.Contains(errOut, "no Envoy admin at "+dead+": connection refused") {
		t.Errorf("stderr %q", errOut)
	}
	var v map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(v) != 2 || v[a.addr] == nil || v[b.addr] == nil {
		t.Fatalf("keys: %v", v)
	}
	single, _, _ := run(t, "", "dump", "listener", "--admin", a.addr, "-o", "json")
	var s map[string]any
	json.Unmarshal([]byte(single), &s)
	x, _ := json.Marshal(s)
	y, _ := json.Marshal(v[a.addr])
	if string(x) != string(y) {
		t.Error("a proxy's entry differs from its single-proxy output")
	}

	// From stdin, and all healthy: exit 0.
	if _, errOut, code := run(t, a.addr+"\n"+b.addr+"\n", "dump", "route", "--admin-file", "-"); code != 0 {
		t.Errorf("stdin list: exit %d %s", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(file, []byte("127.0.0.1:19000\nnot-an-address\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dump", "listeners", "my-pod", "--kubeconfig", "/nonexistent/config"}, "kubeconfig: "},
		{[]string{"dump", "listeners", "my-pod", "--admin", "127.0.0.1:19000"}, "use one or the other"},
		{[]string{"dump", "listeners", "my-pod", "extra"}, "at most TYPE and POD"},
		{[]string{"dump", "rbac"}, `unknown type "rbac"`},
		{[]string{"dump", "-o", "xml"}, "want json or yaml"},
		{[]string{"dump", "bootstrap", "--name", "x"}, "does not apply to the bootstrap"},
		{[]string{"dump", "--admin-file", file}, file + ":2: admin address \"not-an-address\""},
		{[]string{"dump", "--admin", "localhost"}, "want HOST:PORT"},
		{[]string{"dump", "--admin-file", "/nonexistent"}, "no such file"},
		{[]string{"dump", "--bogus"}, "unknown flag"},
		{[]string{"envoy-proxy", "--timeout", "soon"}, "invalid argument"},
	} {
		_, errOut, code := run(t, "", tc.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestYAMLIsJSONEquivalent(t *testing.T) {
	p := newProxy(t, "dump.json")
	y, _, _ := run(t, "", "dump", "--admin", p.addr, "-o", "yaml")
	j, _, _ := run(t, "", "dump", "--admin", p.addr)
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(j), &fromJSON)
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(fromJSON)
	if string(a) != string(b) {
		t.Error("yaml and json outputs disagree")
	}
}

// A dump with an extension type egctl does not know is printed, that value
// by type name only, with a warning and exit 0.
func TestUnknownTypeWarns(t *testing.T) {
	p := newProxy(t, "dump_unknown_type.json")
	out, errOut, code := run(t, "", "dump", "bootstrap", "--admin", p.addr, "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(errOut, "warning: ") || !strings.Contains(errOut, "acme.filters.http.magic.v1.Magic") {
		t.Errorf("stderr %q", errOut)
	}
	if !strings.Contains(out, "'@type': type.googleapis.com/acme.filters.http.magic.v1.Magic") || !strings.Contains(out, "name: egctl_test_listener") {
		t.Errorf("output:\n%s", out)
	}
}
