package engine_test

import (
	"fmt"
	"reflect"
	"testing"

	"xinling/engine"
)

// Hand-written Go scorers for PHQ-9 and DASS-21: the baseline the engine's
// speed is judged against. They do the same work as the engine (check every
// answer, score, band, warn, build the same Result), with nothing generic.

var phq9Items = []string{"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"}

type handBand struct {
	code     string
	min, max float64
	label    engine.Text
	feedback engine.Text
	level    int
	reason   engine.Text
}

// handBands copies the bands of a loaded document, so that the baseline
// returns the same texts without reading the document while scoring.
func handBands(in *engine.Instrument, score string) []handBand {
	var out []handBand
	for _, b := range in.Doc.Scoring.Bands[score] {
		hb := handBand{code: b.Code, min: toF(b.Min), max: toF(b.Max), label: b.Label, feedback: b.Feedback}
		if b.Warning != nil {
			hb.level, hb.reason = b.Warning.Level, b.Warning.Reason
		}
		out = append(out, hb)
	}
	return out
}

func toF(v any) float64 {
	switch n := v.(type) {
	case uint64:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	panic(fmt.Sprintf("bound %T", v))
}

type phq9Hand struct {
	in    *engine.Instrument
	bands []handBand
	item9 engine.Warning
}

func newPHQ9Hand(in *engine.Instrument) *phq9Hand {
	r := in.Doc.Scoring.Warnings[0]
	return &phq9Hand{in: in, bands: handBands(in, "total"), item9: engine.Warning{Level: r.Level, Rule: r.ID, Reason: r.Reason, FollowUp: r.FollowUp}}
}

func (h *phq9Hand) score(inp engine.Input) (*engine.Result, error) {
	if len(inp.Answers) != 9 {
		return nil, fmt.Errorf("need 9 answers")
	}
	total := 0.0
	for _, id := range phq9Items {
		v, ok := inp.Answers[id]
		if !ok || (v != 0 && v != 1 && v != 2 && v != 3) {
			return nil, fmt.Errorf("bad answer to %s", id)
		}
		total += v
	}
	res := &engine.Result{Instrument: "phq9", Version: h.in.Version(), Hash: h.in.Hash, Complete: true,
		Scores: []engine.ScoreValue{{ID: "total", Value: total}}}
	res.Bands = make([]engine.BandResult, 0, 1)
	for _, b := range h.bands {
		if total >= b.min && total <= b.max {
			res.Bands = append(res.Bands, engine.BandResult{Score: "total", Code: b.code, Label: b.label, Feedback: b.feedback})
			if b.level > 0 {
				res.Warnings = append(res.Warnings, engine.Warning{Level: b.level, Rule: "total." + b.code, Reason: b.reason})
			}
		}
	}
	if inp.Answers["q9"] > 0 {
		res.Warnings = append(res.Warnings, h.item9)
	}
	return res, nil
}

type dass21Hand struct {
	in    *engine.Instrument
	ids   []string
	bands map[string][]handBand
}

var dassScales = []struct {
	id    string
	items []int
}{
	{"depression", []int{3, 5, 10, 13, 16, 17, 21}},
	{"anxiety", []int{2, 4, 7, 9, 15, 19, 20}},
	{"stress", []int{1, 6, 8, 11, 12, 14, 18}},
}

func newDASS21Hand(in *engine.Instrument) *dass21Hand {
	h := &dass21Hand{in: in, ids: in.ItemIDs(), bands: map[string][]handBand{}}
	for _, s := range dassScales {
		h.bands[s.id] = handBands(in, s.id)
	}
	return h
}

func (h *dass21Hand) score(inp engine.Input) (*engine.Result, error) {
	if len(inp.Answers) != 21 {
		return nil, fmt.Errorf("need 21 answers")
	}
	var vals [22]float64
	for i, id := range h.ids {
		v, ok := inp.Answers[id]
		if !ok || (v != 0 && v != 1 && v != 2 && v != 3) {
			return nil, fmt.Errorf("bad answer to %s", id)
		}
		vals[i+1] = v
	}
	res := &engine.Result{Instrument: "dass21", Version: h.in.Version(), Hash: h.in.Hash, Complete: true,
		Scores: make([]engine.ScoreValue, 3), Bands: make([]engine.BandResult, 0, 3)}
	for k, s := range dassScales {
		sum := 0.0
		for _, i := range s.items {
			sum += vals[i]
		}
		sum *= 2
		res.Scores[k] = engine.ScoreValue{ID: s.id, Value: sum}
		for _, b := range h.bands[s.id] {
			if sum >= b.min && sum <= b.max {
				res.Bands = append(res.Bands, engine.BandResult{Score: s.id, Code: b.code, Label: b.label, Feedback: b.feedback})
				if b.level > 0 {
					res.Warnings = append(res.Warnings, engine.Warning{Level: b.level, Rule: s.id + "." + b.code, Reason: b.reason})
				}
			}
		}
	}
	return res, nil
}

type scoreFunc func(engine.Input) (*engine.Result, error)

// The baseline is only fair if it computes the same thing.
func TestHandWrittenScorersAgreeWithEngine(t *testing.T) {
	t.Parallel()
	for id, hand := range map[string]func(*engine.Instrument) scoreFunc{
		"phq9":   func(in *engine.Instrument) scoreFunc { return newPHQ9Hand(in).score },
		"dass21": func(in *engine.Instrument) scoreFunc { return newDASS21Hand(in).score },
	} {
		in := builtin(t, id)
		score := hand(in)
		for _, a := range builtinAnswers(t, in, 2000) {
			want, err := in.Score(engine.Input{Answers: a})
			if err != nil {
				t.Fatal(err)
			}
			got, err := score(engine.Input{Answers: a})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %v:\nhand   %+v %v\nengine %+v", id, a, got, err, want)
			}
		}
	}
}

// BenchmarkVersusHandWritten reports engine and hand-written ns/op side by
// side in one run, so their ratio holds on a shared, noisy machine.
func BenchmarkVersusHandWritten(b *testing.B) {
	for _, id := range []string{"phq9", "dass21"} {
		in := builtin(b, id)
		sets := builtinAnswers(b, in, 64)
		var hand scoreFunc
		if id == "phq9" {
			hand = newPHQ9Hand(in).score
		} else {
			hand = newDASS21Hand(in).score
		}
		for _, c := range []struct {
			name  string
			score scoreFunc
		}{{"engine", in.Score}, {"handwritten", hand}} {
			b.Run(id+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := c.score(engine.Input{Answers: sets[i%len(sets)]}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(id+"/"+c.name+"/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, err := c.score(engine.Input{Answers: sets[i%len(sets)]}); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		}
	}
}
