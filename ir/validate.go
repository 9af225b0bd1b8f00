package ir

import (
	"errors"
	"fmt"
	"math"
	"regexp"
)

// Validate checks the invariants xds relies on. A failure is a bug in the
// stage that built the IR, never a user error: translate turns bad input
// into status, not into invalid IR. All problems are reported, joined.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range c.Proxies {
		if p == nil {
			errs = append(errs, fmt.Errorf("proxies[%d]: nil", i))
			continue
		}
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("proxies[%d]: empty name", i))
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("proxy %s: duplicate name", p.Name))
		}
		seen[p.Name] = true
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Validate checks one proxy.
func (p *Proxy) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("proxy %s: "+format, append([]any{p.Name}, args...)...))
	}
	listeners := map[string]bool{}
	// Within one port, plain HTTP listeners share a route configuration, so
	// their domains must not repeat; HTTPS listeners have their own.
	type portDomain struct {
		port   uint32
		domain string
	}
	plainDomains := map[portDomain]string{}
	for i, l := range p.HTTP {
		if l == nil {
			add("http[%d]: nil", i)
			continue
		}
		if l.Name == "" {
			add("http[%d]: empty name", i)
		}
		if listeners[l.Name] {
			add("listener %s: duplicate name", l.Name)
		}
		listeners[l.Name] = true
		if l.Port == 0 {
			add("listener %s: port 0", l.Name)
		}
		if i > 0 && p.HTTP[i-1] != nil && p.HTTP[i-1].Port > l.Port {
			add("listener %s: listeners not sorted by port", l.Name)
		}
		if l.TLS != nil && len(l.TLS.Certificates) == 0 {
			add("listener %s: TLS without certificates", l.Name)
		}
		vhosts := map[string]bool{}
		for _, vh := range l.VirtualHosts {
			if vhosts[vh.Name] {
				add("listener %s: duplicate virtual host %s", l.Name, vh.Name)
			}
			vhosts[vh.Name] = true
			if len(vh.Domains) == 0 {
				add("virtual host %s: no domains", vh.Name)
			}
			if l.TLS == nil {
				for _, d := range vh.Domains {
					k := portDomain{l.Port, d}
					if other, dup := plainDomains[k]; dup {
						add("virtual host %s: domain %q already served by %s on port %d", vh.Name, d, other, l.Port)
					}
					plainDomains[k] = vh.Name
				}
			}
			for _, r := range vh.Routes {
				if err := r.validate(); err != nil {
					add("route %s: %v", r.Name, err)
				}
			}
		}
	}
	if err := p.validateL4(listeners); err != nil {
		errs = append(errs, err)
	}
	if err := p.validatePatches(); err != nil { // patch.go
		errs = append(errs, err)
	}
	errs = append(errs, p.validateSecurity())  // security.go
	errs = append(errs, p.validateText()...)   // text.go
	if err := p.validateClient(); err != nil { // client_validate.go
		errs = append(errs, err)
	}
	if err := p.Settings.validate(); err != nil { // proxy_validate.go
		errs = append(errs, fmt.Errorf("proxy %s: %w", p.Name, err))
	}
	if err := p.validateSharedClusters(); err != nil { // traffic_validate.go
		errs = append(errs, err)
	}
	if err := p.validateBackendClusters(); err != nil { // backendcluster.go
		errs = append(errs, err)
	}
	if err := p.Defaults.validate(); err != nil { // defaults.go
		add("%v", err)
	}
	return errors.Join(errs...)
}

func (r *HTTPRoute) validate() error {
	actions := 0
	for _, set := range []bool{r.Destination != nil, r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			actions++
		}
	}
	if actions != 1 {
		return fmt.Errorf("want exactly one of destination, redirect, direct response; have %d", actions)
	}
	switch r.Match.PathType {
	case PathExact, PathPrefix:
		if r.Match.Path == "" || r.Match.Path[0] != '/' {
			return fmt.Errorf("path %q must start with /", r.Match.Path)
		}
	case PathRegex:
		if _, err := regexp.Compile(r.Match.Path); err != nil {
			return fmt.Errorf("path regex %q: %v", r.Match.Path, err)
		}
	default:
		return fmt.Errorf("unknown path match type %q", r.Match.PathType)
	}
	for _, m := range append(append([]StringMatch(nil), r.Match.Headers...), r.Match.QueryParams...) {
		if m.Name == "" {
			return errors.New("header or query match without a name")
		}
		if m.Type == MatchRegex {
			if _, err := regexp.Compile(m.Value); err != nil {
				return fmt.Errorf("match %s: regex %q: %v", m.Name, m.Value, err)
			}
		}
	}
	if d := r.Destination; d != nil {
		if err := d.validate(); err != nil {
			return err
		}
	}
	if t := r.Traffic; t != nil && t.RateLimit != nil {
		if err := t.RateLimit.validate(); err != nil { // ratelimit_validate.go
			return err
		}
	}
	if err := r.Traffic.validate(); err != nil { // traffic_validate.go
		return err
	}
	for _, m := range r.Mirrors {
		if m.Destination == nil {
			return errors.New("mirror without destination")
		}
		if err := m.Destination.validate(); err != nil {
			return fmt.Errorf("mirror: %w", err)
		}
		if m.Denominator != 0 && m.Numerator > m.Denominator {
			return fmt.Errorf("mirror fraction %d/%d above 1", m.Numerator, m.Denominator)
		}
	}
	if err := r.Security.validateAuth(); err != nil { // security_oidc.go
		return err
	}
	if rw := r.URLRewrite; rw != nil && rw.Path != nil && rw.Path.Type == PrefixMatchReplace && r.Match.PathType != PathPrefix {
		return errors.New("ReplacePrefixMatch rewrite needs a PathPrefix match")
	}
	if rd := r.Redirect; rd != nil && rd.Path != nil && rd.Path.Type == PrefixMatchReplace && r.Match.PathType != PathPrefix {
		return errors.New("ReplacePrefixMatch redirect needs a PathPrefix match")
	}
	if err := r.validateHTTPRouteFilter(); err != nil { // httproutefilter.go
		return err
	}
	return r.Extensions.validate() // extension.go
}

func (d *RouteDestination) validate() error {
	if d.Name == "" {
		return errors.New("destination without a name")
	}
	var total uint64 = uint64(d.InvalidWeight)
	for _, b := range d.Backends {
		total += uint64(b.Weight)
		if b.Name == "" {
			return fmt.Errorf("destination %s: backend without a name", d.Name)
		}
		switch b.AddressType {
		case AddressIP, AddressFQDN, AddressUnix:
		default:
			return fmt.Errorf("backend %s: unknown address type %q", b.Name, b.AddressType)
		}
	}
	if err := d.Cluster.validate(); err != nil { // traffic_validate.go
		return fmt.Errorf("destination %s: %w", d.Name, err)
	}
	if total == 0 {
		return fmt.Errorf("destination %s: total weight 0 (translate must answer with a direct response instead)", d.Name)
	}
	if total > math.MaxUint32 {
		return fmt.Errorf("destination %s: total weight %d exceeds Envoy's limit of %d", d.Name, total, uint64(math.MaxUint32))
	}
	return nil
}
