package xds

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
)

// TestEnvoyServesSnapshotOverADS serves a Snapshot from a go-control-plane
// ADS server to a real Envoy started with DynamicBootstrap: listeners with
// RDS, clusters with EDS and certificates over SDS must all arrive and
// serve, plain HTTP and HTTPS (SNI) alike.
func TestEnvoyServesSnapshotOverADS(t *testing.T) {
	bin := envoyBinary(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend %s", r.URL.Path)
	}))
	defer backend.Close()
	bport := uint32(backend.Listener.Addr().(*net.TCPAddr).Port)

	cfg := loadIR(t, "testdata/https.ir.yaml")
	httpPort, httpsPort, admin := freePort(t), freePort(t), freePort(t)
	for _, l := range cfg.Proxies[0].HTTP {
		l.Address = "127.0.0.1"
		if l.TLS != nil {
			l.Port = httpsPort
		} else {
			l.Port = httpPort
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Destination != nil {
					for _, be := range r.Destination.Backends {
						for i := range be.Endpoints {
							be.Endpoints[i].Port = bport
						}
					}
				}
			}
		}
	}
	res := translateOne(t, cfg)
	snap, err := Snapshot(res, "1")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	snapshots := cache.NewSnapshotCache(true, cache.IDHash{}, nil)
	if err := snapshots.SetSnapshot(ctx, res.Name, snap); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, snapshots, nil))
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	bs, err := DynamicBootstrap(DynamicBootstrapOptions{
		NodeID: res.Name, XDSHost: "127.0.0.1", XDSPort: uint32(lis.Addr().(*net.TCPAddr).Port), AdminPort: admin,
	})
	if err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(bs, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, y, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd := exec.CommandContext(ctx, bin, "-c", path, "--log-level", "warn", "--use-dynamic-base-id", "--concurrency", "1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("envoy output:\n%s", logs.String())
		}
	}()

	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			// Loopback test against a self-signed certificate.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "a.example.com"}, //nolint:gosec
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", httpsPort))
			},
		},
	}
	plain := &http.Client{Timeout: 5 * time.Second, CheckRedirect: client.CheckRedirect}

	// Listeners arrive asynchronously: poll until HTTPS answers.
	deadline := time.Now().Add(30 * time.Second)
	var body string
	for {
		resp, err := client.Get("https://a.example.com/hello")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTPS through ADS config not served after 30s: %v %q", err, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if body != "backend /hello" {
		t.Errorf("HTTPS body %q", body)
	}

	// Same connection settings (SNI a.example.com), another listener's host:
	// misdirected, 421.
	req, _ := http.NewRequest("GET", "https://a.example.com/hello", nil)
	req.Host = "b.example.com"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 421 {
		t.Errorf("SNI a.example.com, Host b.example.com: %d, want 421", resp.StatusCode)
	}

	req, _ = http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/x", httpPort), nil)
	req.Host = "a.example.com"
	resp, err = plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || !strings.HasPrefix(resp.Header.Get("Location"), "https://a.example.com") {
		t.Errorf("plain HTTP a.example.com: %d %q, want a 301 to https", resp.StatusCode, resp.Header.Get("Location"))
	}
	req.Host = "other.example.com"
	if resp, err = plain.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("plain HTTP catch-all: %d, want 404", resp.StatusCode)
	}
}
