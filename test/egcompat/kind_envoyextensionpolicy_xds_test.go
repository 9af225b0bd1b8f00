package egcompat

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/xds"
)

// Envoy Gateway's xDS translator cases (internal/xds/translator/testdata)
// for extensions and patches start from EG's IR, not from manifests: the
// subset they use (HTTP listeners, routes, destinations, certificates,
// route extensions, patch policies) is turned into egctl's IR, compiled by
// egctl's xds, and compared with EG's expected output:
//
//   - every extension filter (ext_proc, Wasm, Lua, dynamic modules): its
//     name, that it is disabled in the HCM, its typed configuration, and
//     the per-route configuration that enables it;
//   - every EnvoyPatchPolicy: its outcome (applied, Invalid,
//     ResourceNotFound) and, when applied, that each add/replace left its
//     value where EG's output has it.
var xdsCases = []string{
	"ext-proc", "ext-proc-with-retries", "ext-proc-with-traffic-settings", "ext-proc-with-health-check-log",
	"wasm", "lua", "dynamicmodule",
	"jsonpatch", "jsonpatch-add-op-empty-jsonpath", "jsonpatch-add-op-without-value", "jsonpatch-invalid-patch",
	"jsonpatch-missing-resource", "jsonpatch-move-op-with-value", "jsonpatch-with-jsonpath", "jsonpatch-with-jsonpath-invalid",
	"jsonpatch-invalid", "jsonpatch-invalid-listener", "jsonpatch-system-truststore-enforcement",
}

// xdsErrorCases are those EG expects to fail ("validation failed for xds
// resource"): egctl must refuse them too, in translation or in the patch.
var xdsErrorCases = map[string]bool{"jsonpatch-invalid": true, "jsonpatch-invalid-listener": true}

// xdsExpectations are the accepted differences in the xDS cases.
var xdsExpectations = []expectation{
	{"", "filter envoy.filters.http.wasm/", "b", "EG has Envoy fetch every module from its own cache server (cluster wasm_cluster); " +
		"egctl has Envoy fetch it from the policy's URL through a cluster of the URL's host (docs/envoyextensionpolicy.md); " +
		"and egctl sets failure_policy (FAIL_OPEN / FAIL_CLOSED) where EG sets fail_open, which Envoy 1.40 deprecates"},
	{"ext-proc-with-retries", "not carried over: extProc", "c", whyExtProcSettings},
	{"ext-proc-with-retries", "retryPolicy", "c", whyExtProcSettings},
	{"ext-proc-with-traffic-settings", "not carried over: extProc", "c", whyExtProcSettings},
	{"ext-proc-with-health-check-log", "not carried over: extProc", "c", whyExtProcSettings},
	{"dynamicmodule", "retryPolicy", "b", "egctl retries the download of a remote dynamic module as Envoy Gateway does a Wasm one (Envoy's default is one retry, then the filter stays failed)"},
	{"dynamicmodule", "terminal", "b", "a terminal dynamic module must be the last HTTP filter, where the router is: Envoy rejects EG's configuration; egctl refuses the policy"},
	{"jsonpatch-system-truststore-enforcement", "", "b", "EG reserves the secret name system_ca_certificates for its system trust store; egctl reads the system CA bundle from a file and has no such secret"},
	{"jsonpatch-invalid-listener", "", "b", "EG's IR has a listener without an address, which EG refuses; egctl's translate never leaves it empty and its xds binds the default"},
}

const whyExtProcSettings = "unsupported: backendSettings of an external service (retries, cluster settings, health checks); egctl refuses the extension"

// egXDSIR is the subset of EG's xds IR these cases use.
type egXDSIR struct {
	HTTP []struct {
		Name      string   `json:"name"`
		Address   string   `json:"address"`
		Port      uint32   `json:"port"`
		Hostnames []string `json:"hostnames"`
		TLS       *struct {
			Certificates []struct {
				Name        string `json:"name"`
				Certificate []int  `json:"certificate"`
				PrivateKey  []int  `json:"privateKey"`
			} `json:"certificates"`
		} `json:"tls"`
		Routes []egXDSRoute `json:"routes"`
	} `json:"http"`
	EnvoyPatchPolicies []struct {
		Name        string `json:"name"`
		Namespace   string `json:"namespace"`
		JSONPatches []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Operation struct {
				Op       string          `json:"op"`
				Path     *string         `json:"path"`
				JSONPath *string         `json:"jsonPath"`
				From     *string         `json:"from"`
				Value    json.RawMessage `json:"value"`
			} `json:"operation"`
		} `json:"jsonPatches"`
	} `json:"envoyPatchPolicies"`
}

type egXDSDest struct {
	Name     string `json:"name"`
	Settings []struct {
		Name      string `json:"name"`
		Weight    *uint32
		Protocol  string `json:"protocol"`
		Endpoints []struct {
			Host string `json:"host"`
			Port uint32 `json:"port"`
		} `json:"endpoints"`
	} `json:"settings"`
}

type egXDSRoute struct {
	Name          string `json:"name"`
	Hostname      string `json:"hostname"`
	HeaderMatches []struct {
		Name  string `json:"name"`
		Exact string `json:"exact"`
	} `json:"headerMatches"`
	PathMatch *struct {
		Prefix string `json:"prefix"`
		Exact  string `json:"exact"`
	} `json:"pathMatch"`
	Destination *egXDSDest `json:"destination"`
	Extensions  *struct {
		ExtProcs []struct {
			Name                         string     `json:"name"`
			Authority                    string     `json:"authority"`
			Destination                  egXDSDest  `json:"destination"`
			FailOpen                     *bool      `json:"failOpen"`
			ShadowMode                   *bool      `json:"shadowMode"`
			MessageTimeout               string     `json:"messageTimeout"`
			StatusOnError                *uint32    `json:"statusOnError"`
			RequestHeaderProcessing      bool       `json:"requestHeaderProcessing"`
			ResponseHeaderProcessing     bool       `json:"responseHeaderProcessing"`
			RequestBodyProcessingMode    string     `json:"requestBodyProcessingMode"`
			ResponseBodyProcessingMode   string     `json:"responseBodyProcessingMode"`
			RequestAttributes            []string   `json:"requestAttributes"`
			ResponseAttributes           []string   `json:"responseAttributes"`
			AllowModeOverride            bool       `json:"allowModeOverride"`
			ForwardingMetadataNamespaces []string   `json:"forwardingMetadataNamespaces"`
			ReceivingMetadataNamespaces  []string   `json:"receivingMetadataNamespaces"`
			Traffic                      *yamlBlank `json:"traffic"`
		} `json:"extProcs"`
		Wasms []struct {
			Name     string          `json:"name"`
			WasmName string          `json:"wasmName"`
			RootID   *string         `json:"rootID"`
			Config   json.RawMessage `json:"config"`
			FailOpen bool            `json:"failOpen"`
			HostKeys []string        `json:"hostKeys"`
			Code     struct {
				ServingURL string `json:"servingURL"`
				SHA256     string `json:"sha256"`
			} `json:"httpWasmCode"`
		} `json:"wasms"`
		Luas []struct {
			Name          string          `json:"name"`
			Code          string          `json:"code"`
			FilterContext json.RawMessage `json:"filterContext"`
		} `json:"luas"`
		DynamicModules []struct {
			Name           string          `json:"name"`
			FilterName     string          `json:"filterName"`
			Config         json.RawMessage `json:"config"`
			Path           string          `json:"path"`
			DoNotClose     bool            `json:"doNotClose"`
			LoadGlobally   bool            `json:"loadGlobally"`
			TerminalFilter bool            `json:"terminalFilter"`
			Remote         *struct {
				URL    string `json:"url"`
				SHA256 string `json:"sha256"`
			} `json:"remote"`
		} `json:"dynamicModules"`
	} `json:"envoyExtensions"`
}

// yamlBlank marks a field whose presence matters, not its content.
type yamlBlank struct{ json.RawMessage }

func (y *yamlBlank) UnmarshalJSON(b []byte) error {
	y.RawMessage = append([]byte(nil), b...)
	return nil
}

func bytesOf(in []int) []byte {
	out := make([]byte, len(in))
	for i, v := range in {
		out[i] = byte(v)
	}
	return out
}

func irDest(d egXDSDest, proto ir.AppProtocol) *ir.RouteDestination {
	out := &ir.RouteDestination{Name: d.Name}
	for _, s := range d.Settings {
		be := &ir.Backend{Name: s.Name, Weight: 1, AddressType: ir.AddressIP, Protocol: proto}
		if s.Weight != nil {
			be.Weight = *s.Weight
		}
		for _, e := range s.Endpoints {
			be.Endpoints = append(be.Endpoints, ir.Endpoint{Host: e.Host, Port: e.Port})
		}
		out.Backends = append(out.Backends, be)
	}
	return out
}

// remoteOf is the remote source egctl's translate makes of a URL.
func remoteOf(raw, sum string) *ir.RemoteSource {
	u, err := url.Parse(raw)
	if err != nil {
		return &ir.RemoteSource{URL: raw, SHA256: sum, Cluster: "invalid", Host: "invalid", Port: 1}
	}
	port := uint32(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		port = uint32(p)
	}
	return &ir.RemoteSource{URL: raw, SHA256: sum, Host: u.Hostname(), Port: port, TLS: u.Scheme == "https",
		Cluster: strings.ReplaceAll(u.Hostname(), ".", "_") + "_" + strconv.Itoa(int(port))}
}

// unsupported records why a case's IR cannot be carried over exactly.
type convertNote struct{ notes []string }

func (c *convertNote) add(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// egctlIR turns the case's EG IR into egctl's.
func egctlIR(in *egXDSIR, note *convertNote) *ir.Config {
	p := &ir.Proxy{Name: "egcompat/proxy", Namespace: "egcompat", Gateway: "proxy"}
	addrOf := map[uint32]string{}
	for _, l := range in.HTTP {
		// egctl puts listeners of one port in one Envoy listener, so they
		// must share the address; EG's cases sometimes differ there.
		port := l.Port
		for a, ok := addrOf[port]; ok && a != l.Address; a, ok = addrOf[port] {
			port += 1000
		}
		addrOf[port] = l.Address
		hl := &ir.HTTPListener{Name: l.Name, Address: l.Address, Port: port, GatewayPort: port}
		if l.TLS != nil {
			hl.TLS = &ir.TLSConfig{}
			for _, c := range l.TLS.Certificates {
				hl.TLS.Certificates = append(hl.TLS.Certificates, &ir.Certificate{Name: c.Name, Certificate: bytesOf(c.Certificate), PrivateKey: bytesOf(c.PrivateKey)})
			}
		}
		vhosts := map[string]*ir.VirtualHost{}
		var order []string
		for _, r := range l.Routes {
			host := r.Hostname
			if host == "" {
				host = "*"
			}
			vh := vhosts[host]
			if vh == nil {
				vh = &ir.VirtualHost{Name: l.Name + "/" + strings.ReplaceAll(host, ".", "_"), Domains: []string{host}}
				vhosts[host] = vh
				order = append(order, host)
			}
			route := &ir.HTTPRoute{Name: r.Name, Match: ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"}}
			if r.PathMatch != nil && r.PathMatch.Prefix != "" {
				route.Match.Path = r.PathMatch.Prefix
			}
			if r.PathMatch != nil && r.PathMatch.Exact != "" {
				route.Match = ir.HTTPMatch{PathType: ir.PathExact, Path: r.PathMatch.Exact}
			}
			for _, h := range r.HeaderMatches {
				route.Match.Headers = append(route.Match.Headers, ir.StringMatch{Name: h.Name, Type: ir.MatchExact, Value: h.Exact})
			}
			if r.Destination != nil {
				route.Destination = irDest(*r.Destination, ir.ProtocolHTTP1)
			} else {
				route.DirectResponse = &ir.DirectResponse{StatusCode: 500}
			}
			if e := r.Extensions; e != nil {
				ext := &ir.ExtensionSettings{}
				for _, x := range e.ExtProcs {
					ep := &ir.ExtProc{Name: x.Name, Authority: x.Authority, Destination: irDest(x.Destination, ir.ProtocolHTTP2),
						FailOpen: x.FailOpen != nil && *x.FailOpen, Observability: x.ShadowMode != nil && *x.ShadowMode,
						RequestHeaders: x.RequestHeaderProcessing, ResponseHeaders: x.ResponseHeaderProcessing,
						RequestBody: ir.ExtProcBodyMode(x.RequestBodyProcessingMode), ResponseBody: ir.ExtProcBodyMode(x.ResponseBodyProcessingMode),
						RequestAttributes: x.RequestAttributes, ResponseAttributes: x.ResponseAttributes, AllowModeOverride: x.AllowModeOverride,
						ForwardingNamespaces: x.ForwardingMetadataNamespaces, ReceivingNamespaces: x.ReceivingMetadataNamespaces}
					if x.StatusOnError != nil {
						ep.StatusOnError = *x.StatusOnError
					}
					if x.MessageTimeout != "" {
						ep.MessageTimeout, _ = time.ParseDuration(x.MessageTimeout)
					}
					if x.Traffic != nil {
						note.add("extProc %s has backend settings egctl refuses", x.Name)
					}
					ext.ExtProcs = append(ext.ExtProcs, ep)
				}
				for _, w := range e.Wasms {
					iw := &ir.Wasm{Name: w.Name, PluginName: w.WasmName, FailOpen: w.FailOpen, HostEnvKeys: w.HostKeys}
					if w.RootID != nil {
						iw.RootID = *w.RootID
					}
					if len(w.Config) > 0 && string(w.Config) != "null" {
						iw.Config = canonJSON(w.Config)
					}
					iw.Code = &ir.ExtensionCode{Remote: remoteOf(w.Code.ServingURL, w.Code.SHA256)}
					ext.Wasms = append(ext.Wasms, iw)
				}
				for _, l := range e.Luas {
					il := &ir.Lua{Name: l.Name, Code: l.Code}
					if len(l.FilterContext) > 0 && string(l.FilterContext) != "null" {
						il.FilterContext = canonJSON(l.FilterContext)
					}
					ext.Luas = append(ext.Luas, il)
				}
				for _, d := range e.DynamicModules {
					if d.TerminalFilter {
						note.add("dynamic module %s is a terminal filter egctl refuses", d.Name)
						continue
					}
					id := &ir.DynamicModule{Name: d.Name, FilterName: d.FilterName, DoNotClose: d.DoNotClose, LoadGlobally: d.LoadGlobally}
					if len(d.Config) > 0 && string(d.Config) != "null" {
						id.Config = canonJSON(d.Config)
					}
					id.Code = &ir.ExtensionCode{Local: d.Path}
					if d.Remote != nil {
						id.Code = &ir.ExtensionCode{Remote: remoteOf(d.Remote.URL, d.Remote.SHA256)}
					}
					ext.DynamicModules = append(ext.DynamicModules, id)
				}
				route.Extensions = ext
			}
			vh.Routes = append(vh.Routes, route)
		}
		sort.Strings(order)
		for _, h := range order {
			hl.VirtualHosts = append(hl.VirtualHosts, vhosts[h])
		}
		p.HTTP = append(p.HTTP, hl)
	}
	sort.SliceStable(p.HTTP, func(i, j int) bool { return p.HTTP[i].Port < p.HTTP[j].Port })
	for _, ep := range in.EnvoyPatchPolicies {
		pol := &ir.EnvoyPatch{Policy: ep.Namespace + "/" + ep.Name}
		for _, jp := range ep.JSONPatches {
			op := jp.Operation
			x := ir.JSONPatch{Type: jp.Type, Name: jp.Name, Op: op.Op}
			if op.Path != nil {
				x.Path, x.HasPath = *op.Path, true
			}
			if op.JSONPath != nil {
				x.JSONPath = *op.JSONPath
			}
			if op.From != nil {
				x.From, x.HasFrom = *op.From, true
			}
			if len(op.Value) > 0 {
				x.Value = op.Value
			}
			pol.Patches = append(pol.Patches, x)
		}
		p.Patches = append(p.Patches, pol)
	}
	return &ir.Config{Proxies: []*ir.Proxy{p}}
}

// loadYAMLProto reads a YAML list of resources into messages of m's type.
func loadYAMLList[T proto.Message](path string, newT func() T) ([]T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(j, &items); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		m := newT()
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(it, m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// extFilters returns the extension HTTP filters of every HCM of listeners,
// by name.
func extFilters(t *testing.T, ls []*listenerv3.Listener) map[string]*hcmv3.HttpFilter {
	t.Helper()
	out := map[string]*hcmv3.HttpFilter{}
	for _, l := range ls {
		chains := append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...)
		for _, fc := range chains {
			for _, f := range fc.GetFilters() {
				h := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(h) != nil {
					continue
				}
				for _, hf := range h.HttpFilters {
					for _, typ := range []string{"envoy.filters.http.ext_proc/", "envoy.filters.http.wasm/", "envoy.filters.http.lua/", "envoy.filters.http.dynamic_modules/"} {
						if strings.HasPrefix(hf.Name, typ) {
							out[hf.Name] = hf
						}
					}
				}
			}
		}
	}
	return out
}

// routeFilterConfigs returns every route's typed_per_filter_config for
// extension filters, keyed "route filter".
func routeFilterConfigs(rcs []*routev3.RouteConfiguration) map[string]*anypb.Any {
	out := map[string]*anypb.Any{}
	for _, rc := range rcs {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				for n, a := range r.TypedPerFilterConfig {
					out[r.Name+" "+n] = a
				}
			}
		}
	}
	return out
}

func anyJSON(a *anypb.Any) string {
	if a == nil {
		return "nil"
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return a.GetTypeUrl()
	}
	b, _ := protojson.MarshalOptions{}.Marshal(m)
	return canonJSON(b)
}

func TestEnvoyGatewayXDSCases(t *testing.T) {
	dir := filepath.Join(egDir(t), "internal", "xds", "translator", "testdata")
	used := map[int]bool{}
	checked := 0
	var unexpected []string
	report := func(name, d string) {
		for i, e := range xdsExpectations {
			if (e.Case == "" || e.Case == name) && strings.Contains(d, e.Mismatch) {
				used[i] = true
				return
			}
		}
		unexpected = append(unexpected, name+": "+d)
	}
	for _, name := range xdsCases {
		raw, err := os.ReadFile(filepath.Join(dir, "in", "xds-ir", name+".yaml"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		in := &egXDSIR{}
		if err := yaml.Unmarshal(raw, in); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		note := &convertNote{}
		res, err := xds.Translate(egctlIR(in, note))
		if xdsErrorCases[name] {
			checked++
			if err == nil && patchOutcome(res[0]) != "Invalid" {
				report(name, "EG refuses the case; egctl applied it")
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: egctl xds: %v", name, err)
			continue
		}
		for _, n := range note.notes {
			report(name, "not carried over: "+n)
		}
		r := res[0]
		out := filepath.Join(dir, "out", "xds-ir", name)

		// Extension filters.
		egLis, err := loadYAMLList(out+".listeners.yaml", func() *listenerv3.Listener { return &listenerv3.Listener{} })
		if err != nil {
			t.Errorf("%s: EG listeners: %v", name, err)
			continue
		}
		want, got := extFilters(t, egLis), extFilters(t, r.Listeners)
		for _, n := range sortedKeys(want) {
			checked++
			g, ok := got[n]
			if !ok {
				report(name, "filter "+n+": missing in egctl")
				continue
			}
			if g.Disabled != want[n].Disabled {
				report(name, fmt.Sprintf("filter %s: disabled EG=%v egctl=%v", n, want[n].Disabled, g.Disabled))
			}
			if wj, gj := anyJSON(want[n].GetTypedConfig()), anyJSON(g.GetTypedConfig()); wj != gj {
				report(name, fmt.Sprintf("filter %s: config %s", n, jsonDiff(wj, gj)))
			}
		}
		for _, n := range sortedKeys(got) {
			if _, ok := want[n]; !ok {
				report(name, "filter "+n+": only in egctl")
			}
		}
		egRoutes, err := loadYAMLList(out+".routes.yaml", func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} })
		if err != nil {
			t.Errorf("%s: EG routes: %v", name, err)
			continue
		}
		wantPer, gotPer := routeFilterConfigs(egRoutes), routeFilterConfigs(r.Routes)
		for _, k := range sortedKeys(wantPer) {
			checked++
			if wj, gj := anyJSON(wantPer[k]), anyJSON(gotPer[k]); wj != gj {
				report(name, fmt.Sprintf("per-route %s: %s", k, jsonDiff(wj, gj)))
			}
		}

		// Patch outcomes.
		if len(in.EnvoyPatchPolicies) > 0 {
			wantOutcome, err := egPatchOutcomes(out + ".envoypatchpolicies.yaml")
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			allApplied := true
			for _, pr := range r.PatchResults {
				checked++
				got := resultOutcome(pr)
				allApplied = allApplied && got == "Programmed"
				if want := wantOutcome[pr.Policy]; got != want {
					report(name, fmt.Sprintf("policy %s: patch outcome EG=%s egctl=%s (%+v)", pr.Policy, want, got, pr))
				}
			}
			if allApplied {
				for _, d := range patchedValues(t, in, r, out) {
					report(name, d)
				}
			}
		}
	}
	for _, u := range unexpected {
		t.Errorf("unexpected mismatch: %s", u)
	}
	if os.Getenv("EGCOMPAT_RUN") == "" {
		for i, e := range xdsExpectations {
			if !used[i] {
				t.Errorf("xDS expectation %d (%s, %q) matched nothing", i, e.Case, e.Mismatch)
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing compared")
	}
	t.Logf("%d xDS cases, %d filters, per-route configs and patch outcomes compared", len(xdsCases), checked)
}

// resultOutcome is the Programmed reason of one egctl result.
func resultOutcome(pr ir.PatchResult) string {
	switch {
	case len(pr.Errors) > 0:
		return "Invalid"
	case len(pr.NotFound) > 0:
		return "ResourceNotFound"
	}
	return "Programmed"
}

// patchOutcome is the worst Programmed reason of egctl's results.
func patchOutcome(r *xds.Resources) string {
	out := "Programmed"
	for _, pr := range r.PatchResults {
		switch o := resultOutcome(pr); {
		case o == "Invalid":
			out = o
		case o == "ResourceNotFound" && out != "Invalid":
			out = o
		}
	}
	return out
}

// egPatchOutcomes are the Programmed reasons EG's case expects, by policy
// "namespace/name".
func egPatchOutcomes(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ps []struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Status    struct {
			Ancestors []struct {
				Conditions []struct {
					Type, Reason string
				} `json:"conditions"`
			} `json:"ancestors"`
		} `json:"status"`
	}
	if err := yaml.Unmarshal(raw, &ps); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range ps {
		for _, a := range p.Status.Ancestors {
			for _, c := range a.Conditions {
				if c.Type == "Programmed" {
					out[p.Namespace+"/"+p.Name] = c.Reason
				}
			}
		}
	}
	return out, nil
}

// patchedValues checks that each add/replace by path left its value in
// egctl's resource where EG's output has the same value.
func patchedValues(t *testing.T, in *egXDSIR, r *xds.Resources, out string) []string {
	t.Helper()
	var diffs []string
	files := map[string]string{ir.TypeListener: ".listeners.yaml", ir.TypeRouteConfig: ".routes.yaml", ir.TypeCluster: ".clusters.yaml",
		ir.TypeEndpoints: ".endpoints.yaml", ir.TypeSecret: ".secrets.yaml"}
	for _, ep := range in.EnvoyPatchPolicies {
		for _, jp := range ep.JSONPatches {
			op := jp.Operation
			if (op.Op != "add" && op.Op != "replace") || op.Path == nil || *op.Path == "" || op.JSONPath != nil {
				continue
			}
			ours := resourceJSON(r, jp.Type, jp.Name)
			egDoc := egResourceJSON(out+files[jp.Type], jp.Type, jp.Name)
			if ours == nil || egDoc == nil {
				diffs = append(diffs, fmt.Sprintf("patched %s %s: resource missing (egctl %v, EG %v)", jp.Type, jp.Name, ours != nil, egDoc != nil))
				continue
			}
			gv, gerr := pointerValue(ours, *op.Path)
			wv, werr := pointerValue(egDoc, *op.Path)
			if gerr != nil || werr != nil || gv != wv {
				diffs = append(diffs, fmt.Sprintf("patched %s %s %s: EG=%s (%v) egctl=%s (%v)", jp.Type, jp.Name, *op.Path, wv, werr, gv, gerr))
			}
		}
	}
	return diffs
}

func resourceJSON(r *xds.Resources, typ, name string) []byte {
	var m proto.Message
	switch typ {
	case ir.TypeListener:
		for _, x := range r.Listeners {
			if x.GetName() == name {
				m = x
			}
		}
	case ir.TypeRouteConfig:
		for _, x := range r.Routes {
			if x.GetName() == name {
				m = x
			}
		}
	case ir.TypeCluster:
		for _, x := range r.Clusters {
			if x.GetName() == name {
				m = x
			}
		}
	case ir.TypeEndpoints:
		for _, x := range r.Endpoints {
			if x.GetClusterName() == name {
				m = x
			}
		}
	case ir.TypeSecret:
		for _, x := range r.Secrets {
			if x.GetName() == name {
				m = x
			}
		}
	}
	if m == nil {
		return nil
	}
	b, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	return b
}

// egResourceJSON finds a resource by name in EG's YAML output, printed
// as the patch sees it (protojson, proto names).
func egResourceJSON(path, typ, name string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil
	}
	var items []map[string]any
	if json.Unmarshal(j, &items) != nil {
		return nil
	}
	for _, it := range items {
		if it["name"] == name || it["clusterName"] == name {
			b, _ := json.Marshal(it)
			// Print it as the patch saw egctl's: protojson, proto names.
			m := newMessage(typ)
			if m == nil || (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m) != nil {
				return b
			}
			out, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
			return out
		}
	}
	return nil
}

func newMessage(typ string) proto.Message {
	switch typ {
	case ir.TypeListener:
		return &listenerv3.Listener{}
	case ir.TypeRouteConfig:
		return &routev3.RouteConfiguration{}
	case ir.TypeCluster:
		return &clusterv3.Cluster{}
	case ir.TypeEndpoints:
		return &endpointv3.ClusterLoadAssignment{}
	case ir.TypeSecret:
		return &tlsv3.Secret{}
	}
	return nil
}

// pointerValue reads a JSON pointer from doc, accepting the lowerCamel
// spelling EG's YAML uses for proto field names.
func pointerValue(doc []byte, ptr string) (string, error) {
	for _, p := range []string{ptr, camelPointer(ptr)} {
		probe, err := jsonpatch.DecodePatch([]byte(fmt.Sprintf(`[{"op":"copy","from":%q,"path":"/__probe"}]`, p)))
		if err != nil {
			return "", err
		}
		out, err := probe.Apply(doc)
		if err != nil {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			return "", err
		}
		return canonJSON(m["__probe"]), nil
	}
	return "", fmt.Errorf("%s not found", ptr)
}

func camelPointer(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		segs := strings.Split(s, "_")
		for j := 1; j < len(segs); j++ {
			if segs[j] != "" {
				segs[j] = strings.ToUpper(segs[j][:1]) + segs[j][1:]
			}
		}
		parts[i] = strings.Join(segs, "")
	}
	return strings.Join(parts, "/")
}

// jsonDiff names the top-level keys two JSON objects differ in.
func jsonDiff(want, got string) string {
	var w, g map[string]any
	if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
		return "EG=" + want + " egctl=" + got
	}
	var keys []string
	for k := range w {
		if fmt.Sprint(w[k]) != fmt.Sprint(g[k]) {
			keys = append(keys, k)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		a, _ := json.Marshal(w[k])
		b, _ := json.Marshal(g[k])
		parts = append(parts, fmt.Sprintf("%s EG=%s egctl=%s", k, a, b))
	}
	return strings.Join(parts, "; ")
}
