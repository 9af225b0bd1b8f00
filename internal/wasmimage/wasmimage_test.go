package wasmimage

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/egctl/egctl/translate"
)

var module = []byte("\x00asm\x01\x00\x00\x00egctl-test-module")

// wasmLayerImage is an image whose one layer is the module (the
// proxy-wasm OCI format).
func wasmLayerImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(module, types.MediaType(LayerMediaType)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pluginImage is an image whose file system holds /plugin.wasm.
func pluginImage(t *testing.T) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		body []byte
	}{{"README", []byte("not the module")}, {"plugin.wasm", module}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	tw.Close()
	layer, err := tarball.LayerFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.Hex
}

func TestFromRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img := wasmLayerImage(t)
	ref, err := name.ParseReference(host + "/filters/egctl:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{}
	for _, url := range []string{"oci://" + host + "/filters/egctl:v1", host + "/filters/egctl:v1", "oci://" + host + "/filters/egctl@sha256:" + digestOf(t, img)} {
		got, err := r.ResolveWasmImage(translate.WasmImageRef{URL: url, SHA256: digestOf(t, img)})
		if err != nil || !bytes.Equal(got, module) {
			t.Fatalf("%s: %q, %v", url, got, err)
		}
	}
	_, err = r.ResolveWasmImage(translate.WasmImageRef{URL: "oci://" + host + "/filters/egctl:v1", SHA256: strings.Repeat("0", 64)})
	if err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("wrong sha256: %v", err)
	}
	if _, err := r.ResolveWasmImage(translate.WasmImageRef{URL: "oci://" + host + "/filters/missing:v1"}); err == nil {
		t.Fatal("a missing image resolved")
	}
}

func TestFromDisk(t *testing.T) {
	dir := t.TempDir()
	// An OCI layout directory with one image of the wasm layer format.
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(wasmLayerImage(t)); err != nil {
		t.Fatal(err)
	}
	// A tarball (docker save) of an image with /plugin.wasm.
	tb := filepath.Join(dir, "image.tar")
	ref, _ := name.ParseReference("example.com/filters/egctl:v1")
	if err := tarball.WriteToFile(tb, ref, pluginImage(t)); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{}
	for _, p := range []string{filepath.Join(dir, "layout"), tb} {
		got, err := r.ResolveWasmImage(translate.WasmImageRef{URL: "file://" + p})
		if err != nil || !bytes.Equal(got, module) {
			t.Fatalf("%s: %q, %v", p, got, err)
		}
	}
	// An image without a module.
	empty := filepath.Join(dir, "empty.tar")
	if err := tarball.WriteToFile(empty, ref, emptyImage(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ResolveWasmImage(translate.WasmImageRef{URL: "file://" + empty}); err == nil || !strings.Contains(err.Error(), "plugin.wasm") {
		t.Fatalf("image without a module: %v", err)
	}
}

func emptyImage(t *testing.T) v1.Image {
	t.Helper()
	layer, err := tarball.LayerFromReader(bytes.NewReader(emptyTar()))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func emptyTar() []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.Close()
	return buf.Bytes()
}

func TestDockerConfigAuth(t *testing.T) {
	cfg := []byte(`{"auths":{"https://registry.example.com/":{"username":"u","password":"p"}}}`)
	a, err := dockerConfigAuth(cfg, "registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Authorization()
	if err != nil || c.Username != "u" || c.Password != "p" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := dockerConfigAuth(cfg, "other.example.com"); err == nil {
		t.Fatal("credentials for another registry were used")
	}
}
