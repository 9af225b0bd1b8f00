package certgencmd

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCmd(&cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), cli.Code(err)
}

func decodeDocs(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range strings.Split(s, "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestKubernetesOutput(t *testing.T) {
	out, errOut, code := run(t, "--kubernetes", "-n", "gw", "--key-type", "rsa", "--validity", "30d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	docs := strings.Split(out, "\n---\n")
	if len(docs) != 4 {
		t.Fatalf("%d documents", len(docs))
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "envoy-gateway" || s.Namespace != "gw" || s.Type != corev1.SecretTypeTLS {
		t.Errorf("first Secret %s/%s %s", s.Namespace, s.Name, s.Type)
	}
	b, _ := pem.Decode(s.Data["tls.crt"])
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicKeyAlgorithm != x509.RSA {
		t.Errorf("key algorithm %v, want RSA", c.PublicKeyAlgorithm)
	}
	if days := c.NotAfter.Sub(c.NotBefore).Hours() / 24; days < 30 || days > 31 {
		t.Errorf("lifetime %.1f days, want 30", days)
	}
	if !strings.Contains(strings.Join(c.DNSNames, ","), "envoy-gateway.gw.svc.cluster.local") {
		t.Errorf("DNS names %v", c.DNSNames)
	}
}

func TestOutDirRefusesThenOverwrites(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, "--out-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(out, "wrote ") != 10 {
		t.Errorf("output:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "envoy-gateway", "tls.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	_, errOut, code = run(t, "--out-dir", dir)
	if code != cli.ExitUsage || !strings.Contains(errOut, filepath.Join(dir, "envoy-gateway", "ca.crt")) || !strings.Contains(errOut, "--overwrite") {
		t.Fatalf("second run: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, "--out-dir", dir, "--overwrite"); code != 0 {
		t.Fatalf("overwrite: exit %d: %s", code, errOut)
	}
}

func TestListenerManifestWithGivenCA(t *testing.T) {
	dir := t.TempDir()
	// Make a CA with the command itself, as a user would.
	if _, errOut, code := run(t, "--listener", "ca.invalid", "--out-dir", dir); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := run(t, "--listener", "www.example.com,*.example.com", "--secret-name", "web-tls", "-n", "apps",
		"--ca-cert", filepath.Join(dir, "ca.crt"), "--ca-key", filepath.Join(dir, "ca.key"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("unexpected stderr with a given CA: %s", errOut)
	}
	docs := strings.Split(out, "\n---\n")
	var s corev1.Secret
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &s); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &cm); err != nil {
		t.Fatal(err)
	}
	if s.Name != "web-tls" || s.Namespace != "apps" || s.Type != corev1.SecretTypeTLS || cm.Name != "web-tls-ca" {
		t.Fatalf("got %s/%s %s, configmap %s", s.Namespace, s.Name, s.Type, cm.Name)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if cm.Data["ca.crt"] != string(caPEM) {
		t.Error("ConfigMap does not carry the given CA")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	b, _ := pem.Decode(s.Data["tls.crt"])
	leaf, _ := x509.ParseCertificate(b.Bytes)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.example.com"}); err != nil {
		t.Errorf("leaf does not verify against the given CA: %v", err)
	}
}

func TestNewCAWarnsKeyIsDropped(t *testing.T) {
	out, errOut, code := run(t, "--listener", "a.example")
	if code != 0 || !strings.Contains(errOut, "new CA") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	docs := decodeDocs(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d documents", len(docs))
	}
	md := docs[0]["metadata"].(map[string]any)
	if md["name"] != "a.example-tls" || md["namespace"] != "default" {
		t.Errorf("defaults: %v", md)
	}
	// Only the leaf's key and certificate; the CA key goes nowhere.
	if data := docs[0]["data"].(map[string]any); len(data) != 2 || data["tls.key"] == nil || data["tls.crt"] == nil {
		t.Errorf("secret data keys: %v", data)
	}
	if data := docs[1]["data"].(map[string]any); len(data) != 1 || strings.Contains(data["ca.crt"].(string), "PRIVATE") {
		t.Errorf("configmap data: %v", data)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--out-dir DIR or --kubernetes"},
		{[]string{"--kubernetes", "--out-dir", "x"}, "exclusive"},
		{[]string{"--kubernetes", "--key-type", "dsa"}, "unknown key type"},
		{[]string{"--kubernetes", "--validity", "-1h"}, "positive"},
		{[]string{"--kubernetes", "--validity", "ayear"}, "--validity"},
		{[]string{"--kubernetes", "--secret-name", "x"}, "only applies to --listener"},
		{[]string{"--listener", "a.example", "--ca-cert", "x"}, "go together"},
		{[]string{"--listener", "Bad_Host"}, "not a valid DNS name"},
		{[]string{"--kubernetes", "--dns-names", "a b"}, "not a valid DNS name"},
		{[]string{"--listener", "a.example", "--ca-cert", "/nonexistent/ca.crt", "--ca-key", "/nonexistent/ca.key"}, "no such file"},
		{[]string{"extra-arg", "--kubernetes"}, "unexpected argument"},
		{[]string{"--kubernetes", "-n", "Bad.NS"}, "not a valid namespace"},
		{[]string{"--kubernetes", "--bogus"}, "unknown flag"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want it to mention %q", tc.args, code, errOut, tc.want)
		}
	}
}
