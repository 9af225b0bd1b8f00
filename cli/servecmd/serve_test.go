package servecmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/egctl/egctl/cli"
)

func runCmd(t *testing.T, args ...string) (*Options, string, error) {
	t.Helper()
	var got *Options
	var errOut bytes.Buffer
	cmd := newCmd(&cli.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}, func(_ context.Context, o *Options) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, errOut.String(), err
}

func TestStandaloneConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "standalone.yaml")
	// Envoy Gateway's host-mode example, as its docs give it.
	if err := os.WriteFile(cfg, []byte(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyGateway
gateway:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
provider:
  type: Custom
  custom:
    resource:
      type: File
      file:
        paths: ["/tmp/envoy-gateway-test", "relative/dir"]
    infrastructure:
      type: Host
      host: {}
logging:
  level:
    default: info
extensionApis:
  enableBackend: true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	o, stderr, err := runCmd(t, "--config-path", cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/tmp/envoy-gateway-test", filepath.Join(dir, "relative/dir")}
	if !reflect.DeepEqual(o.Files, want) {
		t.Errorf("files = %q, want %q", o.Files, want)
	}
	if o.ControllerName != "gateway.envoyproxy.io/gatewayclass-controller" {
		t.Errorf("controller = %q", o.ControllerName)
	}
	for _, w := range []string{"provider.custom.infrastructure is not applied", "logging is not applied", "extensionApis is not applied"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}

func TestStandaloneConfigRefused(t *testing.T) {
	for name, content := range map[string]string{
		"kubernetes provider": "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyGateway\nprovider: {type: Kubernetes}\n",
		"no paths":            "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyGateway\nprovider: {type: Custom, custom: {resource: {type: File, file: {paths: []}}}}\n",
		"unknown field":       "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyGateway\nprovder: {}\n",
		"wrong kind":          "apiVersion: v1\nkind: ConfigMap\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := runCmd(t, "--config-path", cfg)
			var ee *cli.ExitError
			if err == nil || !errors.As(err, &ee) || ee.Code != cli.ExitUsage {
				t.Fatalf("err = %v, want a usage error", err)
			}
		})
	}
}

func TestFlagChecks(t *testing.T) {
	for name, args := range map[string][]string{
		"no input":        {},
		"stdin":           {"-f", "-"},
		"half the TLS":    {"-f", "x", "--tls-cert", "c"},
		"certs-dir and a": {"-f", "x", "--certs-dir", "d", "--tls-ca", "ca"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := runCmd(t, args...); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	o, _, err := runCmd(t, "-f", "m", "--certs-dir", "certs")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSCert != filepath.Join("certs", "envoy-gateway", "tls.crt") || o.TLSCA != filepath.Join("certs", "envoy-gateway", "ca.crt") {
		t.Errorf("--certs-dir: %+v", o)
	}
}
