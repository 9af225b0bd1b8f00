package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// tally adds up cases.
type tally struct {
	cases, egOK, oursOK, namesEqual, identical int
	union, both, equal                         map[string]int
}

func newTally() *tally {
	return &tally{union: map[string]int{}, both: map[string]int{}, equal: map[string]int{}}
}

func (t *tally) add(r *caseResult) {
	t.cases++
	if !r.EGOK {
		return
	}
	t.egOK++
	if r.OursOK {
		t.oursOK++
	}
	if r.NamesEqual && r.OursOK {
		t.namesEqual++
	}
	same := r.OursOK
	for _, typ := range resourceTypes {
		t.union[typ] += r.Union[typ]
		t.both[typ] += r.Both[typ]
		t.equal[typ] += r.Equal[typ]
		if r.Equal[typ] != r.Union[typ] {
			same = false
		}
	}
	if same {
		t.identical++
	}
}

func (t *tally) sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

type report struct {
	all    *tally
	clean  *tally // cases egctl translates without a problem
	kinds  map[string]*tally
	paths  map[string]int
	sample map[string]string
	// missing/extra resources by type; failures by message
	missing, extra map[string]int
	egFail         map[string]int
	oursFail       map[string][]string
	results        []*caseResult
}

func summarize(results []*caseResult) *report {
	rep := &report{all: newTally(), clean: newTally(), kinds: map[string]*tally{}, paths: map[string]int{}, sample: map[string]string{},
		missing: map[string]int{}, extra: map[string]int{}, egFail: map[string]int{}, oursFail: map[string][]string{}, results: results}
	for _, r := range results {
		rep.all.add(r)
		if r.EGOK && r.OursClean {
			rep.clean.add(r)
		}
		k := rep.kinds[r.Kind]
		if k == nil {
			k = newTally()
			rep.kinds[r.Kind] = k
		}
		k.add(r)
		if !r.EGOK {
			rep.egFail[trimErr(r.EGErr)]++
			continue
		}
		if !r.OursOK {
			rep.oursFail[trimErr(r.OursErr)] = append(rep.oursFail[trimErr(r.OursErr)], r.Name)
		}
		for p, n := range r.Paths {
			rep.paths[p] += n
			if _, ok := rep.sample[p]; !ok {
				rep.sample[p] = r.Name
			}
		}
		for t, n := range r.Missing {
			rep.missing[t] += n
		}
		for t, n := range r.Extra {
			rep.extra[t] += n
		}
	}
	return rep
}

// trimErr keeps the gist of an error for grouping: the text after the
// last "error:" / ": " prefix chain, without object names is too lossy, so
// only the length is capped.
func trimErr(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(a)/float64(b))
}

func (rep *report) print(w io.Writer, md bool, top int) {
	table := func(header []string, rows [][]string) {
		if md {
			fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
			fmt.Fprintln(w, "|"+strings.Repeat("---|", len(header)))
			for _, r := range rows {
				fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
			}
			fmt.Fprintln(w)
			return
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	row := func(name string, t *tally) []string {
		u, e := t.sum(t.union), t.sum(t.equal)
		return []string{name, fmt.Sprint(t.cases), fmt.Sprint(t.egOK), fmt.Sprint(t.oursOK),
			fmt.Sprintf("%d (%s)", t.namesEqual, pct(t.namesEqual, t.egOK)),
			fmt.Sprintf("%d (%s)", t.identical, pct(t.identical, t.egOK)),
			fmt.Sprint(u), fmt.Sprintf("%d (%s)", e, pct(e, u))}
	}
	kinds := make([]string, 0, len(rep.kinds))
	for k := range rep.kinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		return rep.kinds[kinds[i]].cases > rep.kinds[kinds[j]].cases || rep.kinds[kinds[i]].cases == rep.kinds[kinds[j]].cases && kinds[i] < kinds[j]
	})
	var rows [][]string
	for _, k := range kinds {
		rows = append(rows, row(k, rep.kinds[k]))
	}
	rows = append(rows, row("**all**", rep.all), row("egctl exit 0", rep.clean))
	if !md {
		rows[len(rows)-2][0] = "ALL"
	}
	fmt.Fprintln(w, "Per kind of input (the most specific kind a case uses). Percentages are of the cases Envoy Gateway's egctl translates, and of resources on either side; \"egctl exit 0\": the cases both translate where egctl accepts every object (the inputs it fully supports):")
	fmt.Fprintln(w)
	table([]string{"kind", "cases", "EG translates", "egctl translates", "names equal", "identical", "resources", "byte-equal"}, rows)

	rows = nil
	for _, t := range resourceTypes {
		rows = append(rows, []string{t, fmt.Sprint(rep.all.union[t]), fmt.Sprint(rep.all.both[t]),
			fmt.Sprint(rep.missing[t]), fmt.Sprint(rep.extra[t]),
			fmt.Sprintf("%d (%s)", rep.all.equal[t], pct(rep.all.equal[t], rep.all.union[t]))})
	}
	fmt.Fprintln(w, "Per resource type:")
	fmt.Fprintln(w)
	table([]string{"type", "resources", "both", "only EG", "only egctl", "byte-equal"}, rows)

	paths := make([]string, 0, len(rep.paths))
	for p := range rep.paths {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		if rep.paths[paths[i]] != rep.paths[paths[j]] {
			return rep.paths[paths[i]] > rep.paths[paths[j]]
		}
		return paths[i] < paths[j]
	})
	if len(paths) > top {
		paths = paths[:top]
	}
	rows = nil
	for _, p := range paths {
		rows = append(rows, []string{fmt.Sprint(rep.paths[p]), "`" + p + "`", rep.sample[p]})
	}
	fmt.Fprintf(w, "Top %d differences by field path (resources present on both sides that differ there):\n\n", len(rows))
	table([]string{"resources", "path", "first case"}, rows)

	rows = nil
	for msg, names := range rep.oursFail {
		ex := names[0]
		rows = append(rows, []string{fmt.Sprint(len(names)), msg, ex})
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i][0] > rows[j][0] || rows[i][0] == rows[j][0] && rows[i][1] < rows[j][1]
	})
	if len(rows) > 0 {
		fmt.Fprintln(w, "Cases Envoy Gateway's egctl translates and egctl does not print xDS for:")
		fmt.Fprintln(w)
		table([]string{"cases", "egctl says", "first case"}, rows)
	}
	rows = nil
	for msg, n := range rep.egFail {
		rows = append(rows, []string{fmt.Sprint(n), msg})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := 0, 0
		fmt.Sscan(rows[i][0], &a)
		fmt.Sscan(rows[j][0], &b)
		return a > b || a == b && rows[i][1] < rows[j][1]
	})
	if len(rows) > 10 {
		rows = rows[:10]
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "Why Envoy Gateway's egctl prints no xDS (most common):")
		fmt.Fprintln(w)
		table([]string{"cases", "Envoy Gateway's egctl says"}, rows)
	}
}
