package statuscmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/serve"
)

// serveURL turns --serve's HOST:PORT (or URL) into the /status address.
func serveURL(addr string) string {
	u := strings.TrimSuffix(addr, "/")
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = "http://" + u
	}
	return strings.TrimSuffix(u, "/status") + "/status"
}

// serveReport is what -o json|yaml prints for --serve: the objects' rows
// as -f prints them, then serve's /status.
type serveReport struct {
	Objects []ObjectStatus `json:"objects,omitempty"`
	// ObjectsOf says which compilation the objects are of: "latest", or
	// "applied" when the latest did not compile.
	ObjectsOf string `json:"objectsOf,omitempty"`
	serve.Status
}

// runServe reads a running `egctl x serve`'s /status and /status/objects
// and prints every object's conditions as -f prints them for the same
// files (with TYPE, -A, -n, -q, -v and -o as there), then the fleet
// (connected proxies, the version each acknowledged, NACKs) and the state
// of its manifests (problems, a held-back edit).
func runServe(ctx context.Context, o *Options) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	url := serveURL(o.Serve)
	var st serve.Status
	if err := getServe(ctx, o, url, &st); err != nil {
		return err
	}
	var objs serve.Objects
	if err := getServe(ctx, o, url+"/objects", &objs); err != nil {
		return err
	}
	set, problems, err := objs.Set()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("%s/objects: %w", url, err)}
	}
	rows := withUnserved(Objects(set), problems)
	if o.types != nil {
		rows = typeFilter(rows, o.types, o.tableOptions())
	}
	switch o.Output {
	case outJSON, outYAML:
		rep := serveReport{Objects: rows, ObjectsOf: objs.Compilation, Status: st}
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil && o.Output == outYAML {
			b, err = yaml.JSONToYAML(b)
		} else if err == nil {
			b = append(b, '\n')
		}
		if err != nil {
			return err
		}
		if _, err := o.IO.Out.Write(b); err != nil {
			return err
		}
	default:
		var sb strings.Builder
		n := len(rows)
		if o.types != nil {
			n = o.typeTables(&sb, set, problems)
		} else {
			writeObjects(&sb, rows)
		}
		// writeTypeTables ends a table of "kind/name" rows with a blank
		// line of its own.
		if o.types == nil || n > 0 && !o.typedName {
			sb.WriteString("\n")
		}
		if objs.Compilation == "applied" {
			fmt.Fprintf(&sb, "Objects: as the applied compilation of %s left them (the latest did not compile)\n\n", objs.At.UTC().Format(time.RFC3339))
		}
		writeServe(&sb, &st)
		if _, err := io.WriteString(o.IO.Out, sb.String()); err != nil {
			return err
		}
		if o.types != nil {
			o.noRows(n)
		}
	}
	return serveVerdict(o.IO, &st, rows)
}

// getServe GETs one of serve's JSON documents into v.
func getServe(ctx context.Context, o *Options, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return cli.UsageErrorf("--serve %q: %v", o.Serve, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("egctl x serve at %s: %w", o.Serve, err)}
	}
	defer resp.Body.Close()
	// Every object's conditions: 6 MB at 10,000 routes.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("%s: %w", url, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &cli.ExitError{Code: cli.ExitProblems, Err: fmt.Errorf("%s: not egctl x serve's status: %w", url, err)}
	}
	return nil
}

// writeServe prints the status as tables.
func writeServe(w io.Writer, st *serve.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	gws := make([]string, 0, len(st.Gateways))
	for g := range st.Gateways {
		gws = append(gws, g)
	}
	sort.Strings(gws)
	if len(gws) == 0 {
		fmt.Fprintln(tw, "No Gateway served.")
	} else {
		// LAST-GOOD is the newest version a proxy acknowledged in full.
		fmt.Fprintln(tw, "GATEWAY\tVERSION\tLAST-GOOD\tPROXIES")
		for _, g := range gws {
			n := 0
			for _, p := range st.Proxies {
				if p.Gateway == g {
					n++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", g, st.Gateways[g], dash(st.LastGood[g]), n)
		}
	}
	fmt.Fprintln(tw)
	if len(st.Proxies) == 0 {
		fmt.Fprintln(tw, "No proxy connected.")
	} else {
		fmt.Fprintln(tw, "NODE\tGATEWAY\tXDS\tCONNECTED\tACKNOWLEDGED\tIN-SYNC\tREJECTED")
		for _, p := range st.Proxies {
			mode := "sotw"
			if p.Delta {
				mode = "delta"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", p.Node, dash(p.Gateway), mode,
				p.Connected.UTC().Format(time.RFC3339), dash(acknowledged(p)), yesNo(p.InSync), len(p.Rejected))
		}
	}
	_ = tw.Flush()
	for _, p := range st.Proxies {
		types := make([]string, 0, len(p.Rejected))
		for t := range p.Rejected {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			fmt.Fprintf(w, "NACK: %s rejected %s: %s\n", p.Node, t, oneLine(p.Rejected[t]))
		}
	}
	for _, g := range gws {
		r := st.Rejected[g]
		if r == nil {
			continue
		}
		then := "it stays: no earlier version was acknowledged"
		if r.Serving != "" {
			then = "serving " + r.Serving + ", the last version its proxies acknowledged, until the manifests change"
		}
		fmt.Fprintf(w, "Rejected: Gateway %s version %s by %s at %s (%s): %s; %s\n", g, r.Version, r.Node, r.At.UTC().Format(time.RFC3339), r.Type, oneLine(r.Message), then)
	}
	fmt.Fprintln(w)
	writeCompile(w, "Applied", st.Applied)
	if st.Latest != nil {
		writeCompile(w, "Latest (not applied)", st.Latest)
	}
	for _, h := range st.HeldBack {
		fmt.Fprintf(w, "Held back: %s\n", h)
	}
}

func writeCompile(w io.Writer, title string, c *serve.CompileStatus) {
	if c == nil {
		fmt.Fprintf(w, "%s: nothing compiled yet\n", title)
		return
	}
	fmt.Fprintf(w, "%s: %d objects compiled at %s in %s\n", title, c.Objects, c.At.UTC().Format(time.RFC3339), c.Duration)
	if c.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", c.Error)
	}
	if len(c.Problems) == 0 && c.Error == "" {
		fmt.Fprintln(w, "  every object accepted")
	}
	for _, p := range c.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, x := range c.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", x)
	}
}

// acknowledged says which version a proxy acknowledged: its Gateway's
// version when it has every type of it (serve versions each type apart;
// -o json lists them), else type=version pairs.
func acknowledged(p serve.ProxyStatus) string {
	if p.InSync && p.Version != "" {
		return p.Version
	}
	acked := p.Acked
	seen := map[string]bool{}
	types := make([]string, 0, len(acked))
	for t, v := range acked {
		seen[v] = true
		types = append(types, t)
	}
	if len(seen) == 1 {
		for v := range seen {
			return v
		}
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + "=" + acked[t]
	}
	return strings.Join(parts, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// serveVerdict: exit status 1 when a proxy rejected its configuration,
// an object row is not OK (as -f decides, after TYPE's filter), a
// compilation failed or an edit is held back.
func serveVerdict(ios *cli.IOStreams, st *serve.Status, rows []ObjectStatus) error {
	parts := objectVerdict(rows)
	nacks := 0
	for _, p := range st.Proxies {
		if len(p.Rejected) > 0 {
			nacks++
		}
	}
	if nacks > 0 {
		parts = append(parts, plural(nacks, "proxy rejected", "proxies rejected")+" its configuration")
	} else if len(st.Rejected) > 0 {
		parts = append(parts, plural(len(st.Rejected), "Gateway's snapshot was", "Gateways' snapshots were")+" rejected by a proxy")
	}
	for _, c := range []*serve.CompileStatus{st.Applied, st.Latest} {
		if c != nil && c.Error != "" {
			parts = append(parts, "the manifests do not compile")
			break
		}
	}
	if st.Applied == nil {
		parts = append(parts, "nothing compiled yet")
	}
	if len(st.HeldBack) > 0 {
		parts = append(parts, "the latest edit is held back")
	}
	if len(parts) == 0 {
		return nil
	}
	fmt.Fprintln(ios.ErrOut, strings.Join(parts, "; "))
	return &cli.ExitError{Code: cli.ExitProblems}
}
