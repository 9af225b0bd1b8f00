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

// TestEnvoyGatewayBackendFeatures compares, route by route, what
// TestEnvoyGatewayCases does not look at in Envoy Gateway's xdsIR for the
// cases with Backends, HTTPRouteFilters or sessionPersistence: fallback
// priorities, direct response bodies and content types, URL rewrites,
// credential injection, session persistence and cookie matches. Routes
// either side fails closed are left to TestEnvoyGatewayCases.
func TestEnvoyGatewayBackendFeatures(t *testing.T) {
	dir := filepath.Join(egDir(t), "internal", "gatewayapi", "testdata")
	base, err := loadBaseSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	used := map[int]bool{}
	var cases, routes int
	var unexpected []string
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		s := string(raw)
		if !strings.Contains(s, "\nbackends:") && !strings.Contains(s, "\nhttpFilters:") && !strings.Contains(s, "sessionPersistence") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		c, skip, err := loadCase(dir, name, base)
		if err != nil || skip != "" {
			continue
		}
		cases++
		var want egFeatOut
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
		for _, k := range sortedKeys(want.XdsIR) {
			for _, l := range want.XdsIR[k].HTTP {
				for _, r := range l.Routes {
					o := ours[l.Name+" "+r.Name]
					if o == nil || failsClosed(o) || (r.DirectResponse != nil && r.DirectResponse.StatusCode == 500 && len(r.DirectResponse.Body) == 0) {
						continue // naming and fail-closed differences are TestEnvoyGatewayCases'
					}
					routes++
					for _, d := range diffLines(egFeatures(&r), ourFeatures(o)) {
						line := fmt.Sprintf("%s: route %s: %s", name, r.Name, d)
						if i := backendIRExpected(name, line); i >= 0 {
							used[i] = true
							continue
						}
						unexpected = append(unexpected, line)
					}
				}
			}
		}
	}
	for _, u := range unexpected {
		t.Errorf("unexpected difference: %s", u)
	}
	if os.Getenv("EGCOMPAT_RUN") == "" {
		for i, e := range backendIRExpectations {
			if !used[i] {
				t.Errorf("backend IR expectation %d (%s, %q) matched nothing: remove it", i, e.Case, e.Mismatch)
			}
		}
	}
	if cases == 0 || routes == 0 {
		t.Fatalf("compared %d cases, %d routes: nothing to compare", cases, routes)
	}
	t.Logf("compared %d routes of %d cases", routes, cases)
}

func failsClosed(r *ir.HTTPRoute) bool {
	return r.DirectResponse != nil && r.DirectResponse.StatusCode == 500 && r.DirectResponse.Body == ""
}

// backendIRExpectations are accepted feature differences (class as in
// expect_test.go).
var backendIRExpectations = []expectation{}

func backendIRExpected(name, line string) int {
	for i, e := range backendIRExpectations {
		if (e.Case == "" || e.Case == name) && strings.Contains(line, e.Mismatch) {
			return i
		}
	}
	return -1
}

// diffLines lists what one side has and the other lacks.
func diffLines(eg, ours []string) []string {
	in := func(l []string, s string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, s := range eg {
		if !in(ours, s) {
			out = append(out, "EG has "+s+", egctl does not")
		}
	}
	for _, s := range ours {
		if !in(eg, s) {
			out = append(out, "egctl has "+s+", EG does not")
		}
	}
	return out
}

// The part of EG's xdsIR these features live in.
type egFeatOut struct {
	XdsIR map[string]struct {
		HTTP []struct {
			Name   string        `json:"name"`
			Routes []egFeatRoute `json:"routes"`
		} `json:"http"`
	} `json:"xdsIR"`
}

type egRegex struct {
	Pattern      string `json:"pattern"`
	Substitution string `json:"substitution"`
}

type egStringMatch struct {
	Name      string  `json:"name"`
	Exact     *string `json:"exact"`
	SafeRegex *string `json:"safeRegex"`
}

type egFeatRoute struct {
	Name        string `json:"name"`
	Destination *struct {
		Settings []struct {
			Name     string `json:"name"`
			Priority *int   `json:"priority"`
			Weight   *int   `json:"weight"`
		} `json:"settings"`
	} `json:"destination"`
	DirectResponse *struct {
		StatusCode int    `json:"statusCode"`
		Body       []byte `json:"body"`
	} `json:"directResponse"`
	AddResponseHeaders []struct {
		Name  string   `json:"name"`
		Value []string `json:"value"`
	} `json:"addResponseHeaders"`
	URLRewrite *struct {
		Path *struct {
			RegexMatchReplace *egRegex `json:"regexMatchReplace"`
		} `json:"path"`
		Host *struct {
			Header    *string  `json:"header"`
			Backend   *bool    `json:"backend"`
			PathRegex *egRegex `json:"pathRegex"`
		} `json:"host"`
		AppendXForwardedHost *bool `json:"appendXForwardedHost"`
	} `json:"urlRewrite"`
	CredentialInjection *struct {
		Name      string  `json:"name"`
		Header    *string `json:"header"`
		Overwrite *bool   `json:"overwrite"`
	} `json:"credentialInjection"`
	SessionPersistence *struct {
		Cookie *struct {
			Name string `json:"name"`
			TTL  string `json:"ttl"`
		} `json:"cookie"`
		Header *struct {
			Name string `json:"name"`
		} `json:"header"`
	} `json:"sessionPersistence"`
	CookieMatches []egStringMatch `json:"cookieMatches"`
}

// egFeatures and ourFeatures say the features of a route the same way.
func egFeatures(r *egFeatRoute) []string {
	var out []string
	if d := r.Destination; d != nil {
		for _, s := range d.Settings {
			if s.Priority != nil && *s.Priority > 0 && (s.Weight == nil || *s.Weight > 0) {
				out = append(out, fmt.Sprintf("priority %s %d", s.Name, *s.Priority))
			}
		}
	}
	if d := r.DirectResponse; d != nil {
		out = append(out, fmt.Sprintf("direct %d body %q", d.StatusCode, d.Body))
		for _, h := range r.AddResponseHeaders {
			if strings.EqualFold(h.Name, "content-type") {
				out = append(out, "content-type "+strings.Join(h.Value, ","))
			}
		}
	}
	if u := r.URLRewrite; u != nil {
		if p := u.Path; p != nil && p.RegexMatchReplace != nil {
			out = append(out, fmt.Sprintf("path regex %q -> %q", p.RegexMatchReplace.Pattern, p.RegexMatchReplace.Substitution))
		}
		if h := u.Host; h != nil && (h.Header != nil || h.Backend != nil || h.PathRegex != nil) {
			switch {
			case h.Header != nil:
				out = append(out, "host from header "+strings.ToLower(*h.Header))
			case h.Backend != nil && *h.Backend:
				out = append(out, "host from backend")
			case h.PathRegex != nil:
				out = append(out, fmt.Sprintf("host from path %q -> %q", h.PathRegex.Pattern, h.PathRegex.Substitution))
			}
			out = append(out, fmt.Sprintf("x-forwarded-host %v", u.AppendXForwardedHost == nil || *u.AppendXForwardedHost))
		}
	}
	if c := r.CredentialInjection; c != nil {
		h := ""
		if c.Header != nil {
			h = *c.Header
		}
		out = append(out, fmt.Sprintf("credential %s header=%q overwrite=%v", c.Name, h, c.Overwrite != nil && *c.Overwrite))
	}
	if s := r.SessionPersistence; s != nil {
		switch {
		case s.Cookie != nil:
			out = append(out, fmt.Sprintf("session cookie %s ttl=%s", s.Cookie.Name, s.Cookie.TTL))
		case s.Header != nil:
			out = append(out, "session header "+s.Header.Name)
		}
	}
	for _, m := range r.CookieMatches {
		switch {
		case m.Exact != nil:
			out = append(out, fmt.Sprintf("cookie %s exact %q", m.Name, *m.Exact))
		case m.SafeRegex != nil:
			out = append(out, fmt.Sprintf("cookie %s regex %q", m.Name, *m.SafeRegex))
		}
	}
	sort.Strings(out)
	return out
}

func ourFeatures(r *ir.HTTPRoute) []string {
	var out []string
	if d := r.Destination; d != nil {
		for _, be := range d.Backends {
			if be.Priority > 0 && be.Weight > 0 {
				out = append(out, fmt.Sprintf("priority %s %d", be.Name, be.Priority))
			}
		}
	}
	if d := r.DirectResponse; d != nil {
		body := d.Body
		if len(d.BinaryBody) > 0 {
			body = string(d.BinaryBody)
		}
		out = append(out, fmt.Sprintf("direct %d body %q", d.StatusCode, body))
		if h := r.ResponseHeaders; h != nil {
			for _, x := range h.Set {
				if strings.EqualFold(x.Name, "content-type") {
					out = append(out, "content-type "+x.Value)
				}
			}
		}
	}
	if u := r.URLRewrite; u != nil {
		if p := u.Path; p != nil && p.Type == ir.RegexReplace {
			out = append(out, fmt.Sprintf("path regex %q -> %q", p.Pattern, p.Value))
		}
		switch {
		case u.HostFromHeader != "":
			out = append(out, "host from header "+u.HostFromHeader)
		case u.HostFromBackend:
			out = append(out, "host from backend")
		case u.HostPathRegex != nil:
			out = append(out, fmt.Sprintf("host from path %q -> %q", u.HostPathRegex.Pattern, u.HostPathRegex.Substitution))
		}
		if u.HostFromHeader != "" || u.HostFromBackend || u.HostPathRegex != nil {
			out = append(out, fmt.Sprintf("x-forwarded-host %v", u.AppendXForwardedHost))
		}
	}
	if c := r.CredentialInjection; c != nil {
		out = append(out, fmt.Sprintf("credential %s header=%q overwrite=%v", c.Name, c.Header, c.Overwrite))
	}
	if s := r.SessionPersistence; s != nil {
		switch {
		case s.Cookie != nil:
			ttl := ""
			if s.Cookie.TTL > 0 {
				ttl = s.Cookie.TTL.String()
			}
			out = append(out, fmt.Sprintf("session cookie %s ttl=%s", s.Cookie.Name, ttl))
		case s.Header != nil:
			out = append(out, "session header "+s.Header.Name)
		}
	}
	for _, m := range r.Match.Cookies {
		kind := "exact"
		if m.Type == ir.MatchRegex {
			kind = "regex"
		}
		out = append(out, fmt.Sprintf("cookie %s %s %q", m.Name, kind, m.Value))
	}
	sort.Strings(out)
	return out
}
