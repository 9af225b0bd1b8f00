package ir

import (
	"errors"
	"fmt"
)

// validateL4 checks the TCP and UDP listeners of p. names holds the
// listener names already seen (HTTP), so a name is never reused.
func (p *Proxy) validateL4(names map[string]bool) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("proxy %s: "+format, append([]any{p.Name}, args...)...))
	}
	listener := func(kind string, i int, name string, port uint32, prevPort uint32) {
		if name == "" {
			add("%s[%d]: empty name", kind, i)
		}
		if names[name] {
			add("listener %s: duplicate name", name)
		}
		names[name] = true
		if port == 0 || port > 65535 {
			add("listener %s: port %d out of range", name, port)
		}
		if i > 0 && prevPort > port {
			add("listener %s: listeners not sorted by port", name)
		}
	}
	// On one port, a server name (or the catch-all "") may be matched by
	// one filter chain only.
	type portSNI struct {
		port uint32
		sni  string
	}
	sni := map[portSNI]string{}
	var prev uint32
	for i, l := range p.TCP {
		if l == nil {
			add("tcp[%d]: nil", i)
			continue
		}
		listener("tcp", i, l.Name, l.Port, prev)
		prev = l.Port
		if l.TLS != nil && len(l.TLS.Certificates) == 0 {
			add("listener %s: TLS without certificates", l.Name)
		}
		for j, r := range l.Routes {
			if r == nil {
				add("listener %s: routes[%d]: nil", l.Name, j)
				continue
			}
			names := r.SNI
			if len(names) == 0 {
				names = []string{""}
			}
			for _, n := range names {
				k := portSNI{l.Port, n}
				if other, dup := sni[k]; dup {
					add("route %s: server name %q on port %d already matched by %s", r.Name, n, l.Port, other)
				}
				sni[k] = r.Name
			}
			if r.Destination == nil {
				add("route %s: no destination", r.Name)
			} else if err := r.Destination.validate(); err != nil {
				add("route %s: %v", r.Name, err)
			}
		}
	}
	prev = 0
	for i, l := range p.UDP {
		if l == nil {
			add("udp[%d]: nil", i)
			continue
		}
		listener("udp", i, l.Name, l.Port, prev)
		prev = l.Port
		if r := l.Route; r != nil {
			if r.Destination == nil {
				add("route %s: no destination", r.Name)
			} else if err := r.Destination.validate(); err != nil {
				add("route %s: %v", r.Name, err)
			}
		}
	}
	return errors.Join(errs...)
}
