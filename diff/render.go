package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// RenderOptions label the two sides in rendered output.
type RenderOptions struct {
	OldLabel, NewLabel string
	// Color marks removed and added lines red and green (text only; for
	// terminals).
	Color bool
	// MarkdownLimit caps -o markdown output, which is meant for a
	// pull-request comment (GitHub refuses comments over 65536
	// characters): past it the remaining diffs are left out and counted.
	// 0 means DefaultMarkdownLimit; negative means no limit.
	MarkdownLimit int
}

// DefaultMarkdownLimit leaves room under GitHub's comment limit.
const DefaultMarkdownLimit = 60000

func (o RenderOptions) labels() (string, string) {
	a, b := o.OldLabel, o.NewLabel
	if a == "" {
		a = "old"
	}
	if b == "" {
		b = "new"
	}
	return a, b
}

// totals sums the counts over every proxy and type.
func (r *Result) totals() (added, removed, changed, unchanged int) {
	for _, c := range r.Counts {
		added += c.Added
		removed += c.Removed
		changed += c.Changed
		unchanged += c.Unchanged
	}
	return
}

// Summary is one sentence about the whole comparison.
func (r *Result) Summary() string {
	added, removed, changed, unchanged := r.totals()
	total := added + removed + changed + unchanged
	proxies := plural(len(r.Proxies), "proxy", "proxies")
	if r.Empty() {
		return fmt.Sprintf("No differences: %s, %s compared.", proxies, plural(total, "resource", "resources"))
	}
	return fmt.Sprintf("%s (%d added, %d removed, %d changed; %d unchanged) across %s.",
		plural(len(r.Entries), "resource differs", "resources differ"), added, removed, changed, unchanged, proxies)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

const (
	colorRed   = "\x1b[31m"
	colorGreen = "\x1b[32m"
	colorCyan  = "\x1b[36m"
	colorReset = "\x1b[0m"
)

// WriteText prints the summary table, then a unified diff per resource.
func WriteText(w io.Writer, r *Result, o RenderOptions) error {
	oldLabel, newLabel := o.labels()
	var sb strings.Builder
	if len(r.Counts) > 0 {
		tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROXY\tTYPE\tADDED\tREMOVED\tCHANGED\tUNCHANGED")
		for _, c := range r.Counts {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", c.Proxy, c.Type, c.Added, c.Removed, c.Changed, c.Unchanged)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		sb.WriteString("\n")
	}
	sb.WriteString(r.Summary() + "\n")
	for _, note := range r.skipNotes() {
		sb.WriteString(note + "\n")
	}
	for _, e := range r.Entries {
		sb.WriteString("\n")
		what := fmt.Sprintf("%s %s %s", e.Proxy, e.Type, e.Name)
		sb.WriteString(paint(o.Color, "", fmt.Sprintf("--- %s: %s", oldLabel, what)) + "\n")
		sb.WriteString(paint(o.Color, "", fmt.Sprintf("+++ %s: %s", newLabel, what)) + "\n")
		for _, line := range splitLines(e.Diff) {
			switch {
			case strings.HasPrefix(line, "@@"):
				line = paint(o.Color, colorCyan, line)
			case strings.HasPrefix(line, "-"):
				line = paint(o.Color, colorRed, line)
			case strings.HasPrefix(line, "+"):
				line = paint(o.Color, colorGreen, line)
			}
			sb.WriteString(line + "\n")
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func paint(on bool, color, s string) string {
	if !on || color == "" {
		return s
	}
	return color + s + colorReset
}

// WriteJSON prints the entries as a JSON array (empty when the sides
// agree), for bots.
func WriteJSON(w io.Writer, r *Result) error {
	entries := r.Entries
	if entries == nil {
		entries = []Entry{}
	}
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteMarkdown prints a pull-request comment: a heading, the summary
// table and one collapsible ```diff block per resource.
func WriteMarkdown(w io.Writer, r *Result, o RenderOptions) error {
	oldLabel, newLabel := o.labels()
	var sb strings.Builder
	sb.WriteString("### Envoy configuration diff\n\n")
	fmt.Fprintf(&sb, "%s → %s: %s\n", mdCode(oldLabel), mdCode(newLabel), r.Summary())
	if len(r.Counts) > 0 {
		sb.WriteString("\n| Proxy | Type | Added | Removed | Changed | Unchanged |\n")
		sb.WriteString("| --- | --- | ---: | ---: | ---: | ---: |\n")
		for _, c := range r.Counts {
			fmt.Fprintf(&sb, "| %s | %s | %d | %d | %d | %d |\n", mdCode(c.Proxy), c.Type, c.Added, c.Removed, c.Changed, c.Unchanged)
		}
	}
	for _, note := range r.skipNotes() {
		sb.WriteString("\n> " + note + "\n")
	}
	limit := o.MarkdownLimit
	if limit == 0 {
		limit = DefaultMarkdownLimit
	}
	for i, e := range r.Entries {
		var block strings.Builder
		fence := mdFence(e.Diff)
		fmt.Fprintf(&block, "\n<details><summary>%s %s <code>%s</code> (proxy <code>%s</code>)</summary>\n\n",
			e.Change, e.Type, htmlEscape(e.Name), htmlEscape(e.Proxy))
		block.WriteString(fence + "diff\n" + e.Diff)
		if !strings.HasSuffix(e.Diff, "\n") {
			block.WriteString("\n")
		}
		block.WriteString(fence + "\n\n</details>\n")
		if limit > 0 && sb.Len()+block.Len() > limit-200 {
			fmt.Fprintf(&sb, "\n%s not shown to keep this comment short; run `egctl x diff` for the full output.\n",
				plural(len(r.Entries)-i, "more resource differs and is", "more resources differ and are"))
			break
		}
		sb.WriteString(block.String())
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// mdFence returns a backtick fence longer than any backtick run in s.
func mdFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdCode renders s as inline code, choosing a delimiter s does not contain.
func mdCode(s string) string {
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return "``" + " " + s + " " + "``"
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// skipNotes says which types were not compared, per proxy.
func (r *Result) skipNotes() []string {
	var out []string
	for _, p := range r.Proxies {
		if t := r.Skipped[p]; len(t) > 0 {
			out = append(out, fmt.Sprintf("Not compared for %s: %s (absent from one side's config dump).", p, strings.Join(t, ", ")))
		}
	}
	return out
}

// SkipNotes says which types were not compared, per proxy: the notes the
// text and markdown outputs carry, for outputs that cannot (JSON).
func (r *Result) SkipNotes() []string { return r.skipNotes() }
