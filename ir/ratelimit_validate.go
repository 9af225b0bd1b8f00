package ir

import (
	"errors"
	"fmt"
)

// validate checks what xds relies on. It is cheap (no regex compiled):
// one RateLimit is shared by every route of its policy and is checked once
// per route. translate checked the regular expressions.
func (rl *RateLimit) validate() error {
	if rl.Local == nil && rl.Global == nil {
		return errors.New("rate limit with neither local nor global limits")
	}
	if l := rl.Local; l != nil {
		if err := l.Default.validate(); err != nil {
			return fmt.Errorf("local default: %w", err)
		}
		if l.Default.FromMetadata != nil {
			return errors.New("local default: limit from metadata")
		}
		for _, r := range l.Rules {
			if err := r.validate(); err != nil {
				return fmt.Errorf("local rule %s: %w", r.Name, err)
			}
			if r.ResponseCost != nil || r.Limit.FromMetadata != nil || r.Shared {
				return fmt.Errorf("local rule %s: response cost, limit from metadata and shared are global only", r.Name)
			}
			if r.Limit.Unit.Seconds()%l.Default.Unit.Seconds() != 0 {
				return fmt.Errorf("local rule %s: unit %s is not a multiple of the default's %s", r.Name, r.Limit.Unit, l.Default.Unit)
			}
		}
	}
	if g := rl.Global; g != nil {
		if g.Service == nil || g.Service.Host == "" || g.Service.Port == 0 {
			return errors.New("global rate limit without a service address")
		}
		if len(g.Rules) == 0 {
			return errors.New("global rate limit without rules")
		}
		for _, r := range g.Rules {
			if err := r.validate(); err != nil {
				return fmt.Errorf("global rule %s: %w", r.Name, err)
			}
		}
	}
	return nil
}

func (v *RateLimitValue) validate() error {
	if v.Unit.Seconds() == 0 {
		return fmt.Errorf("unknown unit %q", v.Unit)
	}
	return nil
}

func (r *RateLimitRule) validate() error {
	if r.Name == "" {
		return errors.New("rule without a name")
	}
	if err := r.Limit.validate(); err != nil {
		return err
	}
	for _, m := range append(append([]RateLimitMatch(nil), r.Headers...), r.QueryParams...) {
		if m.Name == "" {
			return errors.New("header or query parameter match without a name")
		}
		if err := m.validate(); err != nil {
			return fmt.Errorf("match %s: %w", m.Name, err)
		}
	}
	for _, m := range []*RateLimitMatch{r.Methods, r.Path} {
		if m == nil {
			continue
		}
		if m.Type == RateLimitDistinct {
			return errors.New("distinct method or path match")
		}
		if err := m.validate(); err != nil {
			return err
		}
	}
	if c := r.SourceCIDR; c != nil && (c.Prefix == "" || c.MaskLen > 128) {
		return fmt.Errorf("source CIDR %q without a valid prefix", c.CIDR)
	}
	for _, c := range []*RateLimitCost{r.RequestCost, r.ResponseCost} {
		if c != nil && (c.Number == nil) == (c.Metadata == nil) {
			return errors.New("cost needs exactly one of number and metadata")
		}
	}
	return nil
}

func (m *RateLimitMatch) validate() error {
	switch m.Type {
	case RateLimitExact, RateLimitRegex, RateLimitPrefix:
	case RateLimitDistinct:
		if m.Invert || m.Value != "" {
			return errors.New("distinct match with a value or inverted")
		}
	default:
		return fmt.Errorf("unknown match type %q", m.Type)
	}
	return nil
}
