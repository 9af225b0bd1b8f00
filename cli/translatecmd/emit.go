package translatecmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// emit writes what --to asked for.
func (o *Options) emit(in *resource.Set, res *translate.Result) error {
	if slices.Equal(o.To, []string{toBootstrap}) {
		return o.emitBootstraps(res.IR)
	}

	// Everything else is one document whose top-level keys are sorted, as
	// Envoy Gateway's egctl prints them.
	doc := map[string]json.RawMessage{}
	if slices.Contains(o.To, toGatewayAPI) {
		if err := addStatusObjects(doc, res.Status); err != nil {
			return err
		}
	}
	proxies, err := o.selectProxies(res.IR)
	if err != nil {
		return err
	}
	if slices.Contains(o.To, toIR) {
		b, err := irJSON(proxies, o.ShowSecrets)
		if err != nil {
			return err
		}
		doc["xdsIR"] = b
	}
	if slices.Contains(o.To, toXDS) {
		b, err := o.xdsJSON(proxies)
		if err != nil {
			return err
		}
		doc["xds"] = b
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return writeDoc(o.IO.Out, out, o.Output)
}

// writeDoc prints a JSON document as indented JSON or as YAML.
func writeDoc(w interface{ Write([]byte) (int, error) }, js []byte, format string) error {
	var out []byte
	if format == "json" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		out = buf.Bytes()
	} else {
		y, err := yaml.JSONToYAML(js)
		if err != nil {
			return err
		}
		out = y
	}
	_, err := w.Write(out)
	return err
}

// selectProxies applies --gateway.
func (o *Options) selectProxies(cfg *ir.Config) ([]*ir.Proxy, error) {
	if o.Gateway == "" {
		return cfg.Proxies, nil
	}
	for _, p := range cfg.Proxies {
		if p.Name == o.Gateway {
			return []*ir.Proxy{p}, nil
		}
	}
	return nil, cli.UsageErrorf("--gateway %s: no accepted Gateway of that name in the input (have: %s)", o.Gateway, proxyNames(cfg.Proxies))
}

func proxyNames(ps []*ir.Proxy) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// xdsJSON is {"ns/gateway": <config dump>} for every proxy.
func (o *Options) xdsJSON(proxies []*ir.Proxy) (json.RawMessage, error) {
	all, err := xds.Translate(&ir.Config{Proxies: proxies})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]json.RawMessage, len(all))
	for _, r := range all {
		// The bootstrap a proxy managed by Envoy Gateway starts from: ADS to
		// the control plane's Service, so the dump compares with a live one.
		boot, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{
			NodeID: r.Name, NodeCluster: r.Name, XDSHost: "envoy-gateway", XDSPort: 18000,
		})
		if err != nil {
			return nil, err
		}
		dumpFn := xds.ConfigDump
		if o.ShowSecrets {
			dumpFn = xds.ConfigDumpWithSecrets
		}
		dump, err := dumpFn(r, boot, []string{o.Type})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		b, err := xds.Marshal(dump, "json")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		byName[r.Name] = b
	}
	return json.Marshal(byName)
}

// irJSON is {"ns/gateway": <ir.Proxy>} with private keys redacted unless asked.
func irJSON(proxies []*ir.Proxy, showSecrets bool) (json.RawMessage, error) {
	byName := make(map[string]*ir.Proxy, len(proxies))
	for _, p := range proxies {
		if !showSecrets {
			p = ir.RedactSecrets(p)
		}
		byName[p.Name] = p
	}
	return json.Marshal(byName)
}

// emitBootstraps prints one static bootstrap, or writes one per Gateway
// with --output-dir.
func (o *Options) emitBootstraps(cfg *ir.Config) error {
	proxies, err := o.selectProxies(cfg)
	if err != nil {
		return err
	}
	switch {
	case len(proxies) == 0:
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("no Gateway to compile: the input has no Gateway whose GatewayClass has controllerName %s (see --controller-name)", o.ControllerName)}
	case len(proxies) > 1 && o.OutputDir == "":
		return cli.UsageErrorf("the input has %d Gateways (%s): pick one with --gateway NAMESPACE/NAME, or write one bootstrap per Gateway with --output-dir DIR", len(proxies), proxyNames(proxies))
	}
	host, port, _ := splitHostPort(o.AdminAddress)
	all, err := xds.Translate(&ir.Config{Proxies: proxies})
	if err != nil {
		return err
	}
	for _, r := range all {
		boot, err := xds.StaticBootstrap(r, xds.BootstrapOptions{AdminAddress: host, AdminPort: port})
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		b, err := xds.Marshal(boot, o.Output)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		if o.OutputDir == "" {
			if _, err := o.IO.Out.Write(b); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(o.OutputDir, 0o755); err != nil {
			return err
		}
		// "_" cannot occur in Kubernetes names, so the file name is unambiguous.
		name := strings.Replace(r.Name, "/", "_", 1) + "." + o.Output
		path := filepath.Join(o.OutputDir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (Gateway %s)\n", path, r.Name)
	}
	return nil
}
