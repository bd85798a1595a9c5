package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Interpretations say in words what a result means for the person who
// gave it: a standing on each dimension of a profile instrument (the Big
// Five), or what each letter of a code (a Holland code) stands for. They
// are read from the document at view time, never stored in a result, so
// a stored result is interpreted by the exact document that scored it.

// Interpretation is one entry of scoring.interpretations: either a score's
// levels or a text output's letters.
type Interpretation struct {
	// Score names a score whose standing the levels describe.
	Score string `yaml:"score" json:"score,omitempty" validate:"omitempty,ident"`
	// Text names a text output whose characters the letters describe.
	Text string `yaml:"text" json:"text,omitempty" validate:"omitempty,ident"`
	// On is the scale the levels' bounds are on: raw (the score itself,
	// the default), t (its T-score from the document's norms) or
	// percentile (its percentile from the norms).
	On      string   `yaml:"on" json:"on,omitempty" validate:"omitempty,oneof=raw t percentile"`
	Levels  []Level  `yaml:"levels" json:"levels,omitempty" validate:"omitempty,max=12,dive"`
	Letters []Letter `yaml:"letters" json:"letters,omitempty" validate:"omitempty,max=36,dive"`
	// Source cites where the meanings and the cut points come from.
	Source string `yaml:"source" json:"source" validate:"required"`
}

// Level is one standing on a score, from Min (inclusive) up to the next
// level's Min. The first level has no Min: the levels are cut points, so
// they cover every value the score can take and never overlap.
type Level struct {
	Code    string   `yaml:"code" json:"code" validate:"required,ident"`
	Min     *float64 `yaml:"min" json:"min,omitempty"`
	Label   Text     `yaml:"label" json:"label" validate:"required,text"`
	Meaning Text     `yaml:"meaning" json:"meaning" validate:"required,text"`
}

// Letter is what one character of a code means, with examples that help
// a pupil choose subjects and a direction of study.
type Letter struct {
	Letter      string `yaml:"letter" json:"letter" validate:"required,len=1"`
	Label       Text   `yaml:"label" json:"label" validate:"required,text"`
	Meaning     Text   `yaml:"meaning" json:"meaning" validate:"required,text"`
	Fields      Text   `yaml:"fields" json:"fields,omitempty" validate:"omitempty,text"`
	Occupations Text   `yaml:"occupations" json:"occupations,omitempty" validate:"omitempty,text"`
}

// Interpreted is an interpretation chosen for one result.
type Interpreted struct {
	Score string `json:"score,omitempty"`
	Text  string `json:"text,omitempty"`
	// On and Value: the scale the level was chosen on and the value there.
	On      string   `json:"on,omitempty"`
	Value   float64  `json:"value"`
	Level   string   `json:"level,omitempty"`
	Label   Text     `json:"label,omitempty"`
	Meaning Text     `json:"meaning,omitempty"`
	Letters []Letter `json:"letters,omitempty"`
	Source  string   `json:"source"`
}

// Scale names for Interpretation.On.
const (
	OnRaw        = "raw"
	OnT          = "t"
	OnPercentile = "percentile"
)

func (ip *Interpretation) scale() string {
	if ip.On == "" {
		return OnRaw
	}
	return ip.On
}

// Interpret chooses, for a complete result, each score's level and each
// code's letters, in document order. Entries for the same score are tried
// in order and the first that applies wins, so a document can interpret
// on norms where the respondent fits a norm group and on raw ranges
// otherwise. An incomplete result has nothing to interpret.
func (in *Instrument) Interpret(res *Result) []Interpreted {
	if res == nil || !res.Complete {
		return nil
	}
	var out []Interpreted
	done := map[string]bool{}
	for i := range in.Doc.Scoring.Interpretations {
		ip := &in.Doc.Scoring.Interpretations[i]
		if ip.Text != "" {
			if done["text:"+ip.Text] {
				continue
			}
			if it, ok := interpretText(ip, res); ok {
				done["text:"+ip.Text] = true
				out = append(out, it)
			}
			continue
		}
		if done[ip.Score] {
			continue
		}
		v, ok := scaleValue(ip, res)
		if !ok {
			continue
		}
		lv := levelOf(ip.Levels, v)
		if lv == nil {
			continue
		}
		done[ip.Score] = true
		out = append(out, Interpreted{Score: ip.Score, On: ip.scale(), Value: v, Level: lv.Code, Label: lv.Label, Meaning: lv.Meaning, Source: ip.Source})
	}
	return out
}

// scaleValue is the result's value of the entry's score on its scale.
func scaleValue(ip *Interpretation, res *Result) (float64, bool) {
	switch ip.scale() {
	case OnT, OnPercentile:
		for _, n := range res.Norms {
			if n.Score != ip.Score {
				continue
			}
			if ip.scale() == OnT {
				return n.T, true
			}
			if n.Percentile != nil {
				return *n.Percentile, true
			}
		}
		return 0, false
	}
	return res.Score(ip.Score)
}

// levelOf is the last level whose Min v reaches (the first has none).
func levelOf(levels []Level, v float64) *Level {
	if len(levels) == 0 || math.IsNaN(v) {
		return nil
	}
	at := 0
	for k := 1; k < len(levels); k++ {
		if levels[k].Min != nil && v >= *levels[k].Min {
			at = k
		}
	}
	return &levels[at]
}

func interpretText(ip *Interpretation, res *Result) (Interpreted, bool) {
	value, found := "", false
	for _, t := range res.Texts {
		if t.ID == ip.Text {
			value, found = t.Value, true
		}
	}
	if !found {
		return Interpreted{}, false
	}
	it := Interpreted{Text: ip.Text, Source: ip.Source}
	seen := map[string]bool{}
	for _, r := range value {
		ch := string(r)
		if seen[ch] {
			continue
		}
		seen[ch] = true
		for _, l := range ip.Letters {
			if l.Letter == ch {
				it.Letters = append(it.Letters, l)
			}
		}
	}
	return it, len(it.Letters) > 0
}

// letterString is the letters of a text output that an
// interpretation explains, as a vector asserts them.
func (it Interpreted) letterString() string {
	var b strings.Builder
	for _, l := range it.Letters {
		b.WriteString(l.Letter)
	}
	return b.String()
}

// compileInterpretations checks each entry's shape against the scores,
// texts and norms it names.
func (in *Instrument) compileInterpretations(src *source, scoreIdx map[string]int) {
	normed := map[string]bool{}
	for _, n := range in.Doc.Scoring.Norms {
		normed[n.Score] = true
	}
	texts := map[string]bool{}
	for _, t := range in.Doc.Scoring.Texts {
		texts[t.ID] = true
	}
	for i := range in.Doc.Scoring.Interpretations {
		ip := &in.Doc.Scoring.Interpretations[i]
		p := path{"scoring", "interpretations", i}
		switch {
		case (ip.Score == "") == (ip.Text == ""):
			src.add(p, "an interpretation names either a score or a text output")
			continue
		case ip.Text != "":
			if !texts[ip.Text] {
				src.add(p.with("text"), "interpretation of unknown text output %q", ip.Text)
			}
			if len(ip.Levels) > 0 || ip.On != "" {
				src.add(p, "a text output's interpretation has letters, not levels or a scale")
			}
			if len(ip.Letters) == 0 {
				src.add(p, "a text output's interpretation needs letters")
			}
			seen := map[string]int{}
			for k, l := range ip.Letters {
				if prev, dup := seen[l.Letter]; dup {
					src.add(p.with("letters", k, "letter"), "letter %q repeats letters[%d]", l.Letter, prev)
				}
				seen[l.Letter] = k
			}
			continue
		}
		if _, ok := scoreIdx[ip.Score]; !ok {
			src.add(p.with("score"), "interpretation of unknown score %q", ip.Score)
		}
		if len(ip.Letters) > 0 {
			src.add(p.with("letters"), "a score's interpretation has levels, not letters")
		}
		if ip.scale() != OnRaw && !normed[ip.Score] {
			src.add(p.with("on"), "levels on %s need norms for score %q in the document", ip.scale(), ip.Score)
		}
		if len(ip.Levels) < 2 {
			src.add(p, "a score's interpretation needs at least two levels")
		}
		codes := map[string]int{}
		var prev *float64
		for k, l := range ip.Levels {
			lp := p.with("levels", k)
			if j, dup := codes[l.Code]; dup {
				src.add(lp.with("code"), "duplicate level code %q (also [%d])", l.Code, j)
			}
			codes[l.Code] = k
			switch {
			case k == 0 && l.Min != nil:
				src.add(lp.with("min"), "the first level has no min: it starts wherever the score does")
			case k > 0 && l.Min == nil:
				src.add(lp, "every level after the first needs a min")
			case l.Min != nil && !finite(*l.Min):
				src.add(lp.with("min"), "min must be a finite number")
			case l.Min != nil && ip.scale() == OnPercentile && (*l.Min <= 0 || *l.Min >= 100):
				src.add(lp.with("min"), "a percentile cut point lies between 0 and 100")
			case l.Min != nil && prev != nil && *l.Min <= *prev:
				src.add(lp.with("min"), "min %v is not above the previous level's min %v; list levels in ascending order", *l.Min, *prev)
			}
			if l.Min != nil {
				prev = l.Min
			}
		}
	}
}

// checkInterpretationReach proves, where the coverage analysis can
// enumerate a score's values, that every level of each interpretation is
// reached by some answers: a level nobody can reach is a mistake in the
// cut points (a "high" from 21 on a score that stops at 20). The levels
// cannot leave a gap, being cut points; this catches the other mistake.
func (in *Instrument) checkInterpretationReach(src *source) {
	if len(in.Doc.Scoring.Interpretations) == 0 {
		return
	}
	a := analyzer{in: in, scores: map[string]form{}}
	for _, s := range in.scores {
		a.scores[s.id] = a.program(s.prog)
	}
	values := map[string][]float64{} // score → every value it takes, when provable
	answers := make(map[string]float64, len(in.items))
	for i := range in.Doc.Scoring.Interpretations {
		ip := &in.Doc.Scoring.Interpretations[i]
		if ip.Score == "" || len(ip.Levels) < 2 {
			continue
		}
		vals, ok := values[ip.Score]
		if !ok {
			vals = in.scoreValues(a, ip.Score, answers)
			values[ip.Score] = vals
		}
		if vals == nil {
			continue // not provable: the cut points still cover every value
		}
		reached := make([]bool, len(ip.Levels))
		lo, hi := vals[0], vals[len(vals)-1]
		mark := func(v float64) {
			for k := range ip.Levels {
				if &ip.Levels[k] == levelOf(ip.Levels, v) {
					reached[k] = true
				}
			}
		}
		for _, v := range vals {
			switch ip.scale() {
			case OnRaw:
				mark(v)
			default:
				for _, n := range in.Doc.Scoring.Norms {
					if n.Score != ip.Score {
						continue
					}
					for _, g := range n.Groups {
						if ip.scale() == OnT {
							mark(50 + 10*(v-g.Mean)/g.SD)
						} else if len(g.Percentiles) > 0 {
							mark(interpolate(g.Percentiles, v))
						}
					}
				}
			}
		}
		for k, ok := range reached {
			if !ok {
				src.add(path{"scoring", "interpretations", i, "levels", k}, "level %q is reached by no answers (score %s takes %v to %v, read on the %s scale)", ip.Levels[k].Code, ip.Score, lo, hi, ip.scale())
			}
		}
	}
}

// scoreValues lists, ascending, every value a score takes over complete
// answers, or nil when the score is not one the coverage proof can
// enumerate.
func (in *Instrument) scoreValues(a analyzer, id string, answers map[string]float64) []float64 {
	f := a.scores[id]
	if f.why != "" || f.basis == nil || f.sex {
		return nil
	}
	for i, c := range f.basis {
		if c != 0 && in.items[i].when != nil {
			return nil
		}
	}
	sums, ok := in.reach(f.basis, false)
	if !ok {
		return nil
	}
	idx, _ := in.scoreIndex(id)
	var vals []float64
	for _, r := range sums {
		res, err := in.generate(in.witness(r, ""), nil, answers)
		if err != nil || res == nil || !res.Complete {
			continue
		}
		vals = append(vals, res.Scores[idx].Value)
	}
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	return slices.Compact(vals)
}

// checkInterpretationVector compares a vector's expected interpretations:
// a level code per score, the letters explained per text output.
func (in *Instrument) checkInterpretationVector(want map[string]string, res *Result, failf func(string, ...any)) {
	got := map[string]string{}
	for _, it := range in.Interpret(res) {
		if it.Text != "" {
			got[it.Text] = it.letterString()
		} else {
			got[it.Score] = it.Level
		}
	}
	for _, id := range sortedKeys(want) {
		g, ok := got[id]
		switch {
		case !ok:
			failf("interpretation of %s: none, expected %q", id, want[id])
		case g != want[id]:
			failf("interpretation of %s = %q, expected %q", id, g, want[id])
		}
	}
}

// String summarises an interpretation for logs and tools.
func (it Interpreted) String() string {
	if it.Text != "" {
		return fmt.Sprintf("%s: %s", it.Text, it.letterString())
	}
	return fmt.Sprintf("%s: %s (%s %v)", it.Score, it.Level, it.On, it.Value)
}

// ScoreRange is the lowest and highest value a score can take, for drawing
// it on a chart; ok is false for a score that is not a weighted sum of
// items (plus a constant), whose range the engine does not derive.
func (in *Instrument) ScoreRange(id string) (lo, hi float64, ok bool) {
	in.rangesOnce.Do(func() {
		in.ranges = map[string][2]float64{}
		a := analyzer{in: in, scores: map[string]form{}}
		for _, s := range in.scores {
			f := a.program(s.prog)
			a.scores[s.id] = f
			if f.why != "" || !f.lin || f.basis == nil {
				continue
			}
			lo, hi := f.konst, f.konst
			for i, c := range f.coef {
				if c == 0 {
					continue
				}
				it := &in.items[i]
				a, b := c*it.minScore, c*it.maxScore
				if it.when != nil {
					a, b = min(a, 0), max(b, 0) // a hidden item scores 0
				}
				lo += min(a, b)
				hi += max(a, b)
			}
			in.ranges[s.id] = [2]float64{lo, hi}
		}
	})
	r, ok := in.ranges[id]
	return r[0], r[1], ok
}
