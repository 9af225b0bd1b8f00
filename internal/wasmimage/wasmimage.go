// Package wasmimage reads the Wasm module an OCI image holds, for
// EnvoyExtensionPolicy wasm code of type Image: from a registry egctl can
// reach (oci://registry/repository:tag, or @sha256:digest), or from an image
// on disk (file:///path: an OCI image layout directory, or a tarball as
// `docker save` or `crane pull` writes it).
//
// Envoy cannot pull images; Envoy Gateway pulls them into its own cache and
// has Envoy fetch the module from there. egctl has no server: it pulls the
// image when it compiles, and puts the module in the configuration itself.
//
// The module is, as Envoy Gateway and other proxy-wasm tooling expect it,
// either the one layer of media type application/vnd.module.wasm.content.layer.v1+wasm,
// or the file plugin.wasm in the image's file system.
package wasmimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/egctl/egctl/translate"
)

// LayerMediaType is the media type of a layer that is a Wasm module.
const LayerMediaType = "application/vnd.module.wasm.content.layer.v1+wasm"

// maxModule bounds a module's size: Envoy keeps the module in memory and
// egctl puts it in the configuration.
const maxModule = 64 << 20

// Resolver implements translate.WasmImageResolver. Each image is read once
// per Resolver.
type Resolver struct {
	// Timeout bounds one registry pull; 0 means a minute.
	Timeout time.Duration

	mu    sync.Mutex
	cache map[string]result
}

type result struct {
	module []byte
	err    error
}

var _ translate.WasmImageResolver = (*Resolver)(nil)

// ResolveWasmImage returns the module of the image ref names.
func (r *Resolver) ResolveWasmImage(ref translate.WasmImageRef) ([]byte, error) {
	key := ref.URL + "\x00" + ref.SHA256 + "\x00" + string(ref.PullSecret) + "\x00" + ref.CACertificate
	r.mu.Lock()
	if res, ok := r.cache[key]; ok {
		r.mu.Unlock()
		return res.module, res.err
	}
	r.mu.Unlock()
	module, err := r.resolve(ref)
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]result{}
	}
	r.cache[key] = result{module, err}
	r.mu.Unlock()
	return module, err
}

func (r *Resolver) resolve(ref translate.WasmImageRef) ([]byte, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	// Registry images are read lazily: the whole read is bounded.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	img, err := r.image(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.SHA256 != "" {
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		if d.Hex != ref.SHA256 {
			return nil, fmt.Errorf("the image's digest is sha256:%s, not the sha256 %s the policy gives", d.Hex, ref.SHA256)
		}
	}
	return Module(img)
}

// image opens the image a reference names.
func (r *Resolver) image(ctx context.Context, ref translate.WasmImageRef) (v1.Image, error) {
	if p, ok := strings.CutPrefix(ref.URL, "file://"); ok {
		if len(ref.PullSecret) > 0 || ref.CACertificate != "" {
			return nil, errors.New("pullSecretRef and tls apply to registries, not to an image on disk")
		}
		return fromDisk(p)
	}
	s := strings.TrimPrefix(ref.URL, "oci://")
	nref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("image %q: %v", ref.URL, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(authn.Anonymous)}
	if len(ref.PullSecret) > 0 {
		auth, err := dockerConfigAuth(ref.PullSecret, nref.Context().RegistryStr())
		if err != nil {
			return nil, err
		}
		opts[1] = remote.WithAuth(auth)
	}
	if ref.CACertificate != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(ref.CACertificate)) {
			return nil, errors.New("tls.caCertificateRef holds no certificate")
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, remote.WithTransport(tr))
	}
	img, err := remote.Image(nref, opts...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %v", nref, err)
	}
	return img, nil
}

// fromDisk opens an OCI image layout directory (its one image) or an image
// tarball.
func fromDisk(p string) (v1.Image, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		img, err := tarball.ImageFromPath(p, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: not an image tarball: %v", p, err)
		}
		return img, nil
	}
	idx, err := layout.ImageIndexFromPath(p)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI image layout: %v", p, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var imgs []v1.Hash
	for _, d := range m.Manifests {
		if d.MediaType.IsImage() {
			imgs = append(imgs, d.Digest)
		}
	}
	if len(imgs) != 1 {
		return nil, fmt.Errorf("%s: the layout holds %d images; egctl needs exactly one", p, len(imgs))
	}
	return idx.Image(imgs[0])
}

// dockerConfigAuth reads the credentials for registry from a
// .dockerconfigjson (a kubernetes.io/dockerconfigjson Secret's data).
func dockerConfigAuth(cfg []byte, registry string) (authn.Authenticator, error) {
	var dc struct {
		Auths map[string]authn.AuthConfig `json:"auths"`
	}
	if err := json.Unmarshal(cfg, &dc); err != nil {
		return nil, fmt.Errorf("pullSecretRef: .dockerconfigjson: %v", err)
	}
	for host, a := range dc.Auths {
		h := strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
		h = strings.TrimSuffix(h, "/")
		if h == registry || (registry == name.DefaultRegistry && (h == "index.docker.io" || strings.HasPrefix(h, "index.docker.io/"))) {
			return authn.FromConfig(a), nil
		}
	}
	return nil, fmt.Errorf("pullSecretRef: .dockerconfigjson has no credentials for %s", registry)
}

// Module finds the Wasm module in an image.
func Module(img v1.Image) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if mt != LayerMediaType {
			continue
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		b, err := readModule(rc)
		rc.Close()
		return b, err
	}
	// An image whose file system holds /plugin.wasm; the last layer that
	// has it wins, as in the file system.
	for i := len(layers) - 1; i >= 0; i-- {
		mt, _ := layers[i].MediaType()
		if mt != types.DockerLayer && mt != types.OCILayer && mt != types.OCIUncompressedLayer && mt != types.DockerUncompressedLayer {
			continue
		}
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return nil, err
		}
		b, found, err := pluginFromTar(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if found {
			return b, nil
		}
	}
	return nil, fmt.Errorf("the image has no layer of media type %s and no /plugin.wasm", LayerMediaType)
}

func readModule(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxModule+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if b, err = io.ReadAll(io.LimitReader(zr, maxModule+1)); err != nil {
			return nil, err
		}
	}
	if len(b) > maxModule {
		return nil, fmt.Errorf("the module is larger than %d MiB", maxModule>>20)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		return nil, errors.New("the module is not WebAssembly (no \\0asm header)")
	}
	return b, nil
}

func pluginFromTar(r io.Reader) ([]byte, bool, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if path.Clean("/"+h.Name) == "/plugin.wasm" && h.Typeflag == tar.TypeReg {
			b, err := readModule(tr)
			return b, true, err
		}
	}
}
