package ir

import (
	"errors"
	"fmt"
	"strings"
)

// A SecurityPolicy's spec.cors is a CORS value (ir.go), the same as the
// Gateway API filter's: origins as written, "*" and "*.example.com" style
// wildcards expanded by xds.

// CSRF is a SecurityPolicy's spec.csrf: mutating requests (POST, PUT,
// DELETE, PATCH) whose Origin is neither the destination host nor one of
// AdditionalOrigins are refused with 403.
type CSRF struct {
	// AdditionalOrigins are host[:port] patterns (the scheme is dropped:
	// Envoy compares host and port only); "*" within a host stands for
	// one or more DNS labels, "*" alone for any origin.
	AdditionalOrigins []string `json:",omitempty"`
	// ShadowNumerator/ShadowDenominator is the share of requests only
	// checked and counted (csrf.request_invalid), never refused; 0/0 means
	// every request is enforced. Denominator is 100, 10,000 or 1,000,000.
	ShadowNumerator   uint32 `json:",omitempty"`
	ShadowDenominator uint32 `json:",omitempty"`
}

func (c *CSRF) validate() error {
	switch c.ShadowDenominator {
	case 0:
		if c.ShadowNumerator != 0 {
			return errors.New("shadow numerator without denominator")
		}
	case 100, 10000, 1000000:
		if c.ShadowNumerator > c.ShadowDenominator {
			return fmt.Errorf("shadow share %d/%d is more than all", c.ShadowNumerator, c.ShadowDenominator)
		}
	default:
		return fmt.Errorf("shadow denominator %d is not 100, 10000 or 1000000", c.ShadowDenominator)
	}
	for _, o := range c.AdditionalOrigins {
		if o == "" || strings.Contains(o, "://") {
			return fmt.Errorf("additional origin %q is not host[:port]", o)
		}
	}
	return nil
}
