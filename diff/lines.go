package diff

import (
	"fmt"
	"strings"
)

// opKind is one step of an edit script.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

type lineOp struct {
	kind opKind
	a, b int // line index in old (for equal/delete) and new (for equal/insert)
}

// maxEditDistance bounds the Myers search. Past it the differing middle is
// reported as wholly replaced: still a correct diff, only a longer one, and
// memory stays bounded (the search keeps O(D²) state).
const maxEditDistance = 2000

// lineDiff returns a shortest edit script turning a into b (Myers' O(ND)
// algorithm), after trimming the common prefix and suffix.
func lineDiff(a, b []string) []lineOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []lineOp
	for i := 0; i < pre; i++ {
		ops = append(ops, lineOp{opEqual, i, i})
	}
	mid := myers(a[pre:len(a)-suf], b[pre:len(b)-suf])
	for _, o := range mid {
		ops = append(ops, lineOp{o.kind, o.a + pre, o.b + pre})
	}
	for i := 0; i < suf; i++ {
		ops = append(ops, lineOp{opEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

func myers(a, b []string) []lineOp {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(n, m)
	}
	limit := n + m
	if limit > maxEditDistance {
		limit = maxEditDistance
	}
	// v[k+off] is the furthest x reached on diagonal k. trace[d] holds the
	// slice of v covering diagonals -d-1..d+1 before step d.
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	found := -1
	for d := 0; d <= limit && found < 0; d++ {
		snap := make([]int, 2*d+3)
		copy(snap, v[off-d-1:off+d+2])
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		return replaceAll(n, m)
	}
	// Walk back from (n, m), collecting the script in reverse.
	var rev []lineOp
	x, y := n, m
	for d := found; d >= 0; d-- {
		snap := trace[d]
		at := func(k int) int { return snap[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		if d == 0 {
			prevX, prevY = 0, 0
		}
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, lineOp{opEqual, x, y})
		}
		if d > 0 {
			if x == prevX {
				rev = append(rev, lineOp{opInsert, x, prevY})
			} else {
				rev = append(rev, lineOp{opDelete, prevX, y})
			}
		}
		x, y = prevX, prevY
	}
	ops := make([]lineOp, len(rev))
	for i := range rev {
		ops[i] = rev[len(rev)-1-i]
	}
	return ops
}

// replaceAll is the script that deletes all of a and inserts all of b.
func replaceAll(n, m int) []lineOp {
	ops := make([]lineOp, 0, n+m)
	for i := 0; i < n; i++ {
		ops = append(ops, lineOp{opDelete, i, 0})
	}
	for j := 0; j < m; j++ {
		ops = append(ops, lineOp{opInsert, n, j})
	}
	return ops
}

// splitLines splits text into lines without their newlines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// unified renders the difference between two texts in unified diff format
// with ctx lines of context, without the ---/+++ header. Equal texts give "".
func unified(oldText, newText string, ctx int) string {
	a, b := splitLines(oldText), splitLines(newText)
	ops := lineDiff(a, b)
	var sb strings.Builder
	for i := 0; i < len(ops); {
		// Find the next change.
		for i < len(ops) && ops[i].kind == opEqual {
			i++
		}
		if i == len(ops) {
			break
		}
		start := i - ctx
		if start < 0 {
			start = 0
		}
		// Extend the hunk while changes are within 2*ctx equal lines.
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*ctx {
				end += min(ctx, run-end)
				break
			}
			end = run
		}
		writeHunk(&sb, ops[start:end], a, b)
		i = end
	}
	return sb.String()
}

func writeHunk(sb *strings.Builder, ops []lineOp, a, b []string) {
	aStart, bStart := -1, -1
	aN, bN := 0, 0
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			if aStart < 0 {
				aStart = o.a
			}
			if bStart < 0 {
				bStart = o.b
			}
			aN++
			bN++
		case opDelete:
			if aStart < 0 {
				aStart = o.a
			}
			aN++
		case opInsert:
			if bStart < 0 {
				bStart = o.b
			}
			bN++
		}
	}
	// An empty side's position is the line before the hunk (GNU diff).
	first := ops[0]
	if aStart < 0 {
		aStart = first.a
	}
	if bStart < 0 {
		bStart = first.b
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@%s\n", hunkRange(aStart, aN), hunkRange(bStart, bN), hunkContext(ops, a, b))
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			sb.WriteString(" " + a[o.a] + "\n")
		case opDelete:
			sb.WriteString("-" + a[o.a] + "\n")
		case opInsert:
			sb.WriteString("+" + b[o.b] + "\n")
		}
	}
}

func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// hunkContext names where a hunk is, as git names the enclosing function:
// the nearest "name:" line above the first change that is indented less
// than it (the virtual host, route or filter chain it belongs to).
func hunkContext(ops []lineOp, a, b []string) string {
	lines, at, start := a, -1, ops[0].a
	for _, o := range ops {
		if o.kind == opDelete {
			at = o.a
			break
		}
		if o.kind == opInsert {
			lines, at, start = b, o.b, ops[0].b
			break
		}
	}
	if at <= 0 || at > len(lines) {
		return ""
	}
	limit := indent(lines[min(at, len(lines)-1)])
	if at == len(lines) {
		limit = indent(lines[at-1]) + 1
	}
	for i := at - 1; i >= 0; i-- {
		line := lines[i]
		ind := indent(line)
		if ind >= limit {
			continue
		}
		field := strings.TrimPrefix(strings.TrimSpace(line), "- ")
		if !strings.HasPrefix(field, "name: ") {
			continue
		}
		if i < start {
			return " " + field
		}
		// Shown in the hunk already: look for the enclosing one.
		limit = ind
	}
	return ""
}

func indent(s string) int {
	return len(s) - len(strings.TrimLeft(s, " -"))
}
