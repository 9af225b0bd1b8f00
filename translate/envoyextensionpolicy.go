package translate

import (
	"errors"
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// EnvoyExtensionPolicy adds HTTP filters to the routes it applies to:
// external processors (envoyextensionpolicy_extproc.go), Wasm modules
// (_wasm.go), Lua scripts (_lua.go) and dynamic modules (_dynamicmodule.go).
// Each filter sits, disabled, in the HCM of every listener that needs it
// and is enabled per route, as Envoy Gateway configures it.
//
// What fails: a Lua script or dynamic module that cannot be used fails the
// route closed (500); an external processor or Wasm module that cannot be
// used fails it closed unless every one that failed says failOpen, in which
// case the route keeps the extensions that work. Either way the policy is
// Accepted=False with the reason, as Envoy Gateway reports it.

// eepKey identifies one translation of a policy: extensions depend on the
// policy, the parent it is merged onto, and the proxy (Lua validation and
// the dynamic module allowlist are per EnvoyProxy).
type eepKey struct {
	policy, parent *policy
	gateway        nsName
}

// eepResult is one translation, shared by every route it applies to.
type eepResult struct {
	ext *ir.ExtensionSettings // nil when nothing is left to apply
	err error
	// failClosed: the error leaves the route unusable (500).
	failClosed bool
	// http: the spec asks for any HTTP filter at all.
	http bool
}

// envoyExtensionPolicies translates the kind for the engine (attach_apply.go).
func (b *builder) envoyExtensionPolicies(ix *attachIndex) *routePolicy {
	for _, p := range ix.policies {
		if p.refs.TargetRef != nil {
			// As Envoy Gateway says it, where the policy attached.
			p.warn(nil, "DeprecatedField", "spec.targetRef is deprecated, use spec.targetRefs instead")
		}
	}
	cache := map[eepKey]*eepResult{}
	get := func(e effective, at *attachPoint) *eepResult {
		k := eepKey{e.policy, e.parent, at.gateway}
		r, ok := cache[k]
		if !ok {
			r = b.translateEEP(e, at.gateway)
			cache[k] = r
		}
		return r
	}
	// L4 routes carry no HTTP: a policy that names one of them (or its
	// listener) asks for what cannot be done there, so the route fails
	// closed. Through a Gateway or ListenerSet the policy is meant for the
	// HTTP listeners, as Envoy Gateway reads it, and TCP/UDP are left alone.
	l4 := func(e effective) error {
		if e.at.level == levelGateway || e.at.level == levelListenerSet {
			return nil
		}
		spec, err := b.eepSpec(e)
		if err != nil {
			return err
		}
		if len(spec.ExtProc)+len(spec.Wasm)+len(spec.Lua)+len(spec.DynamicModule) == 0 {
			return nil
		}
		return fmt.Errorf("%s carries no HTTP: external processors, Wasm, Lua and dynamic modules are HTTP filters", e.at.describe())
	}
	return &routePolicy{ix: ix,
		http: func(e effective, at *attachPoint, r *ir.HTTPRoute) error {
			res := get(e, at)
			if res.err != nil {
				if res.failClosed {
					return res.err
				}
				e.policy.fail(&e.at, res.err.Error()+"; failOpen: the traffic it applies to is served without what failed")
			}
			if res.ext != nil {
				r.Extensions = res.ext
			}
			return nil
		},
		tcp: func(e effective, _ *attachPoint, _ *ir.TCPRoute) error { return l4(e) },
		udp: func(e effective, _ *attachPoint, _ *ir.UDPRoute) error { return l4(e) },
	}
}

// eepSpec is the spec that applies: the policy's own, or merged onto its
// parent's when it asks for mergeType.
func (b *builder) eepSpec(e effective) (*egv1a1.EnvoyExtensionPolicySpec, error) {
	spec := e.policy.spec.(*egv1a1.EnvoyExtensionPolicySpec)
	if e.parent == nil || e.policy.mergeType == nil {
		return spec, nil
	}
	return mergeSpecs(e.parent.spec.(*egv1a1.EnvoyExtensionPolicySpec), spec, *e.policy.mergeType)
}

// eepOwners says, per extension type, which policy a merged list comes
// from: names and references are that policy's (Envoy Gateway: the route's
// policy when it has any of the type, else the parent's).
type eepOwners struct {
	extProc, wasm, lua, dynamicModule *policy
}

func (b *builder) translateEEP(e effective, gw nsName) *eepResult {
	spec, err := b.eepSpec(e)
	if err != nil {
		return &eepResult{err: err, failClosed: true, http: true}
	}
	own := eepOwners{e.policy, e.policy, e.policy, e.policy}
	if e.parent != nil && e.policy.mergeType != nil {
		mine := e.policy.spec.(*egv1a1.EnvoyExtensionPolicySpec)
		pick := func(n int) *policy {
			if n > 0 {
				return e.policy
			}
			return e.parent
		}
		own = eepOwners{pick(len(mine.ExtProc)), pick(len(mine.Wasm)), pick(len(mine.Lua)), pick(len(mine.DynamicModule))}
	}
	res := &eepResult{http: len(spec.ExtProc)+len(spec.Wasm)+len(spec.Lua)+len(spec.DynamicModule) > 0}
	ext := &ir.ExtensionSettings{}
	var errs []error
	// fail records the failed extensions of one type; failOpen says whether
	// all of them let traffic through on failure.
	fail := func(kind string, failed []error, failOpen bool) {
		if len(failed) == 0 {
			return
		}
		errs = append(errs, fmt.Errorf("%s: %w", kind, errors.Join(failed...)))
		if !failOpen {
			res.failClosed = true
		}
	}

	var failed []error
	allOpen := true
	for i := range spec.ExtProc {
		ep, err := b.buildExtProc(own.extProc, &spec.ExtProc[i], i)
		if err != nil {
			failed = append(failed, err)
			allOpen = allOpen && spec.ExtProc[i].FailOpen != nil && *spec.ExtProc[i].FailOpen
			continue
		}
		ext.ExtProcs = append(ext.ExtProcs, ep)
	}
	fail("ExtProc", failed, allOpen)

	failed, allOpen = nil, true
	for i := range spec.Wasm {
		w, err := b.buildWasm(own.wasm, &spec.Wasm[i], i)
		if err != nil {
			failed = append(failed, err)
			allOpen = allOpen && spec.Wasm[i].FailOpen != nil && *spec.Wasm[i].FailOpen
			continue
		}
		ext.Wasms = append(ext.Wasms, w)
	}
	fail("Wasm", failed, allOpen)

	failed = nil
	for i := range spec.Lua {
		l, err := b.buildLua(own.lua, &spec.Lua[i], i, gw)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		ext.Luas = append(ext.Luas, l)
	}
	fail("Lua", failed, false)

	failed = nil
	for i := range spec.DynamicModule {
		d, err := b.buildDynamicModule(own.dynamicModule, &spec.DynamicModule[i], i, gw)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		ext.DynamicModules = append(ext.DynamicModules, d)
	}
	fail("DynamicModule", failed, false)

	res.err = errors.Join(errs...)
	if !ext.Empty() {
		res.ext = ext
	}
	return res
}

// eepName is Envoy Gateway's name of the index-th extension of a type.
func eepName(p *policy, typ string, index int) string {
	return fmt.Sprintf("envoyextensionpolicy/%s/%s/%s/%d", p.key.Namespace, p.key.Name, typ, index)
}

// fieldErr prefixes an error with the field path it is about.
func fieldErr(field string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

// lowerFirst keeps joined messages readable.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
