package statuscmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/cli"
)

func write(ios *cli.IOStreams, rep *Report, format string) error {
	switch format {
	case outJSON:
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = ios.Out.Write(append(b, '\n'))
		return err
	case outYAML:
		b, err := yaml.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = ios.Out.Write(b)
		return err
	}
	var sb strings.Builder
	if rep.Objects != nil {
		writeObjects(&sb, rep.Objects)
	}
	for i, p := range rep.Proxies {
		if i > 0 || rep.Objects != nil {
			sb.WriteString("\n")
		}
		writeProxy(&sb, p)
	}
	_, err := io.WriteString(ios.Out, sb.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a message on its row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func writeObjects(w io.Writer, rows []ObjectStatus) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "No objects with a status (is there a GatewayClass for this controller? see --controller-name).")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE/NAME\tPARENT\tACCEPTED\tRESOLVEDREFS\tPROGRAMMED\tREASON\tMESSAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, r.ref(), dash(r.Parent),
			dash(r.Accepted), dash(r.ResolvedRefs), dash(r.Programmed), dash(r.Reason), oneLine(r.Message))
	}
	_ = tw.Flush()
}

func writeProxy(w io.Writer, p *ProxyStatus) {
	fmt.Fprintf(w, "Proxy %s\n", p.Admin)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(k, v string) { fmt.Fprintf(tw, "  %s:\t%s\n", k, v) }
	if p.Error != "" {
		field("Error", p.Error)
		_ = tw.Flush()
		return
	}
	field("Node", dash(p.Node))
	field("State", p.State)
	field("Envoy", p.Version)
	field("Uptime", (time.Duration(p.UptimeSeconds) * time.Second).String())
	field("Listeners", fmt.Sprintf("%d active, %d warming, %d draining", p.ListenersActive, p.ListenersWarming, p.ListenersDraining))
	field("Hosts", fmt.Sprintf("%d/%d healthy in %d clusters", p.HostsHealthy, p.HostsTotal, len(p.Clusters)))
	switch {
	case p.ConfigLastUpdated != nil:
		field("Config updated", p.ConfigLastUpdated.Format(time.RFC3339))
	case p.StaticBootstrap:
		field("Config updated", "never (static bootstrap)")
	default:
		field("Config updated", "never (no xDS update received)")
	}
	rej := fmt.Sprintf("%d", p.RejectedUpdates)
	if len(p.Rejected) > 0 {
		var parts []string
		for _, k := range sortedKeys(p.Rejected) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, p.Rejected[k]))
		}
		rej += " (" + strings.Join(parts, ", ") + ")"
	}
	field("Rejected updates", rej)
	if d := p.Drift; d != nil {
		switch {
		case d.Error != "":
			field("Drift", "unknown: "+d.Error)
		case d.InSync:
			field("Drift", "in sync with "+d.Gateway)
		default:
			field("Drift", fmt.Sprintf("%d resource(s) differ from %s: %s", len(d.Resources), d.Gateway, strings.Join(d.Resources, "; ")))
		}
	}
	if len(p.Problems) > 0 {
		field("Problems", strings.Join(p.Problems, "; "))
	}
	_ = tw.Flush()
	if len(p.Clusters) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CLUSTER\tHEALTHY\tTOTAL\tUNHEALTHY HOSTS")
		for _, c := range p.Clusters {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", c.Name, c.Healthy, c.Total, dash(strings.Join(c.Unhealthy, ", ")))
		}
		_ = tw.Flush()
	}
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
