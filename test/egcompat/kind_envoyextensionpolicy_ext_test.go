package egcompat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/translate"
)

// TestEnvoyGatewayExtensions compares, for every EG translator case with
// EnvoyExtensionPolicies that egctl takes, the extensions each route gets:
// external processors (cluster, backends, authority, processing mode,
// attributes, metadata namespaces, failure settings), Wasm (names, root ID,
// configuration, failOpen, host keys, the URL and checksum of the code),
// Lua (name and code) and dynamic modules. The route-structure comparison
// of TestEnvoyGatewayCases does not look at them.
func TestEnvoyGatewayExtensions(t *testing.T) {
	dir := filepath.Join(egDir(t), "internal", "gatewayapi", "testdata")
	base, err := loadBaseSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := filepath.Glob(filepath.Join(dir, "envoyextensionpolicy-*.in.yaml"))
	compared, same := 0, 0
	used := map[int]bool{}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		c, skip, err := loadCase(dir, name, base)
		var de *decodeError
		if errors.As(err, &de) || skip != "" {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		res, err := translate.Translate(c.In, translate.Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, err := egExtensions(filepath.Join(dir, name+".out.yaml"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		compared++
		got := ourExtensions(res.IR)
		for _, k := range sortedKeys(want) {
			g, ok := got[k]
			if !ok {
				continue // a route egctl does not have is TestEnvoyGatewayCases's business
			}
			if g == want[k] && g != "" {
				same++
			}
			if g != want[k] {
				d := fmt.Sprintf("route %s: extensions EG=%s egctl=%s", k, want[k], g)
				if i := extExpected(name, d); i >= 0 {
					used[i] = true
					continue
				}
				t.Errorf("%s: %s", name, d)
			}
		}
		for _, k := range sortedKeys(got) {
			if _, ok := want[k]; !ok && got[k] != "" {
				t.Errorf("%s: route %s: extensions only in egctl: %s", name, k, got[k])
			}
		}
	}
	if compared == 0 || same == 0 {
		t.Fatalf("compared %d cases, %d routes with the same extensions: nothing was checked", compared, same)
	}
	t.Logf("%d cases, %d routes with extensions identical to Envoy Gateway's", compared, same)
	if os.Getenv("EGCOMPAT_RUN") == "" {
		for i, e := range extExpectations {
			if !used[i] {
				t.Errorf("extension expectation %d (%s, %q) matched nothing", i, e.Case, e.Mismatch)
			}
		}
	}
}

// extExpectations are accepted extension differences (the same classes as
// expectations).
var extExpectations = []expectation{
	{"envoyextensionpolicy-failopen", "", "b", whyWasmFetch},
}

func extExpected(name, diff string) int {
	for i, e := range extExpectations {
		if (e.Case == "" || e.Case == name) && strings.Contains(diff, e.Mismatch) {
			return i
		}
	}
	return -1
}

// egExtSettings is the part of EG's IR route extensions compared.
type egExtSettings struct {
	ExtProcs []struct {
		Name        string `json:"name"`
		Authority   string `json:"authority"`
		Destination struct {
			Name     string `json:"name"`
			Settings []struct {
				Name string `json:"name"`
			} `json:"settings"`
		} `json:"destination"`
		FailOpen                     *bool    `json:"failOpen"`
		ShadowMode                   *bool    `json:"shadowMode"`
		MessageTimeout               string   `json:"messageTimeout"`
		StatusOnError                *int     `json:"statusOnError"`
		RequestHeaderProcessing      bool     `json:"requestHeaderProcessing"`
		ResponseHeaderProcessing     bool     `json:"responseHeaderProcessing"`
		RequestBodyProcessingMode    string   `json:"requestBodyProcessingMode"`
		ResponseBodyProcessingMode   string   `json:"responseBodyProcessingMode"`
		RequestAttributes            []string `json:"requestAttributes"`
		ResponseAttributes           []string `json:"responseAttributes"`
		AllowModeOverride            bool     `json:"allowModeOverride"`
		ForwardingMetadataNamespaces []string `json:"forwardingMetadataNamespaces"`
		ReceivingMetadataNamespaces  []string `json:"receivingMetadataNamespaces"`
	} `json:"extProcs"`
	Wasms []struct {
		Name     string          `json:"name"`
		WasmName string          `json:"wasmName"`
		RootID   *string         `json:"rootID"`
		Config   json.RawMessage `json:"config"`
		FailOpen bool            `json:"failOpen"`
		HostKeys []string        `json:"hostKeys"`
		Code     struct {
			URL    string `json:"originalDownloadingURL"`
			SHA256 string `json:"sha256"`
		} `json:"httpWasmCode"`
	} `json:"wasms"`
	Luas []struct {
		Name string `json:"name"`
		Code string `json:"code"`
	} `json:"luas"`
	DynamicModules []struct {
		Name       string `json:"name"`
		FilterName string `json:"filterName"`
	} `json:"dynamicModules"`
}

// egExtensions reads the extensions of every route of EG's expected IR,
// keyed "listener route".
func egExtensions(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out struct {
		XdsIR map[string]struct {
			HTTP []struct {
				Name   string `json:"name"`
				Routes []struct {
					Name       string         `json:"name"`
					Extensions *egExtSettings `json:"envoyExtensions"`
				} `json:"routes"`
			} `json:"http"`
		} `json:"xdsIR"`
	}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, p := range out.XdsIR {
		for _, l := range p.HTTP {
			for _, r := range l.Routes {
				m[l.Name+" "+r.Name] = egExtView(r.Extensions)
			}
		}
	}
	return m, nil
}

func ourExtensions(cfg *ir.Config) map[string]string {
	m := map[string]string{}
	for _, p := range cfg.Proxies {
		for _, l := range p.HTTP {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					if r.DirectResponse != nil {
						// A route failed closed: its extensions do not
						// matter (EG may still list some on it).
						continue
					}
					m[l.Name+" "+r.Name] = ourExtView(r.Extensions)
				}
			}
		}
	}
	return m
}

func canonJSON(b []byte) string {
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	c, _ := json.Marshal(v)
	return string(c)
}

func boolp(b *bool) bool { return b != nil && *b }

func egExtView(e *egExtSettings) string {
	if e == nil {
		return ""
	}
	var parts []string
	for _, x := range e.ExtProcs {
		var bs []string
		for _, s := range x.Destination.Settings {
			bs = append(bs, s.Name)
		}
		sort.Strings(bs)
		status := 0
		if x.StatusOnError != nil {
			status = *x.StatusOnError
		}
		timeout := ""
		if x.MessageTimeout != "" {
			if d, err := time.ParseDuration(x.MessageTimeout); err == nil {
				timeout = d.String()
			}
		}
		parts = append(parts, fmt.Sprintf("extproc{%s dest=%s%v authority=%s req=%v/%s resp=%v/%s failOpen=%v shadow=%v status=%d timeout=%s attrs=%v/%v override=%v md=%v/%v}",
			x.Name, x.Destination.Name, bs, x.Authority, x.RequestHeaderProcessing, x.RequestBodyProcessingMode,
			x.ResponseHeaderProcessing, x.ResponseBodyProcessingMode, boolp(x.FailOpen), boolp(x.ShadowMode), status, timeout,
			x.RequestAttributes, x.ResponseAttributes, x.AllowModeOverride, x.ForwardingMetadataNamespaces, x.ReceivingMetadataNamespaces))
	}
	for _, w := range e.Wasms {
		root := ""
		if w.RootID != nil {
			root = *w.RootID
		}
		parts = append(parts, fmt.Sprintf("wasm{%s plugin=%s root=%s config=%s failOpen=%v keys=%v url=%s sha=%s}",
			w.Name, w.WasmName, root, canonJSON(w.Config), w.FailOpen, w.HostKeys, w.Code.URL, w.Code.SHA256))
	}
	for _, l := range e.Luas {
		parts = append(parts, fmt.Sprintf("lua{%s %q}", l.Name, l.Code))
	}
	for _, d := range e.DynamicModules {
		parts = append(parts, fmt.Sprintf("dm{%s filter=%s}", d.Name, d.FilterName))
	}
	return strings.Join(parts, " ")
}

func ourExtView(e *ir.ExtensionSettings) string {
	if e == nil {
		return ""
	}
	var parts []string
	for _, x := range e.ExtProcs {
		var bs []string
		for _, b := range x.Destination.Backends {
			bs = append(bs, b.Name)
		}
		sort.Strings(bs)
		timeout := ""
		if x.MessageTimeout > 0 {
			timeout = x.MessageTimeout.String()
		}
		parts = append(parts, fmt.Sprintf("extproc{%s dest=%s%v authority=%s req=%v/%s resp=%v/%s failOpen=%v shadow=%v status=%d timeout=%s attrs=%v/%v override=%v md=%v/%v}",
			x.Name, x.Destination.Name, bs, x.Authority, x.RequestHeaders, x.RequestBody, x.ResponseHeaders, x.ResponseBody,
			x.FailOpen, x.Observability, x.StatusOnError, timeout, x.RequestAttributes, x.ResponseAttributes, x.AllowModeOverride,
			x.ForwardingNamespaces, x.ReceivingNamespaces))
	}
	for _, w := range e.Wasms {
		url, sha := "", ""
		if w.Code != nil && w.Code.Remote != nil {
			url, sha = w.Code.Remote.URL, w.Code.Remote.SHA256
		}
		parts = append(parts, fmt.Sprintf("wasm{%s plugin=%s root=%s config=%s failOpen=%v keys=%v url=%s sha=%s}",
			w.Name, w.PluginName, w.RootID, canonJSON([]byte(w.Config)), w.FailOpen, w.HostEnvKeys, url, sha))
	}
	for _, l := range e.Luas {
		parts = append(parts, fmt.Sprintf("lua{%s %q}", l.Name, l.Code))
	}
	for _, d := range e.DynamicModules {
		parts = append(parts, fmt.Sprintf("dm{%s filter=%s}", d.Name, d.FilterName))
	}
	return strings.Join(parts, " ")
}
