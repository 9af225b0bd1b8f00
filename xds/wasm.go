package xds

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/egctl/egctl/ir"
)

const (
	wasmFilterType = "envoy.filters.http.wasm"
	// wasmRuntime is the VM every module runs in (Envoy Gateway's choice).
	wasmRuntime = "envoy.wasm.runtime.v8"
)

// Wasm modules (EnvoyExtensionPolicy wasm): one Wasm filter per module,
// each in a VM of its own.
func init() {
	register(&feature{
		name: wasmFilterType,
		httpFilters: func(b *builder, h *hcmBuild) ([]*hcmv3.HttpFilter, error) {
			return b.collectExt(h, func(e *ir.ExtensionSettings, add func(*hcmv3.HttpFilter, error)) {
				for _, w := range e.Wasms {
					add(b.wasmFilter(w))
				}
			})
		},
		patchRoute: func(b *builder, r *ir.HTTPRoute, out *routev3.Route) error {
			if r.Extensions == nil {
				return nil
			}
			for _, w := range r.Extensions.Wasms {
				if err := b.enableOnRoute(out, wasmFilterType+"/"+w.Name, nil); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

func (b *builder) wasmFilter(w *ir.Wasm) (*hcmv3.HttpFilter, error) {
	return b.extFilter(wasmFilterType+"/"+w.Name, w, func() (proto.Message, error) {
		code, err := asyncSource(w.Code)
		if err != nil {
			return nil, err
		}
		if err := b.remoteCluster(w.Code.Remote); err != nil {
			return nil, err
		}
		// The plugin reads its configuration as one string (JSON).
		conf, err := toAny(wrapperspb.String(w.Config))
		if err != nil {
			return nil, err
		}
		vm := &wasmv3.VmConfig{VmId: w.Name, Runtime: wasmRuntime, Code: code}
		if len(w.HostEnvKeys) > 0 {
			vm.EnvironmentVariables = &wasmv3.EnvironmentVariables{HostEnvKeys: append([]string(nil), w.HostEnvKeys...)}
		}
		policy := wasmv3.FailurePolicy_FAIL_CLOSED
		if w.FailOpen {
			policy = wasmv3.FailurePolicy_FAIL_OPEN
		}
		return &wasmfilterv3.Wasm{Config: &wasmv3.PluginConfig{
			Name:          w.PluginName,
			RootId:        w.RootID,
			Vm:            &wasmv3.PluginConfig_VmConfig{VmConfig: vm},
			Configuration: conf,
			FailurePolicy: policy,
		}}, nil
	})
}
