package xds

import (
	"strings"
	"testing"

	dmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_modules/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/egctl/egctl/ir"
)

func hcmFilters(t *testing.T, r *Resources) []*hcmv3.HttpFilter {
	t.Helper()
	h := &hcmv3.HttpConnectionManager{}
	f := r.Listeners[0].GetDefaultFilterChain().GetFilters()[0]
	if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	return h.HttpFilters
}

func extRoute(ext *ir.ExtensionSettings) *ir.Config {
	r := prefixRoute("route", "/")
	r.Extensions = ext
	return oneRoute(r, prefixRoute("plain", "/plain"))
}

func TestExtensionFilters(t *testing.T) {
	ep := &ir.ExtProc{
		Name: "envoyextensionpolicy/default/p/extproc/0",
		Destination: &ir.RouteDestination{Name: "envoyextensionpolicy/default/p/extproc/0", Backends: []*ir.Backend{
			{Name: "envoyextensionpolicy/default/p/extproc/0/backend/0", Weight: 1, AddressType: ir.AddressIP, Protocol: ir.ProtocolHTTP2,
				Endpoints: []ir.Endpoint{{Host: "127.0.0.1", Port: 9000}}},
		}},
		Authority: "proc.default:9000", RequestHeaders: true, RequestBody: ir.BodyFullDuplexStreamed,
		ResponseBody: ir.BodyBufferedPartial, StatusOnError: 503, ReceivingNamespaces: []string{"ns"},
	}
	w := &ir.Wasm{Name: "envoyextensionpolicy/default/p/wasm/0", PluginName: "plug", Config: `{"a":1}`, FailOpen: true,
		HostEnvKeys: []string{"K"},
		Code: &ir.ExtensionCode{Remote: &ir.RemoteSource{URL: "https://m.example.com/x.wasm", SHA256: strings.Repeat("a", 64),
			Cluster: "m_example_com_443", Host: "m.example.com", Port: 443, TLS: true}}}
	l := &ir.Lua{Name: "envoyextensionpolicy/default/p/lua/0", Code: "function envoy_on_request(h) end", FilterContext: `{"k":"v"}`}
	d := &ir.DynamicModule{Name: "envoyextensionpolicy/default/p/dynamic-module/0", Module: "m", FilterName: "f", Config: `{"x":1}`,
		Code: &ir.ExtensionCode{Local: "/opt/m.so"}}
	r := translateOne(t, extRoute(&ir.ExtensionSettings{ExtProcs: []*ir.ExtProc{ep}, Wasms: []*ir.Wasm{w}, Luas: []*ir.Lua{l}, DynamicModules: []*ir.DynamicModule{d}}))

	fs := hcmFilters(t, r)
	var names []string
	for _, f := range fs {
		names = append(names, strings.SplitN(f.Name, "/", 2)[0])
		if f.Name != routerFilterName && !f.Disabled {
			t.Errorf("%s is enabled for every route", f.Name)
		}
	}
	if got := strings.Join(names, ","); got != "envoy.filters.http.lua,envoy.filters.http.ext_proc,envoy.filters.http.wasm,envoy.filters.http.dynamic_modules,envoy.filters.http.router" {
		t.Fatalf("filter order = %s", got)
	}

	epc := &extprocv3.ExternalProcessor{}
	if err := fs[1].GetTypedConfig().UnmarshalTo(epc); err != nil {
		t.Fatal(err)
	}
	pm := epc.ProcessingMode
	if pm.RequestHeaderMode != extprocv3.ProcessingMode_SEND || pm.ResponseHeaderMode != extprocv3.ProcessingMode_SKIP ||
		pm.RequestBodyMode != extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED || pm.RequestTrailerMode != extprocv3.ProcessingMode_SEND ||
		pm.ResponseBodyMode != extprocv3.ProcessingMode_BUFFERED_PARTIAL || pm.ResponseTrailerMode != extprocv3.ProcessingMode_SKIP {
		t.Errorf("processing mode = %v", pm)
	}
	if epc.StatusOnError.GetCode() != 503 || epc.GetGrpcService().GetEnvoyGrpc().GetAuthority() != "proc.default:9000" ||
		epc.GetMetadataOptions().GetReceivingNamespaces().GetUntyped()[0] != "ns" {
		t.Errorf("ext_proc = %v", epc)
	}
	c := findCluster(t, r, ep.Destination.Name)
	if c.TypedExtensionProtocolOptions[httpProtocolOptionsKey] == nil {
		t.Error("the processor's cluster is not HTTP/2")
	}

	wc := &wasmfilterv3.Wasm{}
	if err := fs[2].GetTypedConfig().UnmarshalTo(wc); err != nil {
		t.Fatal(err)
	}
	vm := wc.Config.GetVmConfig()
	if vm.Runtime != wasmRuntime || vm.VmId != w.Name || vm.GetCode().GetRemote().GetHttpUri().GetCluster() != "m_example_com_443" ||
		vm.GetEnvironmentVariables().GetHostEnvKeys()[0] != "K" || wc.Config.Name != "plug" {
		t.Errorf("wasm = %v", wc)
	}
	fetch := findCluster(t, r, "m_example_com_443")
	tc := &tlsv3.UpstreamTlsContext{}
	if err := fetch.GetTransportSocket().GetTypedConfig().UnmarshalTo(tc); err != nil {
		t.Fatal(err)
	}
	vc := tc.GetCommonTlsContext().GetValidationContext()
	if tc.Sni != "m.example.com" || vc.GetTrustedCa().GetFilename() != SystemCABundle || vc.MatchTypedSubjectAltNames[0].GetMatcher().GetExact() != "m.example.com" {
		t.Errorf("fetch TLS = %v", tc)
	}

	lc := &luav3.Lua{}
	if err := fs[0].GetTypedConfig().UnmarshalTo(lc); err != nil || lc.GetDefaultSourceCode().GetInlineString() != l.Code {
		t.Errorf("lua = %v %v", lc, err)
	}
	dc := &dmfilterv3.DynamicModuleFilter{}
	if err := fs[3].GetTypedConfig().UnmarshalTo(dc); err != nil || dc.GetDynamicModuleConfig().GetModule().GetLocal().GetFilename() != "/opt/m.so" || dc.FilterName != "f" {
		t.Errorf("dynamic module = %v %v", dc, err)
	}

	// Enabled on the route that asked, with the Lua filter context; not
	// on the other.
	rts := r.Routes[0].VirtualHosts[0].Routes
	for _, rt := range rts {
		n := len(rt.TypedPerFilterConfig)
		switch rt.Name {
		case "route":
			if n != 4 {
				t.Errorf("route has %d per-filter configs", n)
			}
			per := &luav3.LuaPerRoute{}
			if err := rt.TypedPerFilterConfig[luaFilterType+"/"+l.Name].UnmarshalTo(per); err != nil || per.GetFilterContext().GetFields()["k"].GetStringValue() != "v" {
				t.Errorf("lua per route = %v %v", per, err)
			}
		case "plain":
			if n != 0 {
				t.Errorf("plain route has %d per-filter configs", n)
			}
		}
	}
}

func TestExtensionNameClash(t *testing.T) {
	a := &ir.Lua{Name: "envoyextensionpolicy/default/p/lua/0", Code: "function envoy_on_request(h) end"}
	b := &ir.Lua{Name: a.Name, Code: "function envoy_on_response(h) end"}
	r1, r2 := prefixRoute("one", "/one"), prefixRoute("two", "/two")
	r1.Extensions = &ir.ExtensionSettings{Luas: []*ir.Lua{a}}
	r2.Extensions = &ir.ExtensionSettings{Luas: []*ir.Lua{b}}
	if _, err := Translate(oneRoute(r1, r2)); err == nil || !strings.Contains(err.Error(), "two different configurations") {
		t.Fatalf("err = %v", err)
	}
	// The same configuration in two settings is one filter.
	b.Code = a.Code
	r := translateOne(t, oneRoute(r1, r2))
	if n := len(hcmFilters(t, r)); n != 2 {
		t.Fatalf("%d filters, want lua and router", n)
	}
}

func TestWasmInlineCode(t *testing.T) {
	w := &ir.Wasm{Name: "envoyextensionpolicy/default/p/wasm/0", PluginName: "p",
		Code: &ir.ExtensionCode{Inline: []byte("\x00asm\x01\x00\x00\x00"), SHA256: "x", Origin: "oci://r/i:t"}}
	r := translateOne(t, extRoute(&ir.ExtensionSettings{Wasms: []*ir.Wasm{w}}))
	wc := &wasmfilterv3.Wasm{}
	if err := hcmFilters(t, r)[0].GetTypedConfig().UnmarshalTo(wc); err != nil {
		t.Fatal(err)
	}
	if got := wc.Config.GetVmConfig().GetCode().GetLocal().GetInlineBytes(); string(got) != "\x00asm\x01\x00\x00\x00" {
		t.Fatalf("code = %q", got)
	}
}
