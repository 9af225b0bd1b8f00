package ir

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
)

// Checks of what BackendTrafficPolicy settings put in the IR (traffic*.go),
// called from validate.go.

const million = 1_000_000

func (t *TrafficSettings) validate() error {
	if t == nil {
		return nil
	}
	if r := t.Retry; r != nil && len(r.RetryOn) == 0 {
		return errors.New("traffic: retry without retry conditions")
	}
	if f := t.Fault; f != nil {
		if f.Delay == nil && f.Abort == nil {
			return errors.New("traffic: fault without delay or abort")
		}
		if f.Delay != nil && (f.Delay.Share > million || f.Delay.Duration <= 0) {
			return fmt.Errorf("traffic: fault delay %s share %d/1e6", f.Delay.Duration, f.Delay.Share)
		}
		if a := f.Abort; a != nil {
			if a.Share > million || (a.GRPCStatus == nil) == (a.HTTPStatus == 0) {
				return errors.New("traffic: fault abort needs exactly one of an HTTP and a gRPC status, share at most 1e6")
			}
		}
	}
	seen := map[CompressorType]bool{}
	for _, c := range t.Compressors {
		switch c.Type {
		case CompressorGzip, CompressorBrotli, CompressorZstd:
		default:
			return fmt.Errorf("traffic: unknown compressor %q", c.Type)
		}
		if seen[c.Type] {
			return fmt.Errorf("traffic: compressor %s twice", c.Type)
		}
		seen[c.Type] = true
	}
	if ro := t.ResponseOverride; ro != nil {
		for _, r := range ro.Rules {
			if (r.Response == nil) == (r.Redirect == nil) {
				return fmt.Errorf("traffic: response override %s needs exactly one of response and redirect", r.Name)
			}
			if len(r.StatusRanges) == 0 && len(r.Headers) == 0 {
				return fmt.Errorf("traffic: response override %s matches nothing", r.Name)
			}
			for _, sr := range r.StatusRanges {
				if sr.Start > sr.End || sr.Start < 100 || sr.End > 599 {
					return fmt.Errorf("traffic: response override %s: status range %d-%d", r.Name, sr.Start, sr.End)
				}
			}
			for _, h := range r.Headers {
				if h.Type == HeaderRegex {
					if _, err := regexp.Compile(h.Value); err != nil {
						return fmt.Errorf("traffic: response override %s: header %s: %v", r.Name, h.Name, err)
					}
				}
			}
		}
	}
	if tr := t.Tracing; tr != nil {
		for _, p := range []*uint32{tr.RandomSampling, tr.ClientSampling, tr.OverallSampling} {
			if p != nil && *p > million {
				return errors.New("traffic: tracing sampling above 100%")
			}
		}
	}
	if t.NoUpgrades && len(t.Upgrades) > 0 {
		return errors.New("traffic: both NoUpgrades and Upgrades")
	}
	return nil
}

func (c *ClusterSettings) validate() error {
	if c == nil {
		return nil
	}
	if lb := c.LoadBalancer; lb != nil {
		switch lb.Type {
		case LBRoundRobin, LBLeastRequest, LBRandom:
		case LBConsistentHash:
			h := lb.ConsistentHash
			if h == nil {
				return errors.New("cluster: consistent hash without a hash key")
			}
			n := 0
			for _, set := range []bool{h.SourceIP, len(h.Headers) > 0, h.Cookie != nil, len(h.QueryParams) > 0} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("cluster: consistent hash needs exactly one hash key, has %d", n)
			}
		case LBBackendUtilization:
			if lb.BackendUtilization == nil {
				return errors.New("cluster: backend utilization without its settings")
			}
		default:
			return fmt.Errorf("cluster: unknown load balancer %q", lb.Type)
		}
	}
	if hc := c.HealthCheck; hc != nil {
		if a := hc.Active; a != nil {
			if a.Timeout <= 0 || a.Interval <= 0 || a.UnhealthyThreshold == 0 || a.HealthyThreshold == 0 {
				return errors.New("cluster: active health check without timeout, interval or thresholds")
			}
			switch a.Type {
			case HealthCheckHTTP:
				if a.Path == "" {
					return errors.New("cluster: HTTP health check without a path")
				}
			case HealthCheckTCP, HealthCheckGRPC:
			default:
				return fmt.Errorf("cluster: unknown health check type %q", a.Type)
			}
		}
		if p := hc.Passive; p != nil && (p.Interval <= 0 || p.BaseEjectionTime <= 0 || p.MaxEjectionPercent > 100) {
			return errors.New("cluster: outlier detection needs a positive interval and base ejection time")
		}
		if hc.PanicThreshold != nil && *hc.PanicThreshold > 100 {
			return errors.New("cluster: panic threshold above 100%")
		}
	}
	switch c.ProxyProtocol {
	case "", "V1", "V2":
	default:
		return fmt.Errorf("cluster: unknown proxy protocol version %q", c.ProxyProtocol)
	}
	return nil
}

// validateSharedClusters: two destinations of one proxy with the same name
// become one Envoy cluster, so they must ask for the same cluster settings
// (translate names them apart when they do not).
func (p *Proxy) validateSharedClusters() error {
	seen := map[string]*ClusterSettings{}
	check := func(d *RouteDestination) error {
		if d == nil || d.AllMerged() { // no cluster of its own (backendcluster.go)
			return nil
		}
		prev, ok := seen[d.Name]
		if !ok {
			seen[d.Name] = d.Cluster
			return nil
		}
		if prev != d.Cluster && !reflect.DeepEqual(prev, d.Cluster) {
			return fmt.Errorf("destination %s: routes sharing it ask for different cluster settings", d.Name)
		}
		return nil
	}
	for _, l := range p.HTTP {
		if l == nil {
			continue
		}
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if err := check(r.Destination); err != nil {
					return err
				}
			}
		}
	}
	for _, l := range p.TCP {
		if l == nil {
			continue
		}
		for _, r := range l.Routes {
			if err := check(r.Destination); err != nil {
				return err
			}
		}
	}
	for _, l := range p.UDP {
		if l != nil && l.Route != nil {
			if err := check(l.Route.Destination); err != nil {
				return err
			}
		}
	}
	return nil
}
