package translate

import (
	"fmt"
	"regexp"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// originCRD is the Origin pattern of Envoy Gateway's CRD: "*", or a scheme
// and a host that may start with "*." (or be "*"), and an optional port.
var originCRD = regexp.MustCompile(`^(\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/(\*|(\*\.)?(([\w-]+\.?)+)?[\w-]+)(:\d{1,5})?)$`)

func checkOrigin(o egv1a1.Origin) error {
	if len(o) == 0 || len(o) > 253 || !originCRD.MatchString(string(o)) {
		return fmt.Errorf("%q is not an origin (scheme://host[:port], \"*\" or a \"*.\" host wildcard; the CRD rejects it)", o)
	}
	return nil
}

// translateSPCORS: spec.cors. Envoy takes "*" among allowed methods or
// headers only alone, so a list holding it becomes just "*".
func translateSPCORS(c *egv1a1.CORS) (*ir.CORS, error) {
	out := &ir.CORS{AllowCredentials: c.AllowCredentials != nil && *c.AllowCredentials}
	for i, o := range c.AllowOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("spec.cors.allowOrigins[%d]: %v", i, err)
		}
		out.AllowOrigins = append(out.AllowOrigins, string(o))
	}
	wild := func(field string, l []string, headers bool) ([]string, error) {
		for _, v := range l {
			if v == "*" {
				return []string{"*"}, nil
			}
			if headers && !isHeaderToken(v) {
				return nil, fmt.Errorf("spec.cors.%s: %q is not a header name", field, v)
			}
			if !headers && !isHeaderToken(v) {
				return nil, fmt.Errorf("spec.cors.%s: %q is not a method", field, v)
			}
		}
		return append([]string(nil), l...), nil
	}
	var err error
	if out.AllowMethods, err = wild("allowMethods", c.AllowMethods, false); err != nil {
		return nil, err
	}
	if out.AllowHeaders, err = wild("allowHeaders", c.AllowHeaders, true); err != nil {
		return nil, err
	}
	for _, h := range c.ExposeHeaders {
		if h != "*" && !isHeaderToken(h) {
			return nil, fmt.Errorf("spec.cors.exposeHeaders: %q is not a header name", h)
		}
		out.ExposeHeaders = append(out.ExposeHeaders, h)
	}
	if c.MaxAge != nil {
		d, err := parseDuration(*c.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("spec.cors.maxAge: %v", err)
		}
		out.MaxAge = d
	}
	return out, nil
}

// translateCSRF: spec.csrf. Envoy compares the Origin's host and port with
// the request's, so additional origins lose their scheme.
func translateCSRF(c *egv1a1.CSRF) (*ir.CSRF, error) {
	if len(c.AdditionalOrigins) > 16 {
		return nil, fmt.Errorf("spec.csrf.additionalOrigins: %d origins, at most 16 (the CRD rejects more)", len(c.AdditionalOrigins))
	}
	out := &ir.CSRF{}
	for i, o := range c.AdditionalOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("spec.csrf.additionalOrigins[%d]: %v", i, err)
		}
		host := string(o)
		if _, rest, ok := strings.Cut(host, "://"); ok {
			host = rest
		}
		out.AdditionalOrigins = append(out.AdditionalOrigins, host)
	}
	if f := c.ShadowFraction; f != nil {
		num, den, err := shadowShare(f)
		if err != nil {
			return nil, fmt.Errorf("spec.csrf.shadowFraction: %v", err)
		}
		out.ShadowNumerator, out.ShadowDenominator = num, den
	}
	return out, nil
}

// shadowShare converts a fraction to a share over 100, 10,000 or
// 1,000,000 (what Envoy takes). The enforced complement is what Envoy is
// given, so it is the one converted exactly, as Envoy Gateway does.
func shadowShare(f *gwv1.Fraction) (num, den uint32, err error) {
	d := int32(100)
	if f.Denominator != nil {
		d = *f.Denominator
	}
	if d < 1 || f.Numerator < 0 || f.Numerator > d {
		return 0, 0, fmt.Errorf("%d/%d is not a fraction between 0 and 1", f.Numerator, d)
	}
	enforced := int64(d - f.Numerator)
	var en int64
	switch d {
	case 100, 10000, 1000000:
		en, den = enforced, uint32(d)
	case 1000, 100000:
		en, den = enforced*10, uint32(d)*10
	default:
		en, den = enforced*1000000/int64(d), 1000000
	}
	return den - uint32(en), den, nil
}
