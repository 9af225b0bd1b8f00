package translate

import (
	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// wasmImage resolves an OCI image holding a Wasm module.
func (b *builder) wasmImage(from objRef, field string, img *egv1a1.ImageWasmCodeSource) (*ir.ExtensionCode, error) {
	return nil, fieldErr(field, "egctl does not resolve OCI images yet")
}
