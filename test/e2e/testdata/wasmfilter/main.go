//go:build wasip1

// Command wasmfilter is a proxy-wasm (ABI 0.2.1) HTTP filter written against
// the ABI directly in standard Go (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared),
// for egctl's behaviour tests: the proxy-wasm Go SDK is not on the module
// proxy, and the ABI a header filter needs is small.
//
// Its plugin configuration is JSON: {"name": N, "env": K}. It adds
// "x-wasm-request: N" to requests, and to responses "x-wasm-env" (the value
// of the host environment variable K, which Envoy passes into the VM only
// when env.hostKeys lists it) and "x-wasm-config" (the configuration as
// received).
package main

import (
	"strings"
	"syscall"
	"unsafe"
)

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bufferType, start, maxSize uint32, retData unsafe.Pointer, retSize unsafe.Pointer) uint32

// ABI constants.
const (
	mapRequestHeaders  = 0
	mapResponseHeaders = 2
	bufferPluginConfig = 7
	actionContinue     = 0
	statusOK           = 0
)

// allocated keeps the memory handed to the host alive until it is read.
var allocated = map[unsafe.Pointer][]byte{}

var config, name, envKey string

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) unsafe.Pointer {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := unsafe.Pointer(&b[0])
	allocated[p] = b
	return p
}

//go:wasmexport proxy_on_context_create
func onContextCreate(contextID, rootContextID uint32) {}

//go:wasmexport proxy_on_vm_start
func onVMStart(rootContextID, configSize uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(rootContextID, configSize uint32) uint32 {
	if configSize == 0 {
		return 1
	}
	var data unsafe.Pointer
	var size uint32
	if proxyGetBufferBytes(bufferPluginConfig, 0, configSize, unsafe.Pointer(&data), unsafe.Pointer(&size)) != statusOK || data == nil {
		return 0
	}
	config = string(allocated[data][:size])
	delete(allocated, data)
	name = jsonString(config, "name")
	envKey = jsonString(config, "env")
	return 1
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(contextID, headers, endOfStream uint32) uint32 {
	addHeader(mapRequestHeaders, "x-wasm-request", name)
	return actionContinue
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(contextID, headers, endOfStream uint32) uint32 {
	v, _ := syscall.Getenv(envKey)
	addHeader(mapResponseHeaders, "x-wasm-env", v)
	addHeader(mapResponseHeaders, "x-wasm-config", config)
	return actionContinue
}

//go:wasmexport proxy_on_done
func onDone(contextID uint32) uint32 { return 1 }

//go:wasmexport proxy_on_log
func onLog(contextID uint32) {}

//go:wasmexport proxy_on_delete
func onDelete(contextID uint32) {}

func addHeader(m uint32, key, value string) {
	if value == "" {
		value = "(empty)"
	}
	k, v := []byte(key), []byte(value)
	proxyAddHeaderMapValue(m, unsafe.Pointer(&k[0]), uint32(len(k)), unsafe.Pointer(&v[0]), uint32(len(v)))
}

// jsonString reads a string member of a flat JSON object (enough for the
// test's configuration; encoding/json would double the module's size).
func jsonString(doc, key string) string {
	i := strings.Index(doc, `"`+key+`"`)
	if i < 0 {
		return ""
	}
	rest := doc[i+len(key)+2:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	rest = rest[j+1:]
	k := strings.IndexByte(rest, '"')
	if k < 0 {
		return ""
	}
	return rest[:k]
}

func main() {}
