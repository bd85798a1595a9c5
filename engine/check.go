package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// RandomPatterns is how many random answer patterns the load-time check
// scores, on top of the extreme patterns.
const RandomPatterns = 10000

// randomPatterns is RandomPatterns except in the fuzz target, which needs
// thousands of loads a second to find anything (export_test.go).
var randomPatterns = RandomPatterns

// checkBudget is about how many operations the random patterns may cost.
const checkBudget = 50_000_000

type pattern struct {
	sex     string
	age     float64
	pick    func(i int, it *item) *option // nil result leaves the item unanswered
	missing int                           // how many shown items to leave unanswered at random
	drop    []int                         // items to leave unanswered, by index
}

// checkCoverage scores the all-minimum and all-maximum patterns, each item
// at its extremes against the others at the opposite extreme, and many
// random patterns, for every kind of respondent. Every banded score must
// land in exactly one band, and no expression may fail.
func (in *Instrument) checkCoverage(src *source) {
	seed := binary.LittleEndian.Uint64([]byte(in.Hash[:8]))
	rng := rand.New(rand.NewPCG(seed, uint64(len(in.items))))
	lowest := func(_ int, it *item) *option { return extreme(it, false) }
	highest := func(_ int, it *item) *option { return extreme(it, true) }
	var patterns []pattern
	for _, sex := range []string{"", "m", "f"} {
		patterns = append(patterns, pattern{sex: sex, pick: lowest}, pattern{sex: sex, pick: highest})
		for k := range in.items {
			patterns = append(patterns,
				pattern{sex: sex, pick: func(i int, it *item) *option { return extreme(it, i == k) }},
				pattern{sex: sex, pick: func(i int, it *item) *option { return extreme(it, i != k) }})
		}
	}
	// A costly document gets fewer random patterns, so that checking one
	// takes seconds at most; the exact coverage proof does not depend on them.
	random := min(randomPatterns, max(randomPatterns/20, checkBudget/max(in.cost, 1)))
	pickRandom := func(_ int, it *item) *option { return &it.options[rng.IntN(len(it.options))] }
	for n := 0; n < random; n++ {
		p := pattern{sex: []string{"", "m", "f"}[rng.IntN(3)], pick: pickRandom}
		if rng.IntN(3) > 0 {
			p.age = float64(6 + rng.IntN(95))
		}
		if in.prorate && rng.IntN(4) == 0 {
			p.missing = 1 + rng.IntN(in.maxMissing)
		}
		patterns = append(patterns, p)
	}

	reported := map[string]bool{}
	report := func(err error, answers map[string]float64, sex string, age float64) {
		where := path{"scoring"}
		var be *BandError
		if errors.As(err, &be) {
			where = path{"scoring", "bands", be.Score}
		}
		key := where.String() + errKind(err)
		if reported[key] {
			return
		}
		reported[key] = true
		src.add(where, "%v (answers %s, sex %q, age %v)", err, formatAnswers(in, answers), sex, age)
	}
	// Values the proof enumerates come first: a gap it finds is reported
	// with the exact answers that fall into it.
	proof, undecided := in.proveCoverage()
	patterns = append(proof, patterns...)
	// One answers map serves every pattern: the check is most of a load's
	// time, and a fresh map per pattern spent much of it growing maps.
	answers := make(map[string]float64, len(in.items))
	for _, p := range patterns {
		if _, err := in.generate(p, rng, answers); err != nil {
			report(err, answers, p.sex, p.age)
		}
	}
	budget := min(maxAimEvaluations, 6*randomPatterns, max(1000, checkBudget/max(in.cost, 1)/4))
	for _, set := range undecided {
		in.aim(set, rng, budget/len(undecided), answers, report)
	}
	in.checkInterpretationReach(src)
}

func errKind(err error) string {
	var be *BandError
	if errors.As(err, &be) {
		return fmt.Sprint(len(be.Matches) == 0)
	}
	return err.Error()
}

func extreme(it *item, high bool) *option {
	best := &it.options[0]
	for j := range it.options {
		o := &it.options[j]
		if (high && o.score > best.score) || (!high && o.score < best.score) {
			best = o
		}
	}
	return best
}

// generate answers the shown items of a pattern into answers (cleared
// first), deciding visibility as a respondent's screen would, and scores
// them. A complete pattern is scored in the scorer that generated it (the
// coverage check is most of a load's time); one with answers dropped goes
// through Score.
func (in *Instrument) generate(p pattern, rng *rand.Rand, answers map[string]float64) (*Result, error) {
	clear(answers)
	sc := in.borrow()
	defer in.release(sc)
	sc.setRespondent(p.sex, p.age, 0)
	var shownIDs []string
	_, err := in.walk(sc, nil, func(i int, shown bool) (*option, error) {
		if !shown {
			return nil, nil
		}
		it := &in.items[i]
		o := p.pick(i, it)
		answers[it.id] = o.value
		if p.missing > 0 { // only a pattern with answers to drop needs the list
			shownIDs = append(shownIDs, it.id)
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	if p.missing == 0 && len(p.drop) == 0 {
		return unbandedAsError(in.evaluate(sc, nil, answers))
	}
	for _, i := range p.drop {
		delete(answers, in.items[i].id)
	}
	// Dropping answers after the walk can only reveal more items if a later
	// display condition read a dropped one; those stay unanswered, which
	// Score treats as missing like any other.
	for n := 0; n < p.missing && len(shownIDs) > 1; n++ {
		k := rng.IntN(len(shownIDs))
		delete(answers, shownIDs[k])
		shownIDs = slices.Delete(shownIDs, k, k+1)
	}
	return unbandedAsError(in.Score(Input{Answers: answers, Sex: p.sex, Age: p.age}))
}

// unbandedAsError turns a score that fell in no band, which scoring
// tolerates, into the error the check reports.
func unbandedAsError(res *Result, err error) (*Result, error) {
	if err == nil && len(res.Unbanded) > 0 {
		return res, &res.Unbanded[0]
	}
	return res, err
}

// maxAimEvaluations bounds the patterns scored while aiming at band edges.
const maxAimEvaluations = 60_000

// aim looks for answer patterns whose score lands on or between the edges
// of set's bands, for a score the proof cannot decide: from random
// starting patterns it changes one answer at a time, keeping each change
// that brings the score closer to the edge.
func (in *Instrument) aim(set *bandSet, rng *rand.Rand, budget int, answers map[string]float64, report func(error, map[string]float64, string, float64)) {
	choice := make([]int, len(in.items))
	pick := func(i int, it *item) *option { return &it.options[choice[i]] }
	for _, target := range edgeTargets(set) {
		for start := 0; start < 2 && budget > 0; start++ {
			for i := range choice {
				choice[i] = rng.IntN(len(in.items[i].options))
			}
			p := pattern{sex: []string{"", "m", "f"}[rng.IntN(3)], pick: pick}
			if rng.IntN(2) == 0 {
				p.age = float64(6 + rng.IntN(95))
			}
			distance := func() (float64, bool) {
				budget--
				res, err := in.generate(p, rng, answers)
				if err != nil {
					report(err, answers, p.sex, p.age)
					return 0, false
				}
				v, _ := res.Score(set.score)
				return math.Abs(v - target), true
			}
			best, ok := distance()
			for sweep := 0; ok && best > 0 && sweep < 3 && budget > 0; sweep++ {
				improved := false
				for i := range choice {
					keep := choice[i]
					for j := range in.items[i].options {
						if j == keep || budget <= 0 {
							continue
						}
						choice[i] = j
						d, ok := distance()
						if !ok {
							return
						}
						if d < best {
							best, keep, improved = d, j, true
						}
					}
					choice[i] = keep
				}
				if !improved {
					break
				}
			}
		}
	}
}

// edgeTargets are the values worth aiming at: each fixed bound, the middle
// of each gap between fixed bounds, and just outside the outer bounds.
func edgeTargets(set *bandSet) []float64 {
	var out []float64
	for j, b := range set.bands {
		if b.min.constant() {
			out = append(out, b.min.value)
			if j == 0 {
				out = append(out, b.min.value-1)
			}
		}
		if b.max.constant() {
			out = append(out, b.max.value)
			if j == len(set.bands)-1 {
				out = append(out, b.max.value+1)
			}
			if j+1 < len(set.bands) && set.bands[j+1].min.constant() && set.bands[j+1].min.value > b.max.value {
				out = append(out, (b.max.value+set.bands[j+1].min.value)/2)
			}
		}
	}
	return out
}

func formatAnswers(in *Instrument, answers map[string]float64) string {
	parts := make([]string, 0, len(answers))
	for _, it := range in.items {
		if v, ok := answers[it.id]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", it.id, v))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// VectorOutcome is the outcome of running one vector.
type VectorOutcome struct {
	Name     string   `json:"name"`
	Failures []string `json:"failures"`
}

// RunVectors runs the document's vectors and reports each one's failures.
func (in *Instrument) RunVectors() []VectorOutcome {
	out := make([]VectorOutcome, len(in.Doc.Vectors))
	for i := range in.Doc.Vectors {
		v := &in.Doc.Vectors[i]
		out[i] = VectorOutcome{Name: v.Name, Failures: orEmpty(in.runVector(v))}
	}
	return out
}

// checkVectors reports each failed vector at its place in the document.
func (in *Instrument) checkVectors(src *source, outcomes []VectorOutcome) {
	for i, o := range outcomes {
		for _, f := range o.Failures {
			src.add(path{"vectors", i}, "%q: %s", o.Name, f)
		}
	}
}

const tolerance = 1e-9

func (in *Instrument) runVector(v *Vector) []string {
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	answers := v.AnswersByID
	switch {
	case v.Answers != nil && v.AnswersByID != nil:
		return []string{"give answers or answers_by_id, not both"}
	case v.Answers != nil:
		var err error
		if answers, err = in.AnswersInOrder(v.Answers, v.Sex, v.Age); err != nil {
			return []string{err.Error()}
		}
	case answers == nil:
		answers = map[string]float64{}
	}
	res, err := in.Score(Input{Answers: answers, Sex: v.Sex, Age: v.Age, Seconds: v.Seconds, History: historyOf(v)})
	if err != nil {
		return []string{err.Error()}
	}
	wantComplete := v.Expect.Complete == nil || *v.Expect.Complete
	if res.Complete != wantComplete {
		failf("complete is %v, expected %v (missing %v)", res.Complete, wantComplete, res.Missing)
	}
	for _, id := range sortedKeys(v.Expect.Scores) {
		want := v.Expect.Scores[id]
		if _, known := in.scoreIndex(id); !known {
			failf("expects unknown score %q", id)
			continue
		}
		got, ok := res.Score(id)
		if !ok {
			failf("score %s: none, expected %v", id, want)
		} else if math.Abs(got-want) > tolerance {
			failf("score %s = %v, expected %v", id, got, want)
		}
	}
	for _, id := range sortedKeys(v.Expect.Texts) {
		want := v.Expect.Texts[id]
		got, ok := "", false
		for _, t := range res.Texts {
			if t.ID == id {
				got, ok = t.Value, true
			}
		}
		if !ok {
			failf("text %s: none, expected %q", id, want)
		} else if got != want {
			failf("text %s = %q, expected %q", id, got, want)
		}
	}
	for _, id := range sortedKeys(v.Expect.Bands) {
		want := v.Expect.Bands[id]
		b, ok := res.Band(id)
		if !ok {
			failf("band of %s: none, expected %q", id, want)
		} else if b.Code != want {
			failf("band of %s = %q, expected %q", id, b.Code, want)
		}
	}
	if len(v.Expect.Interpretations) > 0 {
		in.checkInterpretationVector(v.Expect.Interpretations, res, failf)
	}
	var fired []string
	for _, w := range res.Warnings {
		fired = append(fired, w.Rule)
	}
	if !sameSet(fired, v.Expect.Warnings) {
		failf("warnings %v, expected %v", orEmpty(fired), orEmpty(v.Expect.Warnings))
	}
	if v.Expect.Validity != nil {
		var flags []string
		for _, f := range res.Validity {
			flags = append(flags, f.ID)
		}
		if !sameSet(flags, *v.Expect.Validity) {
			failf("validity %v, expected %v", orEmpty(flags), orEmpty(*v.Expect.Validity))
		}
	}
	return fails
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
