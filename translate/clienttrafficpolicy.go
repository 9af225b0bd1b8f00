package translate

import "github.com/egctl/egctl/ir"

// clientTrafficPolicies translates the kind for the engine (attach_apply.go).
func (b *builder) clientTrafficPolicies(ix *attachIndex) *listenerPolicy {
	err := notTranslated(ix)
	return &listenerPolicy{ix: ix,
		http: func(effective, *attachPoint, *ir.HTTPListener) error { return err },
		tcp:  func(effective, *attachPoint, *ir.TCPListener) error { return err },
		udp:  func(effective, *attachPoint, *ir.UDPListener) error { return err },
	}
}
