package assess

import (
	"context"
	"errors"
	"sort"

	"xinling/store"
)

// BandCount is how many results fell in one band.
type BandCount struct {
	Score string `json:"score"`
	Band  string `json:"band"`
	// Count is nil when suppressed (below MinCell for aggregate-only roles).
	Count *int `json:"count"`
}

// InstrumentSummary is one instrument's results in a unit.
type InstrumentSummary struct {
	Instrument string      `json:"instrument"`
	Results    int         `json:"results"`
	Bands      []BandCount `json:"bands"`
}

// UnitSummary is the anonymous picture of a unit's subtree: no names, no
// individual results.
type UnitSummary struct {
	UnitID      string              `json:"unit_id"`
	Instruments []InstrumentSummary `json:"instruments"`
	// Warnings counts queue entries by level ("1", "2", "3"), suppressed
	// like band counts.
	Warnings map[string]*int `json:"warnings"`
}

// Summary aggregates the results and warnings of a unit's subtree. Every
// staff role may ask about a unit in its scope; teachers and viewers get
// small counts suppressed.
func (a *Staff) Summary(ctx context.Context, p *Principal, unitID string) (*UnitSummary, error) {
	u, err := a.unitInScope(ctx, p, unitID, "unit")
	if err != nil {
		return nil, err
	}
	protect := aggregateOnly(p)
	results, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return a.store.ListResults(ctx, store.ResultFilter{UnitPath: u.Path}, pg)
	})
	if err != nil {
		return nil, err
	}
	type key struct{ inst, score, band string }
	bands := map[key]int{}
	totals := map[string]int{}
	for _, r := range results {
		totals[r.Instrument]++
		for score, band := range r.Bands {
			bands[key{r.Instrument, score, band}]++
		}
	}
	out := &UnitSummary{UnitID: u.ID, Instruments: []InstrumentSummary{}, Warnings: map[string]*int{}}
	for inst, n := range totals {
		is := InstrumentSummary{Instrument: inst, Results: n, Bands: []BandCount{}}
		byScore := map[string]map[string]int{}
		for k, c := range bands {
			if k.inst == inst {
				if byScore[k.score] == nil {
					byScore[k.score] = map[string]int{}
				}
				byScore[k.score][k.band] = c
			}
		}
		for score, counts := range byScore {
			cells := visibleCounts(counts)
			if protect {
				cells = protectGroup(counts, n, nil)
			}
			for band, c := range cells {
				is.Bands = append(is.Bands, BandCount{Score: score, Band: band, Count: c})
			}
		}
		sort.Slice(is.Bands, func(i, j int) bool {
			if is.Bands[i].Score != is.Bands[j].Score {
				return is.Bands[i].Score < is.Bands[j].Score
			}
			return is.Bands[i].Band < is.Bands[j].Band
		})
		out.Instruments = append(out.Instruments, is)
	}
	sort.Slice(out.Instruments, func(i, j int) bool { return out.Instruments[i].Instrument < out.Instruments[j].Instrument })
	warnings, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return a.store.ListWarnings(ctx, store.WarningFilter{UnitPath: u.Path}, pg)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	levels := map[string]int{"1": 0, "2": 0, "3": 0}
	for _, w := range warnings {
		levels[string(rune('0'+w.Level))]++
	}
	out.Warnings = visibleCounts(levels)
	if protect {
		out.Warnings = protectCells(levels, nil)
	}
	return out, nil
}
