// Package translate turns a resource.Set (Gateway API + Envoy Gateway kinds)
// into the data-plane IR and a status for every input object this
// controller owns.
//
// The structure follows a DAG builder: indexes over the input are built once
// (maps keyed by namespace/name), then one processor per source kind runs in
// dependency order (GatewayClass → Gateway/listeners → HTTPRoute → backends).
// Each processor records rejections through a status writer bound to the
// object it is working on, so a reason is written where it is decided.
package translate

import (
	"fmt"
	"sort"
	"time"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// DefaultControllerName is Envoy Gateway's controller name; GatewayClasses
// naming it are ours unless Options say otherwise.
const DefaultControllerName = "gateway.envoyproxy.io/gatewayclass-controller"

// Options tune one translation.
type Options struct {
	// ControllerName selects the GatewayClasses we own; "" means
	// DefaultControllerName.
	ControllerName string
	// KeepPrivilegedPorts binds Gateway ports below 1024 as written. When
	// false they bind at port+10000, as Envoy Gateway does, so Envoy can run
	// without CAP_NET_BIND_SERVICE.
	KeepPrivilegedPorts bool
	// Now is the lastTransitionTime of every condition written. The zero
	// value means the Unix epoch, which keeps output byte-for-byte stable.
	Now time.Time
	// SkipStatus does not deep-copy the input (a sixth of the memory and
	// a tenth of the time of a large translation): Result.Status's objects
	// then share all but their status with the input, and are read-only.
	// For callers that print no spec (every command but the ones that
	// write the objects back). IR, Problems, Warnings and every status
	// are the same either way; the IR may then share read-only values
	// with the input.
	SkipStatus bool
	// RateLimitService is the rate-limit service global rate limits ask
	// (Envoy Gateway's EnvoyGateway rateLimit settings); nil means
	// DefaultRateLimitService (btp_ratelimit.go).
	RateLimitService *ir.RateLimitService
	// OIDCDiscovery answers for a SecurityPolicy whose oidc.provider leaves
	// out the authorization or token endpoint: the issuer's OpenID provider
	// configuration (sp_oidc_discovery.go). Nil refuses such a policy;
	// translation itself never reaches the network.
	OIDCDiscovery func(issuer string) (*OIDCProviderConfig, error)
	// WasmImages reads the Wasm modules of OCI images (EnvoyExtensionPolicy
	// wasm code of type Image); nil refuses such code.
	WasmImages WasmImageResolver
	// AdminPort is the port of Envoy's admin interface in the bootstrap
	// the output is for; a listener binding it is refused (unserved.go).
	// 0 checks nothing.
	AdminPort uint32
	// EnvoyGatewayDefaults emits what Envoy Gateway configures when
	// nothing asks otherwise, so that the xDS is Envoy Gateway's: its
	// readiness listener, circuit breakers and listener settings
	// (defaults.go, xds/defaults.go), and on proxies whose EnvoyProxy
	// does not set them (or that have none) its default access log (JSON
	// to stdout) and Prometheus stats listener (envoyproxy_telemetry.go).
	// The zero value is egctl's lean output; the CLI turns it on unless
	// --lean.
	EnvoyGatewayDefaults bool
	// ReadyPort is the port of the readiness listener under
	// EnvoyGatewayDefaults; 0 means Envoy Gateway's, DefaultReadyPort.
	ReadyPort uint32
	// StatsPort is the port of the Prometheus stats listener the bootstrap
	// carries (xds.BootstrapOptions.StatsPort); a Gateway listener on it
	// is refused. 0 means DefaultStatsPort.
	StatsPort uint32
	// CheckBootstrap, when set, applies an EnvoyProxy's bootstrap patch
	// to a representative bootstrap and says why it fails (xds can; the
	// translator knows no Envoy protos). Without it a bad patch is found
	// when the bootstrap is built.
	CheckBootstrap func(*ir.BootstrapPatch) error
}

// Problem is one condition that says an object is not OK.
type Problem struct {
	Key    resource.Key
	Origin resource.Origin
	// Condition is "" for a problem no status carries (unserved.go).
	Condition string
	Reason    string
	Message   string
	// Parent is the parentRef a route problem is about ("Gateway ns/name"),
	// when it is about one.
	Parent string
}

// String renders "Kind ns/name: Condition Reason: message", or
// "Kind ns/name: message" for a problem without a condition.
func (p Problem) String() string {
	if p.Condition == "" {
		return fmt.Sprintf("%s: %s", p.Key, p.Message)
	}
	return fmt.Sprintf("%s: %s %s: %s", p.Key, p.Condition, p.Reason, p.Message)
}

// Result is what one translation produced.
type Result struct {
	IR *ir.Config
	// Status holds copies of every input object, in input order, with
	// .Status filled for the objects this controller owns: deep copies, or
	// with Options.SkipStatus objects that own only their status (specs
	// and metadata are the input's, not to be changed).
	Status *resource.Set
	// Problems lists every not-OK condition, sorted by kind, namespace,
	// name, condition, reason and message.
	Problems []Problem
	// Warnings are things a CI user must see that no status says (a
	// Gateway left alone because its GatewayClass is absent, settings
	// read but not applied), sorted like Problems. They do not fail a run.
	Warnings []Warning
	// epp is what RecordPatchResults needs (envoypatchpolicy.go).
	epp *eppIndex
}

// Translate builds the IR and statuses for in. Bad input never returns an
// error: it is reported in statuses and Problems. An error means a bug.
func Translate(in *resource.Set, opts Options) (res *Result, err error) {
	if in == nil {
		in = &resource.Set{}
	}
	defer func() {
		// A panic here is a translator bug; report it instead of crashing
		// the CLI, naming it as such.
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("translate: internal error: %v", r)
		}
	}()
	_, res = translate(in, opts)
	return res, nil
}

// translate is Translate without the panic guard; tests use the builder it
// returns to look inside.
func translate(in *resource.Set, opts Options) (*builder, *Result) {
	if opts.ControllerName == "" {
		opts.ControllerName = DefaultControllerName
	}
	if opts.Now.IsZero() {
		opts.Now = time.Unix(0, 0).UTC()
	}

	work := statusShells // status.go
	if !opts.SkipStatus {
		work = copySet
	}
	b := newBuilder(work(in), opts)
	b.processGatewayClasses()
	b.processGateways()
	b.checkAddresses()     // addresses.go
	b.markOverlappingTLS() // overlap_tls.go
	b.processBackends()
	b.checkEnvoyProxies() // envoyproxy.go
	b.checkStatsPort()    // envoyproxy_statsport.go
	b.prepareMerge()      // mergebackends.go
	b.processHTTPRoutes()
	b.processGRPCRoutes()
	b.resolveKindConflicts()
	b.writeRouteStatuses()
	b.processL4Routes()
	b.finishGateways()
	b.bindAddresses()         // addresses.go
	b.writeBackendTLSStatus() // backendtlspolicy.go
	b.applyEnvoyProxies()     // envoyproxy_apply.go

	cfg := &ir.Config{Proxies: b.proxies()}
	policyProblems := b.applyPolicies(cfg) // policies.go
	b.mergeBackends(cfg)                   // mergebackends.go
	b.pruneBackendClusters(cfg)            // mergebackends.go
	problems := append(b.problems(), policyProblems...)
	eppProblems, epp := b.applyEnvoyPatchPolicies(cfg) // envoypatchpolicy.go
	problems = append(problems, eppProblems...)
	problems = append(problems, unservedProblems(in, opts.ControllerName)...) // unserved.go
	problems = append(problems, b.envoyProxyProblems()...)                    // envoyproxy.go
	applyDefaults(cfg, opts)                                                  // defaults.go
	sortProblems(problems)
	res := &Result{IR: cfg, Status: b.out, Problems: problems, Warnings: b.warningList(), epp: epp}
	return b, res
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		switch {
		case a.Key.Kind != b.Key.Kind:
			return a.Key.Kind < b.Key.Kind
		case a.Key.Namespace != b.Key.Namespace:
			return a.Key.Namespace < b.Key.Namespace
		case a.Key.Name != b.Key.Name:
			return a.Key.Name < b.Key.Name
		case a.Condition != b.Condition:
			return a.Condition < b.Condition
		case a.Reason != b.Reason:
			return a.Reason < b.Reason
		}
		return a.Message < b.Message
	})
}
