package translatecmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/ratelimitcfg"
	"github.com/egctl/egctl/xds"
)

// rateLimitConfigDir is where --output-dir keeps the rate-limit service's
// files: point the service at it with RUNTIME_ROOT=<output-dir>,
// RUNTIME_SUBDIRECTORY=ratelimit, RUNTIME_WATCH_ROOT=false (its default
// RUNTIME_APPDIRECTORY is config), as Envoy Gateway deploys it.
const rateLimitConfigDir = "ratelimit/config"

// rateLimitSection is the "ratelimit" key: the service's configuration,
// one entry per domain (each is one file of the service).
func rateLimitSection(proxies []*ir.Proxy) (section, error) {
	domains, err := ratelimitcfg.Config(&ir.Config{Proxies: proxies})
	if err != nil {
		return section{}, fmt.Errorf("rate-limit service configuration: %w", err)
	}
	if domains == nil {
		domains = []*ratelimitcfg.Domain{}
	}
	b, err := json.Marshal(domains)
	if err != nil {
		return section{}, err
	}
	return section{key: "ratelimit", json: b}, nil
}

// emitFiles writes --output-dir (or prints a lone bootstrap).
func (o *Options) emitFiles(cfg *ir.Config) error {
	if slices.Contains(o.To, toBootstrap) {
		if err := o.emitBootstraps(cfg); err != nil {
			return err
		}
	}
	if slices.Contains(o.To, toRateLimit) {
		proxies, err := o.selectProxies(cfg)
		if err != nil {
			return err
		}
		return o.writeRateLimitDir(proxies)
	}
	return nil
}

// writeRateLimitDir writes one file per domain into
// <output-dir>/ratelimit/config, and removes the YAML files there that no
// domain has any more: the service loads every file of the directory, and
// a stale domain would keep counting.
func (o *Options) writeRateLimitDir(proxies []*ir.Proxy) error {
	domains, err := ratelimitcfg.Config(&ir.Config{Proxies: proxies})
	if err != nil {
		return fmt.Errorf("rate-limit service configuration: %w", err)
	}
	dir := filepath.Join(o.OutputDir, filepath.FromSlash(rateLimitConfigDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, d := range domains {
		js, err := d.JSON()
		if err != nil {
			return err
		}
		b := js
		if o.Output == "yaml" {
			if b, err = xds.JSONToYAML(js); err != nil {
				return err
			}
		}
		name := ratelimitcfg.FileName(d.Domain)
		if o.Output == "json" {
			// The service reads YAML, of which JSON is a subset.
			b = append(b, '\n')
		}
		keep[name] = true
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (rate-limit domain %s)\n", path, d.Domain)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if !keep[filepath.Base(p)] {
			if err := os.Remove(p); err != nil {
				return err
			}
			fmt.Fprintf(o.IO.ErrOut, "removed %s (no such rate-limit domain any more)\n", p)
		}
	}
	if len(domains) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "no global rate limit: %s holds no domain\n", dir)
	}
	return nil
}
