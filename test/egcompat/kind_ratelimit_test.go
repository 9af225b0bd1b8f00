package egcompat

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/translate"
)

// Rate limits (BackendTrafficPolicy spec.rateLimit) are compared here,
// apart from the rest of the kind. TestEnvoyGatewayCases compares their
// statuses and route actions once the kind's key is on
// (kind_backendtrafficpolicy_test.go; its init runs before this file's, files
// being initialised in name order); TestEnvoyGatewayRateLimits below
// compares the rate limit each route gets, rule by rule, with Envoy
// Gateway's xdsIR, whatever the key.
func init() {
	if supportedKeys["backendTrafficPolicies"] {
		expectations = append(expectations, rateLimitExpectations...)
	}
}

// rateLimitExpectations are accepted status or route differences of the
// rate limit cases in TestEnvoyGatewayCases. None is specific to rate
// limits: the cases differ from Envoy Gateway only where the rest of the
// kind does (spec.targetRef deprecation warnings).
var rateLimitExpectations = []expectation{}

// rateLimitIRExpectations are accepted differences in the rate limits
// themselves (TestEnvoyGatewayRateLimits), where egctl knowingly differs
// (docs/ratelimit.md). Several methods in one condition: EG's cases have
// no example.
var rateLimitIRExpectations = []expectation{
	// The GRPCRoute rule without matches is named match/-1 on both sides
	// since egctl names it as EG does, so its rate limit is compared.
	{"backendtrafficpolicy-with-ratelimit", "EG: path exact /test egctl: path regex ^/test(\\?.*)?$", "b",
		"an exact path also matches when a query string follows (/test?x=1); EG compares :path, query included, exactly (docs/ratelimit.md)"},
}

// egRateLimit is the part of EG's xdsIR route that says its rate limit.
type egRateLimit struct {
	Global *struct {
		Rules []egRLRule `json:"rules"`
	} `json:"global"`
	Local *struct {
		Default egRLValue  `json:"default"`
		Rules   []egRLRule `json:"rules"`
	} `json:"local"`
}

type egRLValue struct {
	Requests uint32 `json:"requests"`
	Unit     string `json:"unit"`
}

type egRLMatch struct {
	Name      string  `json:"name"`
	Exact     *string `json:"exact"`
	Prefix    *string `json:"prefix"`
	SafeRegex *string `json:"safeRegex"`
	Distinct  bool    `json:"distinct"`
	Invert    *bool   `json:"invert"`
}

type egRLRule struct {
	Name              string      `json:"name"`
	HeaderMatches     []egRLMatch `json:"headerMatches"`
	MethodMatches     []egRLMatch `json:"methodMatches"`
	PathMatch         *egRLMatch  `json:"pathMatch"`
	QueryParamMatches []egRLMatch `json:"queryParamMatches"`
	CIDRMatch         *struct {
		CIDR     string `json:"cidr"`
		Distinct bool   `json:"distinct"`
		Invert   bool   `json:"invert"`
	} `json:"cidrMatch"`
	Limit      egRLValue `json:"limit"`
	Shared     *bool     `json:"shared"`
	ShadowMode *bool     `json:"shadowMode"`
}

type egRLOut struct {
	XdsIR map[string]struct {
		HTTP []struct {
			Name   string `json:"name"`
			Routes []struct {
				Name    string `json:"name"`
				Traffic *struct {
					RateLimit *egRateLimit `json:"rateLimit"`
				} `json:"traffic"`
			} `json:"routes"`
		} `json:"http"`
	} `json:"xdsIR"`
}

func (m egRLMatch) String() string {
	s := m.Name
	switch {
	case m.Distinct:
		s += " distinct"
	case m.Exact != nil:
		s += " exact " + *m.Exact
	case m.Prefix != nil:
		s += " prefix " + *m.Prefix
	case m.SafeRegex != nil:
		s += " regex " + *m.SafeRegex
	}
	if m.Invert != nil && *m.Invert {
		s += " inverted"
	}
	return strings.TrimSpace(s)
}

func ourMatch(m ir.RateLimitMatch) string {
	s := m.Name
	switch m.Type {
	case ir.RateLimitDistinct:
		s += " distinct"
	case ir.RateLimitExact:
		s += " exact " + m.Value
	case ir.RateLimitPrefix:
		s += " prefix " + m.Value
	case ir.RateLimitRegex:
		s += " regex " + m.Value
	}
	if m.Invert {
		s += " inverted"
	}
	return strings.TrimSpace(s)
}

// egRuleView and ourRuleView say one rule the same way on both sides.
func egRuleView(r egRLRule) []string {
	out := []string{fmt.Sprintf("%s: %d/%s shared=%v shadow=%v", r.Name, r.Limit.Requests, strings.ToLower(r.Limit.Unit),
		r.Shared != nil && *r.Shared, r.ShadowMode != nil && *r.ShadowMode)}
	for _, h := range r.HeaderMatches {
		out = append(out, "  header "+h.String())
	}
	if len(r.MethodMatches) == 1 {
		out = append(out, "  method "+r.MethodMatches[0].String())
	} else if len(r.MethodMatches) > 1 {
		var ms []string
		for _, m := range r.MethodMatches {
			ms = append(ms, m.String())
		}
		out = append(out, "  EG: methods ["+strings.Join(ms, ",")+"]")
	}
	if p := r.PathMatch; p != nil {
		if p.Exact != nil {
			out = append(out, "  EG: path exact "+*p.Exact)
		} else {
			out = append(out, "  path "+p.String())
		}
	}
	if c := r.CIDRMatch; c != nil {
		out = append(out, fmt.Sprintf("  source %s distinct=%v inverted=%v", c.CIDR, c.Distinct, c.Invert))
	}
	for _, q := range r.QueryParamMatches {
		out = append(out, "  query "+q.String())
	}
	return out
}

func ourRuleView(r *ir.RateLimitRule) []string {
	out := []string{fmt.Sprintf("%s: %d/%s shared=%v shadow=%v", r.Name, r.Limit.Requests, strings.ToLower(string(r.Limit.Unit)), r.Shared, r.ShadowMode)}
	for _, h := range r.Headers {
		out = append(out, "  header "+ourMatch(h))
	}
	if m := r.Methods; m != nil {
		if m.Type == ir.RateLimitRegex {
			out = append(out, "  egctl: methods "+m.Value)
		} else {
			out = append(out, "  method "+ourMatch(*m))
		}
	}
	if p := r.Path; p != nil {
		out = append(out, "  path "+ourMatch(*p))
	}
	if c := r.SourceCIDR; c != nil {
		out = append(out, fmt.Sprintf("  source %s distinct=%v inverted=%v", c.CIDR, c.Distinct, c.Invert))
	}
	for _, q := range r.QueryParams {
		out = append(out, "  query "+ourMatch(q))
	}
	return out
}

func egRLView(rl *egRateLimit) string {
	if rl == nil {
		return "none"
	}
	var out []string
	if l := rl.Local; l != nil {
		out = append(out, fmt.Sprintf("local default %d/%s", l.Default.Requests, strings.ToLower(l.Default.Unit)))
		for _, r := range l.Rules {
			out = append(out, egRuleView(r)...)
		}
	}
	if g := rl.Global; g != nil {
		out = append(out, "global")
		for _, r := range g.Rules {
			out = append(out, egRuleView(r)...)
		}
	}
	return strings.Join(out, "\n")
}

func ourRLView(rl *ir.RateLimit) string {
	if rl == nil {
		return "none"
	}
	var out []string
	if l := rl.Local; l != nil {
		out = append(out, fmt.Sprintf("local default %d/%s", l.Default.Requests, strings.ToLower(string(l.Default.Unit))))
		for _, r := range l.Rules {
			out = append(out, ourRuleView(r)...)
		}
	}
	if g := rl.Global; g != nil {
		out = append(out, "global")
		for _, r := range g.Rules {
			out = append(out, ourRuleView(r)...)
		}
	}
	return strings.Join(out, "\n")
}

// TestEnvoyGatewayRateLimits translates every EG case with a rate limit
// and compares, route by route, the rules with EG's xdsIR: names (and so
// descriptors and domains), limits, shared, shadow mode and every match.
// Routes egctl fails closed are not compared (a policy invalid on both
// sides, which TestEnvoyGatewayCases compares).
func TestEnvoyGatewayRateLimits(t *testing.T) {
	dir := filepath.Join(egDir(t), "internal", "gatewayapi", "testdata")
	base, err := loadBaseSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	had := supportedKeys["backendTrafficPolicies"]
	supportedKeys["backendTrafficPolicies"] = true
	defer func() { supportedKeys["backendTrafficPolicies"] = had }()

	used := map[int]bool{}
	var cases, compared, withLimits, skippedFailed int
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "rateLimit:") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		c, skip, err := loadCase(dir, name, base)
		if err != nil || skip != "" {
			t.Logf("%s: not compared: %v%s", name, err, skip)
			continue
		}
		cases++
		var want egRLOut
		outRaw, err := os.ReadFile(filepath.Join(dir, name+".out.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(outRaw, &want); err != nil {
			t.Fatalf("%s.out.yaml: %v", name, err)
		}
		res, err := translate.Translate(c.In, translate.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ours := map[string]*ir.HTTPRoute{}
		for _, p := range res.IR.Proxies {
			for _, l := range p.HTTP {
				for _, vh := range l.VirtualHosts {
					for _, r := range vh.Routes {
						ours[l.Name+" "+r.Name] = r
					}
				}
			}
		}
		var keys []string
		for k := range want.XdsIR {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, l := range want.XdsIR[k].HTTP {
				for _, r := range l.Routes {
					var egRL *egRateLimit
					if r.Traffic != nil {
						egRL = r.Traffic.RateLimit
					}
					o := ours[l.Name+" "+r.Name]
					if o == nil {
						continue // route naming differences are TestEnvoyGatewayCases'
					}
					if o.DirectResponse != nil && o.DirectResponse.StatusCode == 500 {
						skippedFailed++
						continue
					}
					var ourRL *ir.RateLimit
					if o.Traffic != nil {
						ourRL = o.Traffic.RateLimit
					}
					compared++
					if egRL != nil {
						withLimits++
					}
					ev, ov := egRLView(egRL), ourRLView(ourRL)
					if ev == ov {
						continue
					}
					el, ol := strings.Split(ev, "\n"), strings.Split(ov, "\n")
					for i := 0; i < len(el) || i < len(ol); i++ {
						var e, g string
						if i < len(el) {
							e = el[i]
						}
						if i < len(ol) {
							g = ol[i]
						}
						if e == g {
							continue
						}
						d := fmt.Sprintf("%s %s: EG: %s egctl: %s", l.Name, r.Name, strings.TrimSpace(e), strings.TrimSpace(g))
						if j := rateLimitIRExpected(name, d); j >= 0 {
							used[j] = true
							continue
						}
						t.Errorf("%s: rate limit differs:\n  EG:    %s\n  egctl: %s\n(whole EG view:\n%s\negctl view:\n%s)", name, e, g, ev, ov)
						break
					}
				}
			}
		}
	}
	if cases == 0 || withLimits == 0 {
		t.Fatalf("no rate limit compared (%d cases, %d routes)", cases, compared)
	}
	for i, e := range rateLimitIRExpectations {
		if !used[i] {
			t.Errorf("rate limit expectation %d (%q) matched nothing: fixed? remove it", i, e.Mismatch)
		}
	}
	t.Logf("EG rate limit cases: %d; routes compared: %d (%d with a rate limit); routes egctl failed closed (not compared): %d", cases, compared, withLimits, skippedFailed)
}

func rateLimitIRExpected(name, d string) int {
	for i, e := range rateLimitIRExpectations {
		if (e.Case == "" || e.Case == name) && strings.Contains(d, e.Mismatch) {
			return i
		}
	}
	return -1
}
