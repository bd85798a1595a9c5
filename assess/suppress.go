package assess

import (
	"sort"
	"strings"

	"xinling/store"
)

// MinCell is the smallest count shown to roles that see aggregates only.
// A class teacher knows every pupil, so "1 pupil in the severe band" would
// name someone; counts from 1 to MinCell-1 are reported as suppressed.
const MinCell = 5

// aggregateOnly: roles that see counts, never individuals.
func aggregateOnly(p *Principal) bool {
	return p.Role == store.RoleTeacher || p.Role == store.RoleViewer
}

// visibleCounts shows every count, for roles that may see individuals.
func visibleCounts(counts map[string]int) map[string]*int {
	out := make(map[string]*int, len(counts))
	for k, n := range counts {
		out[k] = &n
	}
	return out
}

// protectDistribution turns one partition of a group (its members counted
// by band) into the cells an aggregate-only reader may see. Small cells are
// suppressed, and so are the cells in forced. Because the group's total is
// published, a lone suppressed cell could be recovered by subtraction, so
// further cells are suppressed, smallest first, until the suppressed cells
// hold at least MinCell people between them. Zero stays visible: "nobody"
// points at no one.
func protectDistribution(counts map[string]int, forced map[string]bool) map[string]*int {
	out := visibleCounts(counts)
	hidden, anyHidden := 0, false
	var rest []string
	for k, n := range counts {
		if forced[k] || (n > 0 && n < MinCell) {
			out[k] = nil
			hidden += n
			anyHidden = true
		} else if n > 0 {
			rest = append(rest, k)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if counts[rest[i]] != counts[rest[j]] {
			return counts[rest[i]] < counts[rest[j]]
		}
		return rest[i] < rest[j]
	})
	for _, k := range rest {
		if !anyHidden || hidden >= MinCell {
			break
		}
		out[k] = nil
		hidden += counts[k]
	}
	return out
}

// protectGroup is protectDistribution for a group of n people: a group
// smaller than MinCell shows none of its cells, since its total alone is
// already a small count.
func protectGroup(counts map[string]int, n int, forced map[string]bool) map[string]*int {
	if n < MinCell {
		forced = make(map[string]bool, len(counts))
		for k := range counts {
			forced[k] = true
		}
	}
	return protectDistribution(counts, forced)
}

// protectCells suppresses small counts that are not parts of a published
// total (warnings by level), plus the cells in forced.
func protectCells(counts map[string]int, forced map[string]bool) map[string]*int {
	out := visibleCounts(counts)
	for k, n := range counts {
		if forced[k] || (n > 0 && n < MinCell) {
			out[k] = nil
		}
	}
	return out
}

// reportRow is one unit's figures for one instrument before protection.
type reportRow struct {
	path     string
	bands    map[string]map[string]int // score -> band -> count
	warnings map[string]int
}

// protectReport applies suppression to a report's rows for an
// aggregate-only reader. Rows are handled deepest first, and a cell
// suppressed in a class is suppressed in its grade and school as well:
// otherwise "grade minus the other classes" would give it back. A score
// whose group is smaller than MinCell loses its mean, SD and bands, and so
// do the same score's figures in every row above it.
func protectReport(rows []GroupReport, raw []reportRow) {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	depth := func(i int) int { return strings.Count(raw[i].path, "/") }
	sort.SliceStable(order, func(a, b int) bool { return depth(order[a]) > depth(order[b]) })
	for _, i := range order {
		row := &rows[i]
		forcedWarnings := map[string]bool{}
		forcedBands := map[string]map[string]bool{}
		suppressedScores := map[string]bool{}
		for j := range rows {
			if j == i || rows[j].Instrument != row.Instrument || raw[j].path == raw[i].path ||
				!strings.HasPrefix(raw[j].path, raw[i].path) {
				continue
			}
			for l, n := range rows[j].Warnings {
				if n == nil {
					forcedWarnings[l] = true
				}
			}
			for _, s := range rows[j].Scores {
				if s.Suppressed {
					suppressedScores[s.Score] = true
				}
				for b, n := range s.Bands {
					if n == nil {
						if forcedBands[s.Score] == nil {
							forcedBands[s.Score] = map[string]bool{}
						}
						forcedBands[s.Score][b] = true
					}
				}
			}
		}
		row.Warnings = protectCells(raw[i].warnings, forcedWarnings)
		for si := range row.Scores {
			s := &row.Scores[si]
			counts := raw[i].bands[s.Score]
			if s.N < MinCell || suppressedScores[s.Score] {
				s.Mean, s.SD, s.Suppressed = 0, 0, true
			}
			if counts == nil {
				continue
			}
			s.Bands = protectGroup(counts, s.N, forcedBands[s.Score])
		}
	}
}
