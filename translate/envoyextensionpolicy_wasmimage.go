package translate

import (
	"crypto/sha256"
	"encoding/hex"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/egctl/egctl/ir"
)

// WasmImageResolver reads the Wasm module of an OCI image (wasm code of
// type Image). translate does no I/O itself: the commands give it one
// (internal/wasmimage) that reads local images and reachable registries.
// Without one, an Image source is refused.
type WasmImageResolver interface {
	ResolveWasmImage(ref WasmImageRef) ([]byte, error)
}

// WasmImageRef is one image to read.
type WasmImageRef struct {
	// URL as the policy writes it ("oci://registry/repo:tag", or
	// "file:///path" for an image on disk).
	URL string
	// SHA256 is the image digest the policy expects ("" for none).
	SHA256 string
	// PullSecret is the .dockerconfigjson of pullSecretRef.
	PullSecret []byte
	// CACertificate (PEM) is the registry's trust anchor; "" for the
	// system's.
	CACertificate string
}

// wasmImage resolves an OCI image holding a Wasm module; the module goes
// into the configuration inline.
func (b *builder) wasmImage(from objRef, field string, img *egv1a1.ImageWasmCodeSource) (*ir.ExtensionCode, error) {
	ref := WasmImageRef{URL: img.URL}
	if img.URL == "" {
		return nil, fieldErr(field+".url", "required")
	}
	if img.SHA256 != nil && *img.SHA256 != "" {
		if !sha256Hex.MatchString(*img.SHA256) {
			return nil, fieldErr(field+".sha256", "%q is not 64 lowercase hex digits", *img.SHA256)
		}
		ref.SHA256 = *img.SHA256
	}
	if ps := img.PullSecretRef; ps != nil {
		if (ps.Group != nil && *ps.Group != "") || (ps.Kind != nil && *ps.Kind != "Secret") {
			return nil, fieldErr(field+".pullSecretRef", "only a Secret is supported")
		}
		ns := namespaceOr(ps.Namespace, from.namespace)
		if !b.grants.allowed(from, objRef{group: "", kind: "Secret", namespace: ns, name: string(ps.Name)}) {
			return nil, fieldErr(field+".pullSecretRef", "Secret %s/%s is in another namespace and no ReferenceGrant allows it", ns, ps.Name)
		}
		s := b.secrets[nsName{ns, string(ps.Name)}]
		if s == nil {
			return nil, fieldErr(field+".pullSecretRef", "Secret %s/%s not found", ns, ps.Name)
		}
		data := secretValue(s, corev1.DockerConfigJsonKey)
		if len(data) == 0 {
			return nil, fieldErr(field+".pullSecretRef", "Secret %s/%s has no key %s", ns, ps.Name, corev1.DockerConfigJsonKey)
		}
		ref.PullSecret = data
	}
	if t := img.TLS; t != nil {
		group, kind := "", "Secret"
		if t.CACertificateRef.Group != nil {
			group = string(*t.CACertificateRef.Group)
		}
		if t.CACertificateRef.Kind != nil {
			kind = string(*t.CACertificateRef.Kind)
		}
		pemText, _, msg := b.resolveCA(from, group, kind, namespaceOr(t.CACertificateRef.Namespace, from.namespace), string(t.CACertificateRef.Name))
		if msg != "" {
			return nil, fieldErr(field+".tls.caCertificateRef", "%s", msg)
		}
		ref.CACertificate = pemText
	}
	if b.opts.WasmImages == nil {
		return nil, fieldErr(field, "this translation reads no OCI images (no resolver); egctl x translate does")
	}
	module, err := b.opts.WasmImages.ResolveWasmImage(ref)
	if err != nil {
		return nil, fieldErr(field, "image %s: %v", img.URL, err)
	}
	sum := sha256.Sum256(module)
	return &ir.ExtensionCode{Inline: module, SHA256: hex.EncodeToString(sum[:]), Origin: img.URL}, nil
}
