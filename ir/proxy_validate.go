package ir

import (
	"errors"
	"fmt"
)

// validateSettings checks the invariants xds relies on for an EnvoyProxy's
// settings (called from Proxy.Validate).
func (s *ProxySettings) validate() error {
	if s == nil {
		return nil
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("settings: "+format, args...)) }
	switch s.IPFamily {
	case "", IPv4, IPv6, DualStack:
	default:
		add("unknown IPFamily %q", s.IPFamily)
	}
	svc := func(where string, t *TelemetryService) {
		if t == nil || t.Destination == nil {
			add("%s: no collector", where)
			return
		}
		if err := t.Destination.validate(); err != nil {
			add("%s: %v", where, err)
		}
	}
	if al := s.AccessLog; al != nil {
		for i, e := range al.Entries {
			n := 0
			for _, set := range []bool{e.File != nil, e.OpenTelemetry != nil, e.ALS != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				add("access log %d: want exactly one sink, have %d", i, n)
				continue
			}
			switch {
			case e.File != nil:
				if e.File.Path == "" || (e.Text == "") == (len(e.JSON) == 0) {
					add("access log %d: a file sink needs a path and exactly one of Text and JSON", i)
				}
			case e.OpenTelemetry != nil:
				svc(fmt.Sprintf("access log %d", i), e.OpenTelemetry.Service)
			case e.ALS != nil:
				svc(fmt.Sprintf("access log %d", i), e.ALS.Service)
			}
			switch e.Type {
			case AccessLogAll, AccessLogListener, AccessLogRoute, AccessLogUpstream:
			default:
				add("access log %d: unknown type %q", i, e.Type)
			}
		}
	}
	if t := s.Tracing; t != nil {
		svc("tracing", t.Service)
		for _, p := range []float64{t.RandomSampling, t.ClientSampling, t.OverallSampling} {
			if p < 0 || p > 100 {
				add("tracing: sampling percentage %v out of 0..100", p)
			}
		}
	}
	if m := s.Metrics; m != nil {
		for i, sink := range m.Sinks {
			svc(fmt.Sprintf("metric sink %d", i), sink.Service)
		}
	}
	if b := s.Bootstrap; b != nil {
		switch b.Type {
		case BootstrapMerge, BootstrapReplace:
			if b.Value == "" {
				add("bootstrap %s without a value", b.Type)
			}
		case BootstrapJSONPatch:
			if len(b.JSONPatches) == 0 {
				add("bootstrap JSONPatch without patches")
			}
		default:
			add("unknown bootstrap patch type %q", b.Type)
		}
	}
	return errors.Join(errs...)
}

// redactSettings returns s with the private keys of collectors' client
// certificates redacted, copying only what changes.
func redactSettings(s *ProxySettings) *ProxySettings {
	if s == nil {
		return nil
	}
	fix := func(t *TelemetryService) *TelemetryService {
		if t == nil || t.Destination == nil {
			return t
		}
		ls := redactBackendClientKeys([]*HTTPListener{{VirtualHosts: []*VirtualHost{{Routes: []*HTTPRoute{{Destination: t.Destination}}}}}})
		d := ls[0].VirtualHosts[0].Routes[0].Destination
		if d == t.Destination {
			return t
		}
		c := *t
		c.Destination = d
		return &c
	}
	cp := *s
	changed := false
	if t := s.Tracing; t != nil {
		if svc := fix(t.Service); svc != t.Service {
			tc := *t
			tc.Service = svc
			cp.Tracing, changed = &tc, true
		}
	}
	if al := s.AccessLog; al != nil {
		nal := &AccessLog{Entries: make([]*AccessLogEntry, len(al.Entries))}
		alChanged := false
		for i, e := range al.Entries {
			nal.Entries[i] = e
			switch {
			case e.OpenTelemetry != nil:
				if svc := fix(e.OpenTelemetry.Service); svc != e.OpenTelemetry.Service {
					ec, oc := *e, *e.OpenTelemetry
					oc.Service = svc
					ec.OpenTelemetry = &oc
					nal.Entries[i], alChanged = &ec, true
				}
			case e.ALS != nil:
				if svc := fix(e.ALS.Service); svc != e.ALS.Service {
					ec, ac := *e, *e.ALS
					ac.Service = svc
					ec.ALS = &ac
					nal.Entries[i], alChanged = &ec, true
				}
			}
		}
		if alChanged {
			cp.AccessLog, changed = nal, true
		}
	}
	if m := s.Metrics; m != nil {
		nm := *m
		nm.Sinks = make([]*MetricSink, len(m.Sinks))
		mChanged := false
		for i, sink := range m.Sinks {
			nm.Sinks[i] = sink
			if svc := fix(sink.Service); svc != sink.Service {
				sc := *sink
				sc.Service = svc
				nm.Sinks[i], mChanged = &sc, true
			}
		}
		if mChanged {
			cp.Metrics, changed = &nm, true
		}
	}
	if !changed {
		return s
	}
	return &cp
}
