package translate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// proxyConfig is one EnvoyProxy spec (a class's, a Gateway's, or both
// merged) translated once and shared by every Gateway that uses it.
type proxyConfig struct {
	// settings go on the proxy as they are, except Tracing.ServiceName
	// when tracingNamed is false (it is the Gateway's name then).
	settings     *ir.ProxySettings
	tracingNamed bool
	filterOrder  []ir.FilterPosition
	// preserveOrder keeps HTTPRoute rules in the order written instead of
	// Gateway API precedence (spec.preserveRouteOrder).
	preserveOrder bool
	// serviceRouting sends traffic to Service cluster IPs instead of
	// endpoints (spec.routingType: Service).
	serviceRouting bool
	// mergeGateways: one proxy for every Gateway of the class.
	mergeGateways bool
	// mergeBackends: routes share the clusters of their backends
	// (mergebackends.go).
	mergeBackends *mergeConfig
	// keepPorts binds privileged ports as written
	// (provider.kubernetes.useListenerPortAsContainerPort).
	keepPorts bool
	// backendTLS is spec.backendTLS: client certificate and TLS
	// parameters for TLS backends (envoyproxy_apply.go).
	backendTLS *ir.BackendTLS
	warnings   []epWarning
	// object is the EnvoyProxy in force (the Gateway's laid over the
	// class's, when merged), for the policy kinds that read its spec
	// (EnvoyExtensionPolicy: luaValidation, dynamicModules).
	object *egv1a1.EnvoyProxy
}

// epTranslator translates one spec, collecting every error with its
// field path.
type epTranslator struct {
	b *builder
	// src are the EnvoyProxy objects merged, least specific first; the
	// last one's namespace is where references are looked up.
	src     []*egv1a1.EnvoyProxy
	resolve bool
	cfg     *proxyConfig
	errs    []string
}

func (t *epTranslator) fail(path, format string, args ...any) {
	t.errs = append(t.errs, path+": "+fmt.Sprintf(format, args...))
}

func (t *epTranslator) owner() *egv1a1.EnvoyProxy { return t.src[len(t.src)-1] }

// warnAll warns on every source object that sets what msg describes.
func (t *epTranslator) warn(set func(*egv1a1.EnvoyProxySpec) bool, msg string) {
	for _, ep := range t.src {
		if set(&ep.Spec) {
			t.cfg.warnings = append(t.cfg.warnings, epWarning{envoyProxyKey(ep), msg})
		}
	}
}

// translateSpec turns spec into a proxyConfig. Every field of
// EnvoyProxySpec (v1.9.1) is either honoured, accepted with a warning
// (settings of the Kubernetes objects Envoy Gateway deploys, which
// egctl does not deploy; Envoy command-line flags, which a bootstrap cannot
// carry), or refused with an error naming it.
func (b *builder) translateSpec(src []*egv1a1.EnvoyProxy, spec *egv1a1.EnvoyProxySpec, resolve bool) (*proxyConfig, error) {
	owner := src[len(src)-1]
	t := &epTranslator{b: b, src: src, resolve: resolve, cfg: &proxyConfig{settings: &ir.ProxySettings{},
		object: &egv1a1.EnvoyProxy{TypeMeta: owner.TypeMeta, ObjectMeta: owner.ObjectMeta, Spec: *spec}}}
	s := t.cfg.settings
	for _, ep := range src {
		s.EnvoyProxy = append(s.EnvoyProxy, ep.Namespace+"/"+ep.Name)
	}
	t.provider(spec.Provider)
	t.commandLine(spec)
	if spec.MergeType != nil {
		switch *spec.MergeType {
		case egv1a1.Replace, egv1a1.StrategicMerge, egv1a1.JSONMerge:
		default:
			t.fail("spec.mergeType", "unsupported value %q (Replace, StrategicMerge or JSONMerge)", *spec.MergeType)
		}
	}
	if spec.IPFamily != nil {
		switch *spec.IPFamily {
		case egv1a1.IPv4:
		case egv1a1.IPv6, egv1a1.DualStack:
			s.IPFamily = ir.IPFamily(*spec.IPFamily)
		default:
			t.fail("spec.ipFamily", "unsupported value %q (IPv4, IPv6 or DualStack)", *spec.IPFamily)
		}
	}
	if spec.RoutingType != nil {
		switch *spec.RoutingType {
		case egv1a1.ServiceRoutingType:
			t.cfg.serviceRouting = true
		case egv1a1.EndpointRoutingType:
		default:
			t.fail("spec.routingType", "unsupported value %q (Service or Endpoint)", *spec.RoutingType)
		}
	}
	t.cfg.preserveOrder = spec.PreserveRouteOrder != nil && *spec.PreserveRouteOrder
	t.cfg.mergeGateways = spec.MergeGateways != nil && *spec.MergeGateways
	t.mergeBackends(spec) // mergebackends.go
	t.filterOrder(spec.FilterOrder)
	t.bootstrap(spec.Bootstrap)
	t.backendTLS(spec.BackendTLS)
	t.telemetry(spec.Telemetry) // envoyproxy_telemetry.go
	if bt := t.cfg.backendTLS; bt != nil {
		// Collectors behind TLS present the same client certificate.
		fix := backendTLSFixer(bt)
		for _, svc := range telemetryServices(s) {
			svc.Destination = fix(svc.Destination)
		}
	}
	if spec.LuaValidation != nil {
		switch *spec.LuaValidation {
		case egv1a1.LuaValidationStrict, egv1a1.LuaValidationInsecureSyntax, egv1a1.LuaValidationDisabled:
			s.LuaValidation = string(*spec.LuaValidation)
		default:
			t.fail("spec.luaValidation", "unsupported value %q (Strict, InsecureSyntax or Disabled)", *spec.LuaValidation)
		}
	}
	t.dynamicModules(spec.DynamicModules)
	t.geoIP(spec.GeoIP)
	if len(t.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(t.errs, "; "))
	}
	return t.cfg, nil
}

// provider: the Kubernetes objects Envoy Gateway would deploy have no
// meaning offline; they are accepted with one warning. The one Kubernetes
// setting that changes Envoy's configuration, useListenerPortAsContainerPort,
// is honoured: listeners bind the Gateway's ports as written.
func (t *epTranslator) provider(p *egv1a1.EnvoyProxyProvider) {
	if p == nil {
		return
	}
	switch p.Type {
	case egv1a1.EnvoyProxyProviderTypeKubernetes:
		if p.Host != nil {
			t.fail("spec.provider.host", "must be unset when the provider type is Kubernetes")
		}
	case egv1a1.EnvoyProxyProviderTypeHost:
		if p.Host == nil {
			t.fail("spec.provider.host", "required when the provider type is Host")
		}
		if p.Kubernetes != nil {
			t.fail("spec.provider.kubernetes", "must be unset when the provider type is Host")
		}
	default:
		t.fail("spec.provider.type", "unsupported value %q (Kubernetes or Host)", p.Type)
	}
	if k := p.Kubernetes; k != nil {
		var set []string
		if k.EnvoyDeployment != nil {
			set = append(set, "envoyDeployment")
		}
		if k.EnvoyDaemonSet != nil {
			set = append(set, "envoyDaemonSet")
		}
		if k.EnvoyService != nil {
			set = append(set, "envoyService")
		}
		if k.EnvoyHpa != nil {
			set = append(set, "envoyHpa")
		}
		if k.EnvoyPDB != nil {
			set = append(set, "envoyPDB")
		}
		if k.EnvoyServiceAccount != nil {
			set = append(set, "envoyServiceAccount")
		}
		if k.EnvoyDeployment != nil && k.EnvoyDaemonSet != nil {
			t.fail("spec.provider.kubernetes", "envoyDeployment and envoyDaemonSet are mutually exclusive")
		}
		if len(set) > 0 {
			t.warn(func(s *egv1a1.EnvoyProxySpec) bool { return s.Provider != nil && s.Provider.Kubernetes != nil },
				"spec.provider.kubernetes ("+strings.Join(set, ", ")+") configures the Kubernetes objects Envoy Gateway deploys; egctl deploys nothing and applies none of it")
		}
		if k.UseListenerPortAsContainerPort != nil && *k.UseListenerPortAsContainerPort {
			t.cfg.keepPorts = true
		}
	}
	if h := p.Host; h != nil && h.EnvoyVersion != nil {
		t.warn(func(s *egv1a1.EnvoyProxySpec) bool {
			return s.Provider != nil && s.Provider.Host != nil && s.Provider.Host.EnvoyVersion != nil
		},
			"spec.provider.host.envoyVersion is not applied: the bootstrap runs on whichever Envoy starts it")
	}
}

// commandLine collects what only Envoy's command line can set (Envoy
// Gateway passes these flags to the Envoy it starts): log levels,
// concurrency, drain time and extra args. A bootstrap cannot carry them, so
// egctl lists the flags in the IR and in a warning for whoever starts
// Envoy. The shutdown manager's timings (minDrainDuration,
// healthCheckFailureDelay) drive Envoy Gateway's pod pre-stop hook, which
// egctl does not deploy.
func (t *epTranslator) commandLine(spec *egv1a1.EnvoyProxySpec) {
	var flags []string
	if lv := spec.Logging.Level; len(lv) > 0 {
		valid := map[egv1a1.LogLevel]bool{egv1a1.LogLevelTrace: true, egv1a1.LogLevelDebug: true, egv1a1.LogLevelInfo: true,
			egv1a1.LogLevelWarn: true, egv1a1.LogLevelError: true, egv1a1.LogLevelCritical: true, egv1a1.LogLevelOff: true}
		def := "warn"
		var comps []string
		for c, l := range lv {
			if !valid[l] {
				t.fail("spec.logging.level."+string(c), "unsupported level %q (trace, debug, info, warn, error, critical or off)", l)
				continue
			}
			if c == egv1a1.LogComponentDefault {
				def = string(l)
				continue
			}
			comps = append(comps, string(c)+":"+string(l))
		}
		sort.Strings(comps)
		flags = append(flags, "--log-level", def)
		if len(comps) > 0 {
			flags = append(flags, "--component-log-level", strings.Join(comps, ","))
		}
	}
	if spec.Concurrency != nil {
		if *spec.Concurrency < 0 {
			t.fail("spec.concurrency", "must not be negative")
		}
		flags = append(flags, "--concurrency", strconv.Itoa(int(*spec.Concurrency)))
	}
	if sd := spec.Shutdown; sd != nil {
		if sd.DrainTimeout != nil {
			d, err := time.ParseDuration(string(*sd.DrainTimeout))
			if err != nil || d < 0 {
				t.fail("spec.shutdown.drainTimeout", "%q is not a duration", *sd.DrainTimeout)
			} else {
				flags = append(flags, "--drain-time-s", strconv.Itoa(int(d.Round(time.Second)/time.Second)), "--drain-strategy", "immediate")
			}
		}
		if sd.MinDrainDuration != nil || sd.HealthCheckFailureDelay != nil {
			for _, f := range []struct {
				path string
				v    *string
			}{{"healthCheckFailureDelay", durStr(sd.HealthCheckFailureDelay)}, {"minDrainDuration", durStr(sd.MinDrainDuration)}} {
				if f.v != nil {
					if _, err := time.ParseDuration(*f.v); err != nil {
						t.fail("spec.shutdown."+f.path, "%q is not a duration", *f.v)
					}
				}
			}
			t.warn(func(s *egv1a1.EnvoyProxySpec) bool {
				return s.Shutdown != nil && (s.Shutdown.MinDrainDuration != nil || s.Shutdown.HealthCheckFailureDelay != nil)
			}, "spec.shutdown.minDrainDuration and healthCheckFailureDelay time Envoy Gateway's pod shutdown hook; egctl deploys none and applies neither")
		}
	}
	flags = append(flags, spec.ExtraArgs...)
	if len(flags) > 0 {
		t.cfg.settings.CommandLine = flags
		t.warn(func(s *egv1a1.EnvoyProxySpec) bool {
			return len(s.Logging.Level) > 0 || s.Concurrency != nil || len(s.ExtraArgs) > 0 || (s.Shutdown != nil && s.Shutdown.DrainTimeout != nil)
		}, "logging, concurrency, shutdown.drainTimeout and extraArgs are Envoy command-line flags, which a bootstrap cannot carry; start Envoy with: "+strings.Join(flags, " "))
	}
}

func durStr[T ~string](d *T) *string {
	if d == nil {
		return nil
	}
	s := string(*d)
	return &s
}

// knownFilters are the HTTP filter types filterOrder may name (the CRD's
// enum).
var knownFilters = map[string]bool{
	"envoy.filters.http.custom_response": true, "envoy.filters.http.health_check": true, "envoy.filters.http.fault": true,
	"envoy.filters.http.cors": true, "envoy.filters.http.csrf": true, "envoy.filters.http.header_mutation": true,
	"envoy.filters.http.ext_authz": true, "envoy.filters.http.api_key_auth": true, "envoy.filters.http.basic_auth": true,
	"envoy.filters.http.oauth2": true, "envoy.filters.http.jwt_authn": true, "envoy.filters.http.stateful_session": true,
	"envoy.filters.http.buffer": true, "envoy.filters.http.lua": true, "envoy.filters.http.ext_proc": true,
	"envoy.filters.http.wasm": true, "envoy.filters.http.dynamic_modules": true, "envoy.filters.http.geoip": true,
	"envoy.filters.http.rbac": true, "envoy.filters.http.local_ratelimit": true, "envoy.filters.http.ratelimit": true,
	"envoy.filters.http.bandwidth_limit": true, "envoy.filters.http.grpc_web": true, "envoy.filters.http.grpc_stats": true,
	"envoy.filters.http.credential_injector": true, "envoy.filters.http.compressor": true,
	"envoy.filters.http.dynamic_forward_proxy": true, "envoy.filters.http.router": true,
}

// filterOrder checks the positions (known filter types, exactly one of
// before and after, no cycle, the router stays last) and carries them.
func (t *epTranslator) filterOrder(fo []egv1a1.FilterPosition) {
	edges := map[string][]string{} // a → b: a runs before b
	for i, p := range fo {
		path := fmt.Sprintf("spec.filterOrder[%d]", i)
		pos := ir.FilterPosition{Name: string(p.Name)}
		ok := true
		if !knownFilters[string(p.Name)] {
			t.fail(path+".name", "unknown filter %q", p.Name)
			ok = false
		}
		switch {
		case p.Before != nil && p.After != nil, p.Before == nil && p.After == nil:
			t.fail(path, "set exactly one of before and after")
			ok = false
		case p.Before != nil:
			pos.Before = string(*p.Before)
			if !knownFilters[pos.Before] {
				t.fail(path+".before", "unknown filter %q", pos.Before)
				ok = false
			}
			edges[pos.Name] = append(edges[pos.Name], pos.Before)
		default:
			pos.After = string(*p.After)
			if !knownFilters[pos.After] {
				t.fail(path+".after", "unknown filter %q", pos.After)
				ok = false
			}
			if pos.After == "envoy.filters.http.router" {
				t.fail(path+".after", "no filter can run after the router, the terminal filter")
				ok = false
			}
			edges[pos.After] = append(edges[pos.After], pos.Name)
		}
		if pos.Name == "envoy.filters.http.router" && pos.Before != "" {
			t.fail(path+".name", "the router is the terminal filter and cannot move")
			ok = false
		}
		if ok {
			t.cfg.filterOrder = append(t.cfg.filterOrder, pos)
		}
	}
	if cyc := findCycle(edges); cyc != "" {
		t.fail("spec.filterOrder", "the positions form a cycle: %s", cyc)
	}
}

// findCycle returns "a -> b -> a" for some cycle of edges, or "".
func findCycle(edges map[string][]string) string {
	nodes := make([]string, 0, len(edges))
	for n := range edges {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	state := map[string]int{} // 1 visiting, 2 done
	var stack []string
	var visit func(n string) string
	visit = func(n string) string {
		state[n] = 1
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch state[m] {
			case 1:
				for i, s := range stack {
					if s == m {
						return strings.Join(append(append([]string(nil), stack[i:]...), m), " -> ")
					}
				}
			case 0:
				if c := visit(m); c != "" {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return ""
	}
	for _, n := range nodes {
		if state[n] == 0 {
			if c := visit(n); c != "" {
				return c
			}
		}
	}
	return ""
}

// bootstrap carries spec.bootstrap. Whether the result is a valid
// bootstrap can only be known by applying it (xds does; Options.CheckBootstrap
// lets the caller do it here so the status says so, as Envoy Gateway's does).
func (t *epTranslator) bootstrap(bs *egv1a1.ProxyBootstrap) {
	if bs == nil {
		return
	}
	typ := egv1a1.BootstrapTypeReplace
	if bs.Type != nil {
		typ = *bs.Type
	}
	p := &ir.BootstrapPatch{}
	switch typ {
	case egv1a1.BootstrapTypeMerge, egv1a1.BootstrapTypeReplace:
		p.Type = ir.BootstrapPatchType(typ)
		if bs.Value == nil || strings.TrimSpace(*bs.Value) == "" {
			t.fail("spec.bootstrap.value", "required for type %s", typ)
			return
		}
		if len(bs.JSONPatches) > 0 {
			t.fail("spec.bootstrap.jsonPatches", "only for type JSONPatch")
			return
		}
		p.Value = *bs.Value
	case egv1a1.BootstrapTypeJSONPatch:
		p.Type = ir.BootstrapJSONPatch
		if bs.Value != nil {
			t.fail("spec.bootstrap.value", "must be unset for type JSONPatch (use jsonPatches)")
			return
		}
		if len(bs.JSONPatches) == 0 {
			t.fail("spec.bootstrap.jsonPatches", "required for type JSONPatch")
			return
		}
		for i, op := range bs.JSONPatches {
			path := fmt.Sprintf("spec.bootstrap.jsonPatches[%d]", i)
			jp := ir.BootstrapPatchOp{Op: string(op.Op)}
			switch op.Op {
			case "add", "remove", "replace", "move", "copy", "test":
			default:
				t.fail(path+".op", "unsupported operation %q", op.Op)
				continue
			}
			if op.JSONPath != nil {
				t.fail(path+".jsonPath", "not supported for bootstrap patches; give path (a JSON Pointer)")
				continue
			}
			if op.Path == nil || (*op.Path != "" && !strings.HasPrefix(*op.Path, "/")) {
				t.fail(path+".path", "required, a JSON Pointer starting with /")
				continue
			}
			jp.Path = *op.Path
			if op.From != nil {
				jp.From = *op.From
			}
			if (op.Op == "move" || op.Op == "copy") && jp.From == "" {
				t.fail(path+".from", "required for %s", op.Op)
				continue
			}
			if op.Value != nil {
				if !json.Valid(op.Value.Raw) {
					t.fail(path+".value", "not valid JSON")
					continue
				}
				jp.Value = append(json.RawMessage(nil), op.Value.Raw...)
			} else if op.Op == "add" || op.Op == "replace" || op.Op == "test" {
				t.fail(path+".value", "required for %s", op.Op)
				continue
			}
			p.JSONPatches = append(p.JSONPatches, jp)
		}
	default:
		t.fail("spec.bootstrap.type", "unsupported value %q (Merge, Replace or JSONPatch)", typ)
		return
	}
	if check := t.b.opts.CheckBootstrap; check != nil {
		if err := check(p); err != nil {
			t.fail("spec.bootstrap", "%v", err)
			return
		}
	}
	t.cfg.settings.Bootstrap = p
}

// backendTLS resolves spec.backendTLS: a client certificate from a Secret
// in the EnvoyProxy's namespace and the TLS parameters of every TLS
// backend. A Gateway's spec.tls.backend, when set, wins (envoyproxy_apply.go).
func (t *epTranslator) backendTLS(bt *egv1a1.BackendTLSConfig) {
	if bt == nil {
		return
	}
	out := &ir.BackendTLS{}
	t.tlsParams("spec.backendTLS", &bt.TLSSettings, out)
	if bt.ALPNProtocols != nil {
		out.ALPNProtocols = []string{}
		for i, a := range bt.ALPNProtocols {
			if a == "" || len(a) > 255 {
				t.fail(fmt.Sprintf("spec.backendTLS.alpnProtocols[%d]", i), "%q is not an ALPN protocol name", a)
				continue
			}
			out.ALPNProtocols = append(out.ALPNProtocols, string(a))
		}
	}
	if ref := bt.ClientCertificateRef; ref != nil {
		owner := t.owner()
		if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Secret" {
			t.fail("spec.backendTLS.clientCertificateRef", "only core Secrets are supported")
		} else if ref.Namespace != nil && string(*ref.Namespace) != owner.Namespace {
			t.fail("spec.backendTLS.clientCertificateRef", "the Secret must be in the EnvoyProxy's namespace %s", owner.Namespace)
		} else {
			cert, _, msg := t.b.resolveCertificateFrom(objRef{group: resource.GroupEnvoyGateway, kind: "EnvoyProxy", namespace: owner.Namespace, name: owner.Name}, *ref)
			if cert == nil {
				t.fail("spec.backendTLS.clientCertificateRef", "%s", msg)
			}
			out.ClientCertificate = cert
		}
	}
	t.cfg.backendTLS = out
}

// tlsParams checks the TLS version, cipher, curve and signature algorithm
// settings and sets them on out, with the names Envoy takes (the tables
// of the Backend kind's spec.tls, backendkind_tls.go).
func (t *epTranslator) tlsParams(path string, s *egv1a1.TLSSettings, out *ir.BackendTLS) {
	if len(s.Fingerprints) > 0 {
		t.fail(path+".fingerprints", "TLS fingerprints describe clients; they have no meaning for connections to backends")
	}
	ver := func(f string, v *egv1a1.TLSVersion) string {
		if v == nil || *v == egv1a1.TLSAuto {
			return ""
		}
		if _, ok := tlsVersionOrder[string(*v)]; ok { // tls.go
			return string(*v)
		}
		t.fail(path+"."+f, "unsupported TLS version %q (Auto, 1.0, 1.1, 1.2 or 1.3)", *v)
		return ""
	}
	minV, maxV := ver("minVersion", s.MinVersion), ver("maxVersion", s.MaxVersion)
	if minV != "" && maxV != "" && tlsVersionOrder[minV] > tlsVersionOrder[maxV] {
		t.fail(path, "minVersion %s is above maxVersion %s", minV, maxV)
	}
	for i, cs := range s.Ciphers {
		if n := ianaCiphers[cs]; n != "" {
			cs = n // Envoy takes the OpenSSL spelling
		}
		if !envoyCiphers[cs] {
			t.fail(fmt.Sprintf("%s.ciphers[%d]", path, i), "unknown cipher suite %q", s.Ciphers[i])
			continue
		}
		out.Ciphers = append(out.Ciphers, cs)
	}
	for i, cv := range s.ECDHCurves {
		if !envoyCurves[cv] {
			t.fail(fmt.Sprintf("%s.ecdhCurves[%d]", path, i), "unknown curve %q (X25519, P-256, P-384, P-521, X25519MLKEM768)", cv)
			continue
		}
		out.ECDHCurves = append(out.ECDHCurves, cv)
	}
	for i, sa := range s.SignatureAlgorithms {
		if !envoySigAlgs[sa] {
			t.fail(fmt.Sprintf("%s.signatureAlgorithms[%d]", path, i), "unknown signature algorithm %q (BoringSSL names such as ecdsa_secp256r1_sha256)", sa)
			continue
		}
		out.SignatureAlgorithms = append(out.SignatureAlgorithms, sa)
	}
	if minV == "" && maxV == "" && len(out.Ciphers)+len(out.ECDHCurves)+len(out.SignatureAlgorithms) == 0 {
		return
	}
	// Envoy's own upstream defaults are 1.2 to 1.2: a minimum of 1.3 alone
	// would leave no version. Envoy Gateway's defaults fill the other bound.
	if minV == "" {
		minV = "1.2"
	}
	if maxV == "" {
		maxV = "1.3"
	}
	out.MinVersion, out.MaxVersion = minV, maxV
}

func (t *epTranslator) dynamicModules(ms []egv1a1.DynamicModuleEntry) {
	seen := map[string]bool{}
	for i, m := range ms {
		path := fmt.Sprintf("spec.dynamicModules[%d]", i)
		if m.Name == "" {
			t.fail(path+".name", "required")
			continue
		}
		if seen[m.Name] {
			t.fail(path+".name", "%q is listed twice", m.Name)
			continue
		}
		seen[m.Name] = true
		dm := ir.AllowedDynamicModule{Name: m.Name, DoNotClose: m.DoNotClose != nil && *m.DoNotClose, LoadGlobally: m.LoadGlobally != nil && *m.LoadGlobally}
		typ := egv1a1.LocalDynamicModuleSourceType
		if m.Source.Type != nil {
			typ = *m.Source.Type
		}
		switch {
		case typ == egv1a1.LocalDynamicModuleSourceType && m.Source.Local != nil && m.Source.Local.Path != "" && m.Source.Remote == nil:
			dm.Path = m.Source.Local.Path
		case typ == egv1a1.RemoteDynamicModuleSourceType && m.Source.Remote != nil && m.Source.Remote.URL != "" && m.Source.Local == nil:
			dm.URL, dm.SHA256 = m.Source.Remote.URL, m.Source.Remote.SHA256
			if len(dm.SHA256) != 64 {
				t.fail(path+".source.remote.sha256", "must be a hex SHA-256 (64 characters)")
				continue
			}
		default:
			t.fail(path+".source", "set local.path for type Local, or remote.url and remote.sha256 for type Remote")
			continue
		}
		t.cfg.settings.DynamicModules = append(t.cfg.settings.DynamicModules, dm)
	}
}

func (t *epTranslator) geoIP(g *egv1a1.EnvoyProxyGeoIP) {
	if g == nil {
		return
	}
	if g.Provider.Type != egv1a1.GeoIPProviderTypeMaxMind || g.Provider.MaxMind == nil {
		t.fail("spec.geoIP.provider", "only type MaxMind with maxMind set is supported")
		return
	}
	mm := g.Provider.MaxMind
	src := func(s *egv1a1.GeoIPDBSource) string {
		if s == nil {
			return ""
		}
		return s.Local.Path
	}
	out := &ir.GeoIP{CityDB: src(mm.CityDBSource), CountryDB: src(mm.CountryDBSource), ASNDB: src(mm.ASNDBSource),
		ISPDB: src(mm.ISPDBSource), AnonymousIPDB: src(mm.AnonymousIPDBSource)}
	if *out == (ir.GeoIP{}) {
		t.fail("spec.geoIP.provider.maxMind", "name at least one database")
		return
	}
	t.cfg.settings.GeoIP = out
}
