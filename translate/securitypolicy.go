package translate

import "github.com/egctl/egctl/ir"

// securityPolicies translates the kind for the engine (attach_apply.go).
func (b *builder) securityPolicies(ix *attachIndex) *routePolicy {
	err := notTranslated(ix)
	return &routePolicy{ix: ix,
		http: func(effective, *attachPoint, *ir.HTTPRoute) error { return err },
		tcp:  func(effective, *attachPoint, *ir.TCPRoute) error { return err },
		udp:  func(effective, *attachPoint, *ir.UDPRoute) error { return err },
	}
}
