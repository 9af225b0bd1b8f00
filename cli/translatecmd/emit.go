package translatecmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// emit writes what --to asked for.
func (o *Options) emit(in *resource.Set, res *translate.Result) error {
	if o.OutputDir != "" || slices.Equal(o.To, []string{toBootstrap}) {
		return o.emitFiles(res.IR)
	}

	// Everything else is one document whose top-level keys are sorted, as
	// Envoy Gateway's egctl prints them. It is written section by section
	// (a config dump of many routes is large), with the bytes that
	// converting the whole document at once would give.
	var sections []section
	if slices.Contains(o.To, toGatewayAPI) {
		s, err := statusSections(res.Status)
		if err != nil {
			return err
		}
		sections = append(sections, s...)
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
		sections = append(sections, section{key: "xdsIR", json: b})
	}
	if slices.Contains(o.To, toXDS) {
		dumps, err := o.xdsDumpsLowGC(proxies)
		if err != nil {
			return err
		}
		sections = append(sections, section{key: "xds", dumps: dumps})
	}
	if slices.Contains(o.To, toRateLimit) {
		s, err := rateLimitSection(proxies) // ratelimit.go
		if err != nil {
			return err
		}
		sections = append(sections, s)
	}
	// The keys are ASCII letters, for which JSON's and go-yaml's orders agree.
	slices.SortFunc(sections, func(a, b section) int { return strings.Compare(a.key, b.key) })
	w := bufio.NewWriterSize(o.IO.Out, 1<<20)
	if err := writeSections(w, sections, o.Output, o.Pretty); err != nil {
		return err
	}
	return w.Flush()
}

// section is one top-level key of the output: JSON, or config dumps by
// Gateway name.
type section struct {
	key   string
	json  json.RawMessage
	dumps map[string]*xds.DumpView
}

// writeSections prints {key: value, ...} as indented JSON or as YAML.
func writeSections(w io.Writer, sections []section, format string, pretty bool) error {
	if format == "json" {
		return writeJSONSections(w, sections, pretty)
	}
	if len(sections) == 0 {
		_, err := io.WriteString(w, "{}\n")
		return err
	}
	for _, s := range sections {
		if s.dumps != nil {
			if err := xds.WriteYAMLDumpViews(w, s.key, s.dumps); err != nil {
				return err
			}
			continue
		}
		// A top-level key's text does not depend on its neighbours.
		y, err := xds.JSONSectionToYAML(s.key, s.json)
		if err != nil {
			return err
		}
		if _, err := w.Write(y); err != nil {
			return err
		}
	}
	return nil
}

// writeJSONSections prints the document as Envoy Gateway's egctl prints
// it: compact, keys in byte order, HTML characters escaped as json.Marshal
// escapes them, one newline at the end. pretty indents it by two spaces,
// as json.Indent would (docs/translate.md says why compact is the default).
func writeJSONSections(w io.Writer, sections []section, pretty bool) error {
	out := w
	var ind *xds.JSONIndenter
	if pretty {
		ind = xds.NewJSONIndenter(w, "", "  ")
		out = ind
	}
	if err := writeCompactSections(out, sections); err != nil {
		return err
	}
	if ind != nil {
		if err := ind.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func writeCompactSections(w io.Writer, sections []section) error {
	if _, err := io.WriteString(w, "{"); err != nil {
		return err
	}
	for i, s := range sections {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if _, err := w.Write(append(jsonKey(s.key), ':')); err != nil {
			return err
		}
		if s.dumps != nil {
			if err := writeJSONDumps(w, s.dumps); err != nil {
				return err
			}
		} else if err := writeCompactJSON(w, s.json); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "}")
	return err
}

// writeJSONDumps prints {name: dump, ...}.
func writeJSONDumps(w io.Writer, dumps map[string]*xds.DumpView) error {
	names := make([]string, 0, len(dumps))
	for n := range dumps {
		names = append(names, n)
	}
	slices.Sort(names)
	if _, err := io.WriteString(w, "{"); err != nil {
		return err
	}
	for i, n := range names {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if _, err := w.Write(append(jsonKey(n), ':')); err != nil {
			return err
		}
		// Written in parallel pieces, straight from the resources.
		if err := dumps[n].WriteJSON(w); err != nil {
			return fmt.Errorf("%s: xds: %w", n, err)
		}
	}
	_, err := io.WriteString(w, "}")
	return err
}

// writeCompactJSON writes js without whitespace between tokens, HTML
// characters escaped as json.Marshal escapes them.
func writeCompactJSON(w io.Writer, js []byte) error {
	if needsHTMLEscape(js) {
		var escaped bytes.Buffer
		json.HTMLEscape(&escaped, js)
		js = escaped.Bytes()
	}
	var out bytes.Buffer
	out.Grow(len(js))
	if err := json.Compact(&out, js); err != nil {
		return err
	}
	_, err := w.Write(out.Bytes())
	return err
}

// needsHTMLEscape reports whether js has a character json.HTMLEscape
// changes: <, >, & or U+2028, U+2029 (UTF-8 e2 80 a8, e2 80 a9).
func needsHTMLEscape(js []byte) bool {
	return bytes.ContainsAny(js, "<>&") || bytes.Contains(js, []byte("\u2028")) || bytes.Contains(js, []byte("\u2029"))
}

func jsonKey(k string) []byte {
	b, _ := json.Marshal(k)
	return b
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

// xdsDumpsLowGC is xdsDumps collecting garbage more eagerly, unless the
// user set GOGC: building the xDS resources (large: about 20 KB per route)
// leaves much garbage, and the default heap goal of twice the live heap
// would set the peak memory of the whole command. The resources stay live
// until written: the dumps are printed straight from them (xds.DumpView).
func (o *Options) xdsDumpsLowGC(proxies []*ir.Proxy) (map[string]*xds.DumpView, error) {
	if os.Getenv("GOGC") != "" {
		return o.xdsDumps(proxies)
	}
	old := debug.SetGCPercent(xdsGCPercent)
	dumps, err := o.xdsDumps(proxies)
	debug.SetGCPercent(old)
	// Collect that garbage now: the next heap goal would otherwise be
	// twice the heap with it, and writing the dumps allocates up to it.
	runtime.GC()
	return dumps, err
}

// xdsGCPercent keeps the heap within 1.4 times the live data.
const xdsGCPercent = 40

// xdsDumps are the config dumps by Gateway name ("ns/gateway").
func (o *Options) xdsDumps(proxies []*ir.Proxy) (map[string]*xds.DumpView, error) {
	all, err := o.translateXDS(proxies)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*xds.DumpView, len(all))
	for _, r := range all {
		// The bootstrap a proxy managed by Envoy Gateway starts from: ADS to
		// the control plane's Service, so the dump compares with a live one.
		boot, err := xds.DynamicBootstrap(xds.DynamicBootstrapOptions{
			NodeID: r.Name, NodeCluster: r.Name, XDSHost: "envoy-gateway", XDSPort: 18000,
			Resources: r, StatsPort: o.Defaults.StatsPort,
		})
		if err != nil {
			return nil, err
		}
		dump, err := xds.NewDumpView(r, boot, []string{o.Type}, o.ShowSecrets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		if o.Type != xds.DumpAll {
			// One type prints as that type's dump, without the ConfigDump
			// around it, as Envoy Gateway's egctl prints it.
			if dump, err = dump.SingleSection(); err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
		}
		byName[r.Name] = dump
	}
	return byName, nil
}

// translateXDS builds the resources of proxies, or takes those run built
// already.
func (o *Options) translateXDS(proxies []*ir.Proxy) ([]*xds.Resources, error) {
	if o.compiled != nil {
		out := make([]*xds.Resources, 0, len(proxies))
		for _, p := range proxies {
			r, ok := o.compiled[p.Name]
			if !ok {
				return xds.Translate(&ir.Config{Proxies: proxies})
			}
			out = append(out, r)
		}
		return out, nil
	}
	return xds.Translate(&ir.Config{Proxies: proxies})
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
	all, err := o.translateXDS(proxies)
	if err != nil {
		return err
	}
	for _, r := range all {
		if o.OutputDir == "" && o.Output == "yaml" && o.XDSServer == "" {
			// Streamed, printed from a view that keeps the listeners'
			// connection managers unpacked: a bootstrap of many routes
			// is large. The resources are not used again: the view
			// takes them as they are.
			v, err := xds.StaticBootstrapView(r, xds.BootstrapOptions{AdminAddress: host, AdminPort: port, StatsPort: o.Defaults.StatsPort, InPlace: true})
			if err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			w := bufio.NewWriterSize(o.IO.Out, 1<<20)
			if err := v.WriteYAML(w); err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			continue
		}
		boot, err := o.bootstrap(r, host, port)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		if o.OutputDir == "" && o.Output == "yaml" {
			w := bufio.NewWriterSize(o.IO.Out, 1<<20)
			if err := xds.WriteYAML(w, boot); err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			continue
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
		name, err := bootstrapFileName(r.Name, o.Output) // outdir.go
		if err != nil {
			return err
		}
		if err := writeOutputFile(o.OutputDir, name, b); err != nil {
			return err
		}
		path := filepath.Join(o.OutputDir, name)
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (Gateway %s)\n", path, r.Name)
	}
	return nil
}

// bootstrap is the static bootstrap of r or, with --xds-server, the one
// that gets r's configuration from `egctl x serve`: node id and cluster are
// the Gateway's name, which is how serve picks the configuration.
func (o *Options) bootstrap(r *xds.Resources, adminHost string, adminPort uint32) (*bootstrapv3.Bootstrap, error) {
	if o.XDSServer == "" {
		// The resources are not used again: the bootstrap takes them as they are.
		return xds.StaticBootstrap(r, xds.BootstrapOptions{AdminAddress: adminHost, AdminPort: adminPort, StatsPort: o.Defaults.StatsPort, InPlace: true})
	}
	xh, xp, _ := splitHostPort(o.XDSServer)
	opts := xds.DynamicBootstrapOptions{
		NodeID: r.Name, NodeCluster: r.Name, XDSHost: xh, XDSPort: xp, Delta: o.XDSDelta,
		AdminAddress: adminHost, AdminPort: adminPort,
		// The EnvoyProxy's stats listener, stat sinks and bootstrap patch.
		Resources: r, StatsPort: o.Defaults.StatsPort,
	}
	if d := o.XDSCertsDir; d != "" {
		opts.TLS = &xds.XDSClientTLS{
			CertFile: filepath.Join(d, "envoy", "tls.crt"),
			KeyFile:  filepath.Join(d, "envoy", "tls.key"),
			CAFile:   filepath.Join(d, "envoy", "ca.crt"),
		}
		if net.ParseIP(xh) == nil {
			opts.TLS.SNI = xh
		}
	}
	return xds.DynamicBootstrap(opts)
}
