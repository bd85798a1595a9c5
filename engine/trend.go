package engine

import (
	"fmt"
	"math"
)

// Trend rules compare a result with the same person's earlier results of
// the instrument. They need no expressions: each kind is a fixed test, so
// a document states which scores it watches and the engine does the
// arithmetic the same way for every instrument.

// Earlier is one of the person's earlier results, oldest first in
// Input.History. ID links a fired trend warning to it.
type Earlier struct {
	ID     string
	Scores map[string]float64
	Bands  map[string]string
}

// ReliableChangeIndex is Jacobson and Truax's RCI (J Consult Clin Psychol
// 1991;59:12–19) of a change from x1 to x2:
//
//	SEdiff = sqrt(2 · (SD · sqrt(1 − r))²),  RCI = (x2 − x1) / SEdiff
//
// |RCI| ≥ 1.96 is a change that measurement error alone would produce in
// fewer than 5% of cases.
func ReliableChangeIndex(x1, x2, sd, r float64) float64 {
	se := sd * math.Sqrt(1-r)
	return (x2 - x1) / math.Sqrt(2*se*se)
}

// ReliableChangeThreshold is the |RCI| from which a change is reliable.
const ReliableChangeThreshold = 1.96

type trendRule struct {
	def   *TrendRule
	stat  *Statistic // the score's statistics, if the document gives them
	worse float64    // +1 if a higher score is worse, -1 if lower is
}

// Statistic returns the document's statistics for a score.
func (in *Instrument) Statistic(score string) (*Statistic, bool) {
	for i := range in.Doc.Scoring.Statistics {
		if s := &in.Doc.Scoring.Statistics[i]; s.Score == score {
			return s, true
		}
	}
	return nil, false
}

func (in *Instrument) compileTrends(src *source, scoreIdx map[string]int, ruleIDs map[string]bool) {
	seen := map[string]bool{}
	for i := range in.Doc.Scoring.Statistics {
		st := &in.Doc.Scoring.Statistics[i]
		p := path{"scoring", "statistics", i}
		if _, ok := scoreIdx[st.Score]; !ok {
			src.add(p.with("score"), "statistics for unknown score %q", st.Score)
		}
		if seen[st.Score] {
			src.add(p.with("score"), "statistics for %q given twice", st.Score)
		}
		seen[st.Score] = true
	}
	for i := range in.Doc.Scoring.Trends {
		d := &in.Doc.Scoring.Trends[i]
		p := path{"scoring", "trends", i}
		src.once(ruleIDs, p.with("id"), d.ID, "warning")
		if _, ok := scoreIdx[d.Score]; !ok {
			src.add(p.with("score"), "trend of unknown score %q", d.Score)
			continue
		}
		tr := trendRule{def: d, worse: 1}
		if st, ok := in.Statistic(d.Score); ok {
			tr.stat = st
			if st.Direction == "higher_is_better" {
				tr.worse = -1
			}
		}
		switch d.Kind {
		case TrendReliableWorsening:
			if tr.stat == nil {
				src.add(p.with("kind"), "reliable_worsening needs statistics (sd, reliability, direction) for %q", d.Score)
			}
		case TrendConsecutiveWorsening:
			if d.Count < 2 {
				src.add(p.with("count"), "consecutive_worsening needs a count of at least 2")
			}
		case TrendBandEntry:
			if !in.hasWarningBand(d.Score) {
				src.add(p.with("score"), "band_entry needs bands of %q with a warning", d.Score)
			}
		}
		if d.Kind != TrendConsecutiveWorsening && d.Count != 0 {
			src.add(p.with("count"), "count is for consecutive_worsening only")
		}
		in.trends = append(in.trends, tr)
	}
}

func (in *Instrument) hasWarningBand(score string) bool {
	for _, b := range in.Doc.Scoring.Bands[score] {
		if b.Warning != nil {
			return true
		}
	}
	return false
}

// bandWarns reports whether the band with code warns; known is false for a
// code this document does not have (an earlier version's band).
func (in *Instrument) bandWarns(score, code string) (warns, known bool) {
	for _, b := range in.Doc.Scoring.Bands[score] {
		if b.Code == code {
			return b.Warning != nil, true
		}
	}
	return false, false
}

// fireTrends adds the trend warnings of a complete result.
func (in *Instrument) fireTrends(res *Result, history []Earlier) {
	if len(history) == 0 {
		return
	}
	for i := range in.trends {
		tr := &in.trends[i]
		x, ok := res.Score(tr.def.Score)
		if !ok {
			continue
		}
		if earlier, fired := in.trendFires(tr, res, x, history); fired {
			res.Warnings = append(res.Warnings, Warning{Level: tr.def.Level, Rule: tr.def.ID, Reason: tr.def.Reason, Earlier: earlier})
		}
	}
}

func (in *Instrument) trendFires(tr *trendRule, res *Result, x float64, history []Earlier) (string, bool) {
	score := tr.def.Score
	// The most recent earlier result that has the score.
	last := -1
	for k := len(history) - 1; k >= 0; k-- {
		if _, ok := history[k].Scores[score]; ok {
			last = k
			break
		}
	}
	if last < 0 {
		return "", false
	}
	prev := history[last]
	switch tr.def.Kind {
	case TrendReliableWorsening:
		rci := ReliableChangeIndex(prev.Scores[score], x, tr.stat.SD, tr.stat.Reliability)
		return prev.ID, tr.worse*rci >= ReliableChangeThreshold
	case TrendConsecutiveWorsening:
		values := []float64{x}
		ids := []string{""}
		for k := len(history) - 1; k >= 0 && len(values) <= tr.def.Count; k-- {
			if v, ok := history[k].Scores[score]; ok {
				values = append(values, v)
				ids = append(ids, history[k].ID)
			}
		}
		if len(values) <= tr.def.Count {
			return "", false
		}
		// values run newest first: each must be worse than the one after it.
		for k := 0; k < tr.def.Count; k++ {
			if tr.worse*(values[k]-values[k+1]) <= 0 {
				return "", false
			}
		}
		return ids[tr.def.Count], true
	case TrendBandEntry:
		cur, ok := res.Band(score)
		if !ok {
			return "", false
		}
		nowWarns, _ := in.bandWarns(score, cur.Code)
		code, ok := prev.Bands[score]
		if !ok {
			return "", false
		}
		wasWarned, known := in.bandWarns(score, code)
		return prev.ID, nowWarns && known && !wasWarned
	}
	return "", false
}

// historyOf turns a vector's earlier results into scoring history.
func historyOf(v *Vector) []Earlier {
	out := make([]Earlier, len(v.Earlier))
	for i, e := range v.Earlier {
		out[i] = Earlier{ID: fmt.Sprintf("earlier[%d]", i), Scores: e.Scores, Bands: e.Bands}
	}
	return out
}
