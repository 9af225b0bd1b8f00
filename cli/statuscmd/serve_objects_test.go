package statuscmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/serve"
)

// startServe runs an in-process `egctl x serve` of dir, compiled with the
// settings `egctl x status` gets from flags, on free ports.
func startServe(t *testing.T, dir string, flags ...string) *serve.Server {
	t.Helper()
	co := compile.NewOptions()
	cmd := &cobra.Command{}
	co.AddFlags(cmd)
	if err := cmd.ParseFlags(flags); err != nil {
		t.Fatal(err)
	}
	if err := co.Complete(false); err != nil {
		t.Fatal(err)
	}
	settings, err := co.Settings(true) // as egctl x serve compiles
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.Options{
		CompileOptions: serve.CompileOptions{Files: []string{dir}, Settings: settings},
		XDSAddress:     "127.0.0.1:0", StatusAddress: "127.0.0.1:0",
		Log: &strings.Builder{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve not ready after 20s")
	}
	return s
}

// runStatusV is runStatus with the root command's -v and -q.
func runStatusV(t *testing.T, args ...string) result {
	t.Helper()
	withRootFlags := func(ios *cli.IOStreams) *cobra.Command {
		c := NewCmd(ios)
		c.Flags().BoolVarP(&ios.Verbose, "verbose", "v", false, "")
		c.Flags().BoolVarP(&ios.Quiet, "quiet", "q", false, "")
		return c
	}
	return execute(t, withRootFlags, nil, append([]string{"--lean"}, args...)...)
}

// TestServeObjectsAsFiles checks that `x status --serve` prints every
// object's conditions exactly as `x status -f` prints them for the files
// serve compiled (serve translates without a deep copy of the input:
// translate.Options.SkipStatus), with every TYPE form, -A, -n, -q, -v and
// -o json, on golden inputs covering each kind with a status: Gateways and
// listeners, ListenerSets, every route kind, Backends, EnvoyProxies, the
// five policy kinds, and problems no status carries.
func TestServeObjectsAsFiles(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"invalid.yaml", "listenerset.yaml", "multi-listener.yaml", "grpcroute.yaml", "tcproute.yaml", "tlsroute.yaml", "udproute.yaml",
		"backend-tls.yaml", "btp-invalid.yaml", "ctp-invalid.yaml", "sp-targets.yaml", "eep-targets.yaml",
		"envoyproxy-invalid.yaml", "epp-invalid.yaml", "epp-gatewayclass.yaml", "unsupported-policy.yaml",
	}
	argSets := [][]string{
		nil,
		{"all"},
		{"all", "-A", "-v"},
		{"xroute", "-A", "-q"},
		{"xpolicy", "-A"},
		{"gateway", "-n", "default", "-v"},
		{"httproute", "-n", "nowhere"},
		{"-o", "json"},
		{"xpolicy", "-A", "-o", "json"},
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "translate", "in", in))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, in), data, 0o644); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, dir, "--lean")
			addr := s.StatusAddr().String()
			for _, args := range argSets {
				// The files' paths are the same for both (serve's origins).
				files := runStatusV(t, append(append([]string(nil), args...), "-f", dir)...)
				served := runStatusV(t, append(append([]string(nil), args...), "--serve", addr)...)
				name := strings.Join(args, " ")
				if files.code == 2 || served.code == 2 {
					t.Fatalf("%s: usage error\n-f: %s\n--serve: %s", name, files.stderr, served.stderr)
				}
				if files.code != served.code {
					t.Errorf("%s: exit status -f %d, --serve %d\n-f stderr: %s\n--serve stderr: %s", name, files.code, served.code, files.stderr, served.stderr)
				}
				if len(args) > 1 && args[len(args)-2] == "-o" {
					var f, sv struct {
						Objects []ObjectStatus `json:"objects"`
					}
					if err := json.Unmarshal([]byte(files.stdout), &f); err != nil {
						t.Fatalf("%s: -f: %v", name, err)
					}
					if err := json.Unmarshal([]byte(served.stdout), &sv); err != nil {
						t.Fatalf("%s: --serve: %v", name, err)
					}
					if len(f.Objects) == 0 && args[0] == "-o" {
						t.Errorf("%s: no objects: the comparison shows nothing", name)
					}
					fb, _ := json.Marshal(f.Objects)
					sb, _ := json.Marshal(sv.Objects)
					if string(fb) != string(sb) {
						t.Errorf("%s: objects differ\n-f:      %s\n--serve: %s", name, fb, sb)
					}
					continue
				}
				// The tables of -f, then a blank line and serve's own part.
				if !strings.HasPrefix(served.stdout, files.stdout) {
					t.Errorf("%s: --serve does not start with what -f prints\n-f:\n%s\n--serve:\n%s", name, files.stdout, served.stdout)
				}
				if !strings.Contains(served.stdout, "No proxy connected.") {
					t.Errorf("%s: no fleet in:\n%s", name, served.stdout)
				}
				// "No resources found" (a TYPE that matches nothing) is
				// said on stderr by both.
				if strings.Contains(files.stderr, "No resources found") != strings.Contains(served.stderr, "No resources found") {
					t.Errorf("%s: stderr -f %q, --serve %q", name, files.stderr, served.stderr)
				}
			}
		})
	}
}
