package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/internal/wasmimage"
)

var (
	wasmOnce   sync.Once
	wasmModule []byte
	wasmErr    error
)

// buildWasmFilter compiles testdata/wasmfilter (standard Go, GOOS=wasip1,
// a WASI reactor) once per test binary.
func buildWasmFilter(t testing.TB) []byte {
	t.Helper()
	wasmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "egctl-wasm-")
		if err != nil {
			wasmErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "filter.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), goBuildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-ldflags=-s -w", "-o", out, "./test/e2e/testdata/wasmfilter")
		cmd.Dir = envoytest.RepoRoot()
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			wasmErr = fmt.Errorf("building the Wasm filter: %v\n%s", err, b)
			return
		}
		wasmModule, wasmErr = os.ReadFile(out)
	})
	if wasmErr != nil {
		t.Fatal(wasmErr)
	}
	return wasmModule
}

// serveBytes serves b at /path on a loopback port until the test ends.
func serveBytes(t testing.TB, path string, b []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("http://%s%s", l.Addr(), path)
}

// TestWasmFilter: a Wasm filter built here, served over HTTP on loopback,
// fetched and checked by Envoy (V8) from the URL and sha256 egctl wrote. It
// adds a request header, sees the host environment variable env.hostKeys
// passes into its VM (PATH, which every test process has), and gets the
// policy's configuration.
func TestWasmFilter(t *testing.T) {
	envoyTest(t)
	module := buildWasmFilter(t)
	sum := sha256.Sum256(module)
	url := serveBytes(t, "/filters/egctl.wasm", module)
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wasm, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [wasm.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [plain.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: wasm, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: wasm}]
  wasm:
  - name: egctl-test
    code:
      type: HTTP
      http: {url: "{{ .URL }}", sha256: {{ .SHA }}}
    config: {name: from-policy, env: PATH}
    env: {hostKeys: [PATH]}
`, map[string]any{"App": StartEchoBasic(t, "app").Port, "URL": url, "SHA": hex.EncodeToString(sum[:])})

	r := p.Get(t, "wasm.example.com", "/").ExpectStatus(t, http.StatusOK)
	if got := r.Echo(t).Header("X-Wasm-Request"); len(got) != 1 || got[0] != "from-policy" {
		t.Errorf("upstream saw x-wasm-request %q, want the name from the configuration", got)
	}
	if got, want := r.Header.Get("X-Wasm-Env"), os.Getenv("PATH"); got != want {
		t.Errorf("x-wasm-env = %q, want the host's PATH %q", got, want)
	}
	var conf map[string]string
	if err := json.Unmarshal([]byte(r.Header.Get("X-Wasm-Config")), &conf); err != nil || conf["name"] != "from-policy" || conf["env"] != "PATH" {
		t.Errorf("x-wasm-config = %q (%v), want the policy's configuration", r.Header.Get("X-Wasm-Config"), err)
	}
	// Only the route the policy targets runs the filter.
	r = p.Get(t, "plain.example.com", "/").ExpectStatus(t, http.StatusOK)
	if r.Header.Get("X-Wasm-Env") != "" || len(r.Echo(t).Header("X-Wasm-Request")) != 0 {
		t.Error("the filter ran on a route the policy does not target")
	}
}

// TestWasmFilterFromImage: the same filter as an OCI image (a layer of the
// proxy-wasm media type) in a registry on loopback. egctl pulls it when it
// compiles, checks the image digest the policy gives, and puts the module
// in the bootstrap; Envoy loads it from there.
func TestWasmFilterFromImage(t *testing.T) {
	envoyTest(t)
	module := buildWasmFilter(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(module, types.MediaType(wasmimage.LayerMediaType)))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/filters/egctl:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	p := Deploy(t, `{{ gatewayClass }}---
{{ gateway "gw" .Port }}---
{{ service "app" .App }}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wasm, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [wasm.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: wasm, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: wasm}]
  wasm:
  - code:
      type: Image
      image: {url: "oci://{{ .Ref }}", sha256: {{ .SHA }}}
    config: {name: from-image, env: PATH}
    env: {hostKeys: [PATH]}
`, map[string]any{"App": StartEchoBasic(t, "app").Port, "Ref": host + "/filters/egctl:v1", "SHA": digest.Hex})

	r := p.Get(t, "wasm.example.com", "/").ExpectStatus(t, http.StatusOK)
	if got := r.Echo(t).Header("X-Wasm-Request"); len(got) != 1 || got[0] != "from-image" {
		t.Errorf("upstream saw x-wasm-request %q", got)
	}
	if got := r.Header.Get("X-Wasm-Env"); got != os.Getenv("PATH") {
		t.Errorf("x-wasm-env = %q", got)
	}
}
