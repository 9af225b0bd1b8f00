package translate

import (
	"errors"
	"fmt"
	"math"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// DefaultRateLimitService is where Envoy asks for global rate limits
// unless told otherwise: the Service Envoy Gateway deploys the rate-limit
// service as (envoy-ratelimit in envoy-gateway-system, gRPC port 8081).
var DefaultRateLimitService = ir.RateLimitService{
	Host: "envoy-ratelimit.envoy-gateway-system.svc.cluster.local",
	Port: 8081,
}

// maxCostNumber is the largest hits addend Envoy accepts.
const maxCostNumber = 1_000_000_000

// btpRateLimit translates a BackendTrafficPolicy's spec.rateLimit (spec is
// the effective spec: merged onto its parent where mergeType asks). p is
// the policy the spec comes from, for the names Envoy Gateway derives.
// The result is shared, read-only, by every route the policy covers.
func (b *builder) btpRateLimit(p *policy, spec *egv1a1.BackendTrafficPolicySpec) (*ir.RateLimit, error) {
	rl := spec.RateLimit
	if rl == nil {
		return nil, nil
	}
	local, global := rl.Local, rl.Global
	if rl.Type != nil {
		// The deprecated type picks one kind. Envoy Gateway then ignores
		// the other; egctl refuses rather than drop a configured limit.
		switch *rl.Type {
		case egv1a1.GlobalRateLimitType:
			if global == nil {
				return nil, errors.New("spec.rateLimit: type is Global but spec.rateLimit.global is not set")
			}
			if local != nil {
				return nil, errors.New("spec.rateLimit: type is Global but spec.rateLimit.local is set too; remove the deprecated type to apply both")
			}
		case egv1a1.LocalRateLimitType:
			if local == nil {
				return nil, errors.New("spec.rateLimit: type is Local but spec.rateLimit.local is not set")
			}
			if global != nil {
				return nil, errors.New("spec.rateLimit: type is Local but spec.rateLimit.global is set too; remove the deprecated type to apply both")
			}
		default:
			return nil, fmt.Errorf("spec.rateLimit.type: unsupported value %q (Global or Local)", *rl.Type)
		}
	}
	if local == nil && global == nil {
		return nil, errors.New("spec.rateLimit: neither local nor global is set")
	}
	out := &ir.RateLimit{}
	var err error
	if local != nil {
		if out.Local, err = localRateLimit(p, local); err != nil {
			return nil, err
		}
	}
	if global != nil {
		if out.Global, err = b.globalRateLimit(p, global); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// btpRateLimitFor is btpRateLimit for a policy that may be merged onto a
// parent (e.parent, mergeType). Rate limits merge as Envoy Gateway merges
// them: each policy's rules keep their own names (and so their own
// counters and shared domains). StrategicMerge keeps the route policy's
// rules and then the parent's; JSONMerge takes, per kind (local, global),
// the route policy's if it has one, else the parent's. spec is the merged
// spec, used when only one side has rate limits.
func (b *builder) btpRateLimitFor(e effective, spec *egv1a1.BackendTrafficPolicySpec) (*ir.RateLimit, error) {
	if e.parent == nil || e.policy.mergeType == nil {
		return b.btpRateLimit(e.policy, spec)
	}
	child, _ := e.policy.spec.(*egv1a1.BackendTrafficPolicySpec)
	parent, _ := e.parent.spec.(*egv1a1.BackendTrafficPolicySpec)
	if child == nil || parent == nil {
		return nil, errors.New("spec.rateLimit: internal error: policy spec of the wrong kind")
	}
	switch {
	case child.RateLimit == nil && parent.RateLimit == nil:
		return nil, nil
	case parent.RateLimit == nil:
		return b.btpRateLimit(e.policy, child)
	case child.RateLimit == nil:
		rl, err := b.btpRateLimit(e.parent, parent)
		if err != nil {
			return nil, fmt.Errorf("%w (from %s %s, which this policy merges onto)", err, btpKind.name, e.parent)
		}
		return rl, nil
	}
	c, err := b.btpRateLimit(e.policy, child)
	if err != nil {
		return nil, err
	}
	pr, err := b.btpRateLimit(e.parent, parent)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s %s, which this policy merges onto)", err, btpKind.name, e.parent)
	}
	out := &ir.RateLimit{Local: c.Local, Global: c.Global}
	if *e.policy.mergeType == egv1a1.StrategicMerge {
		out.Local = mergeLocal(c.Local, pr.Local)
		out.Global = mergeGlobal(c.Global, pr.Global)
		if err := checkLocalUnits(out.Local); err != nil {
			return nil, fmt.Errorf("spec.rateLimit.local merged onto %s %s: %w", btpKind.name, e.parent, err)
		}
		return out, nil
	}
	if out.Local == nil {
		out.Local = pr.Local
	}
	if out.Global == nil {
		out.Global = pr.Global
	}
	return out, nil
}

func mergeLocal(c, p *ir.LocalRateLimit) *ir.LocalRateLimit {
	if c == nil || p == nil {
		if c == nil {
			return p
		}
		return c
	}
	m := *c
	if m.DefaultXRateLimitHeaders == "" {
		m.DefaultXRateLimitHeaders = p.DefaultXRateLimitHeaders
	}
	m.Rules = append(append([]*ir.RateLimitRule(nil), c.Rules...), p.Rules...)
	return &m
}

func mergeGlobal(c, p *ir.GlobalRateLimit) *ir.GlobalRateLimit {
	if c == nil || p == nil {
		if c == nil {
			return p
		}
		return c
	}
	m := *c
	m.Rules = append(append([]*ir.RateLimitRule(nil), c.Rules...), p.Rules...)
	return &m
}

// ruleName is Envoy Gateway's name for rule i of policy p; global rules
// use it in descriptors and shared rules as their domain.
func ruleName(p *policy, i int) string {
	return fmt.Sprintf("%s/%s/rule/%d", p.key.Namespace, p.key.Name, i)
}

// localRateLimit builds spec.rateLimit.local. Envoy's local rate limit has
// a bucket of its own per route (the default) and one per descriptor: the
// rule without clientSelectors becomes the route's bucket, the others
// descriptors. A request that matches a descriptor is counted there and
// not by the default bucket, as Envoy Gateway configures it.
func localRateLimit(p *policy, l *egv1a1.LocalRateLimit) (*ir.LocalRateLimit, error) {
	out := &ir.LocalRateLimit{}
	defaultAt := -1
	for i := range l.Rules {
		r := &l.Rules[i]
		path := fmt.Sprintf("spec.rateLimit.local.rules[%d]", i)
		if len(r.ClientSelectors) > 0 {
			rule, err := rateLimitRule(path, r, true)
			if err != nil {
				return nil, err
			}
			rule.Name = ruleName(p, i)
			out.Rules = append(out.Rules, rule)
			continue
		}
		if defaultAt >= 0 {
			return nil, fmt.Errorf("%s: only one local rule may go without clientSelectors (rules[%d] has none either)", path, defaultAt)
		}
		defaultAt = i
		// The route's bucket is Envoy's token bucket: it charges one
		// token per request and has no shadow mode, so those settings
		// would be dropped. A selector that matches every request
		// (path prefix /) makes the rule a descriptor, which has both.
		if r.Cost != nil {
			return nil, fmt.Errorf("%s.cost: a local rule without clientSelectors is the route's own bucket, which Envoy charges one request at a time; give the rule a clientSelector (for example path prefix /) to charge a cost", path)
		}
		if r.ShadowMode != nil && *r.ShadowMode {
			return nil, fmt.Errorf("%s.shadowMode: a local rule without clientSelectors is the route's own bucket, which Envoy cannot run in shadow mode; give the rule a clientSelector (for example path prefix /)", path)
		}
		if r.Shared != nil && *r.Shared {
			return nil, fmt.Errorf("%s.shared: local rate limits keep one bucket per route; a bucket shared by routes needs a global rate limit", path)
		}
		if r.Limit.FromMetadata != nil {
			return nil, fmt.Errorf("%s.limit.fromMetadata: only global rate limits take their limit from metadata", path)
		}
		v, err := limitValue(path+".limit", &r.Limit, true)
		if err != nil {
			return nil, err
		}
		out.Default = v
		if out.DefaultXRateLimitHeaders, err = xRateLimitHeaders(path, r.XRateLimitHeaders); err != nil {
			return nil, err
		}
	}
	if defaultAt < 0 {
		// No route-wide limit: a bucket no traffic can empty.
		out.Default = ir.RateLimitValue{Requests: math.MaxUint32, Unit: ir.RateLimitSecond}
	}
	if err := checkLocalUnits(out); err != nil {
		return nil, fmt.Errorf("spec.rateLimit.local: %w", err)
	}
	return out, nil
}

// checkLocalUnits: Envoy refills a descriptor's bucket on the default
// bucket's timer, so each rule's period must be a multiple of it.
func checkLocalUnits(l *ir.LocalRateLimit) error {
	if l == nil {
		return nil
	}
	d := l.Default.Unit.Seconds()
	for _, r := range l.Rules {
		if r.Limit.Unit.Seconds()%d != 0 {
			return fmt.Errorf("rule %s counts per %s, which is not a multiple of the route's limit per %s (Envoy Gateway refuses this too: older Envoys refill every bucket on the route's timer)", r.Name, r.Limit.Unit, l.Default.Unit)
		}
	}
	return nil
}

// globalRateLimit builds spec.rateLimit.global.
func (b *builder) globalRateLimit(p *policy, g *egv1a1.GlobalRateLimit) (*ir.GlobalRateLimit, error) {
	if len(g.Rules) == 0 {
		return nil, errors.New("spec.rateLimit.global.rules: at least one rule is needed")
	}
	out := &ir.GlobalRateLimit{Rules: make([]*ir.RateLimitRule, 0, len(g.Rules)), Service: b.rateLimitService()}
	for i := range g.Rules {
		rule, err := rateLimitRule(fmt.Sprintf("spec.rateLimit.global.rules[%d]", i), &g.Rules[i], false)
		if err != nil {
			return nil, err
		}
		rule.Name = ruleName(p, i)
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func (b *builder) rateLimitService() *ir.RateLimitService {
	if s := b.opts.RateLimitService; s != nil {
		return s
	}
	return &DefaultRateLimitService
}
