package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/expr-lang/expr/vm"
)

// Input is one respondent's answers to one instrument.
type Input struct {
	// Answers holds response codes by item id. Unanswered items are absent.
	Answers map[string]float64
	// Sex is "m", "f" or "" when unknown.
	Sex string
	// Age is in years; 0 means unknown.
	Age float64
	// Seconds is how long the respondent took; 0 means unknown.
	Seconds float64
	// History holds the person's earlier results of this instrument,
	// oldest first, for the document's trend rules.
	History []Earlier
}

// Machine-readable codes of InputError, stable for API clients.
const (
	CodeUnknownItem       = "unknown_item"
	CodeAnswerOutOfRange  = "answer_out_of_range"
	CodeItemHidden        = "item_hidden"
	CodeAnswerCount       = "answer_count"
	CodeInvalidRespondent = "invalid_respondent"
)

// InputError is bad input from a respondent or caller, as opposed to a
// broken document.
type InputError struct {
	Code    string
	Item    string
	Message string
}

func (e *InputError) Error() string { return e.Message }

// Result is everything computed from one set of answers.
type Result struct {
	Instrument string `json:"instrument"`
	Version    string `json:"version"`
	Hash       string `json:"hash"`
	// Complete is false when answers are missing beyond what the document
	// allows; such a result has no scores, bands or norms, but still carries
	// item-level warnings, because a risk answer must never go unseen.
	Complete bool         `json:"complete"`
	Missing  []string     `json:"missing,omitempty"`
	Prorated []string     `json:"prorated,omitempty"`
	Scores   []ScoreValue `json:"scores"`
	Texts    []TextValue  `json:"texts,omitempty"`
	Bands    []BandResult `json:"bands,omitempty"`
	Norms    []NormResult `json:"norms,omitempty"`
	Warnings []Warning    `json:"warnings,omitempty"`
	Validity []Flag       `json:"validity,omitempty"`
	// Unbanded lists scores that fell in no band, or in several: a fault
	// of the document, which the result keeps rather than failing.
	Unbanded []BandError `json:"unbanded,omitempty"`
}

// ScoreValue is one named score.
type ScoreValue struct {
	ID    string  `json:"id"`
	Value float64 `json:"value"`
}

// TextValue is one named text output.
type TextValue struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// BandResult is the band a score fell in.
type BandResult struct {
	Score    string `json:"score"`
	Code     string `json:"code"`
	Label    Text   `json:"label"`
	Feedback Text   `json:"feedback,omitempty"`
}

// NormResult places a score against a reference group.
type NormResult struct {
	Score      string   `json:"score"`
	Group      Text     `json:"group"`
	T          float64  `json:"t"`
	Percentile *float64 `json:"percentile,omitempty"`
}

// Warning is a fired warning rule.
type Warning struct {
	Level    int    `json:"level"`
	Rule     string `json:"rule"`
	Reason   Text   `json:"reason"`
	FollowUp string `json:"follow_up,omitempty"`
	// Earlier is the earlier result a trend warning compares against.
	Earlier string `json:"earlier,omitempty"`
}

// Flag is a failed validity check.
type Flag struct {
	ID      string `json:"id"`
	Message Text   `json:"message"`
}

// Score looks up a score by id.
func (r *Result) Score(id string) (float64, bool) {
	for _, s := range r.Scores {
		if s.ID == id {
			return s.Value, true
		}
	}
	return 0, false
}

// Band looks up the band of a score by id.
func (r *Result) Band(score string) (BandResult, bool) {
	for _, b := range r.Bands {
		if b.Score == score {
			return b, true
		}
	}
	return BandResult{}, false
}

// HighestLevel is the most urgent warning level (1 is the most urgent), or 0.
func (r *Result) HighestLevel() int {
	lvl := 0
	for _, w := range r.Warnings {
		if lvl == 0 || w.Level < lvl {
			lvl = w.Level
		}
	}
	return lvl
}

// scorer is one goroutine's working state: a VM and an environment that
// are reused across calls, so scoring allocates little.
type scorer struct {
	in        *Instrument
	vm        vm.VM
	env       map[string]any
	items     []float64
	responses []float64
	sex       string
	age       float64
}

var boxedZero any = 0.0

func (in *Instrument) newScorer() any {
	sc := &scorer{
		in:        in,
		env:       make(map[string]any, len(in.items)+len(in.scores)+len(in.texts)+8),
		items:     make([]float64, len(in.items)),
		responses: make([]float64, len(in.items)),
	}
	for _, it := range in.items {
		sc.env[it.id] = boxedZero
	}
	// The slices are boxed once; scoring writes into their backing arrays.
	sc.env[envItems] = sc.items
	sc.env[envResponses] = sc.responses
	sc.env[envAnswered] = boxedZero
	sc.env[envSex] = ""
	sc.env[envAge] = boxedZero
	sc.env[envSeconds] = boxedZero
	for _, s := range in.scores {
		sc.env[s.id] = boxedZero
	}
	for _, t := range in.texts {
		sc.env[t.id] = ""
	}
	return sc
}

func (sc *scorer) float(p *vm.Program) (float64, error) {
	out, err := sc.vm.Run(p, sc.env)
	if err != nil {
		return 0, err
	}
	f, ok := out.(float64)
	if !ok {
		return 0, fmt.Errorf("expression gave %T, not a number", out)
	}
	return f, nil
}

func (sc *scorer) bool(p *vm.Program) (bool, error) {
	out, err := sc.vm.Run(p, sc.env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %T, not true or false", out)
	}
	return b, nil
}

// Names no expression reads are not written: each map write costs a hash
// and a write barrier, and scoring is on every submit's path.

func (sc *scorer) setItem(i int, o *option) {
	it := &sc.in.items[i]
	if o == nil {
		sc.items[i], sc.responses[i] = 0, 0
		if it.read {
			sc.env[it.id] = boxedZero
		}
		return
	}
	sc.items[i], sc.responses[i] = o.score, o.value
	if it.read {
		sc.env[it.id] = o.boxed
	}
}

func (sc *scorer) setRespondent(sex string, age, seconds float64) {
	sc.sex, sc.age = sex, age
	if sc.in.reads[envSex] {
		sc.env[envSex] = sex
	}
	if sc.in.reads[envAge] {
		sc.env[envAge] = age
	}
	if sc.in.reads[envSeconds] {
		sc.env[envSeconds] = seconds
	}
}

func (sc *scorer) set(name string, v any) {
	if sc.in.reads[name] {
		sc.env[name] = v
	}
}

func checkRespondent(sex string, age, seconds float64) error {
	if sex != "" && sex != "m" && sex != "f" {
		return &InputError{Code: CodeInvalidRespondent, Message: fmt.Sprintf("sex must be m, f or empty, not %q", sex)}
	}
	if !finite(age) || age < 0 || age > 150 {
		return &InputError{Code: CodeInvalidRespondent, Message: fmt.Sprintf("age must be between 0 and 150, not %v", age)}
	}
	if !finite(seconds) || seconds < 0 {
		return &InputError{Code: CodeInvalidRespondent, Message: fmt.Sprintf("seconds must be a non-negative number, not %v", seconds)}
	}
	return nil
}

func (it *item) option(v float64) *option {
	for j := range it.options {
		if it.options[j].value == v {
			return &it.options[j]
		}
	}
	return nil
}

// visit supplies the answer to item i once its visibility is known; a nil
// option means unanswered.
type visit func(i int, shown bool) (*option, error)

// walk decides each item's visibility in order, from the respondent and the
// answers before it, and loads the answers into the environment. It returns
// the shown items left unanswered.
// If shown is not nil it records each item's visibility.
func (in *Instrument) walk(sc *scorer, shown []bool, answer visit) (missing []int, err error) {
	for i := range in.items {
		it := &in.items[i]
		show := true
		if it.when != nil {
			if show, err = sc.bool(it.when); err != nil {
				return nil, fmt.Errorf("items[%d].when: %w", i, err)
			}
		}
		if shown != nil {
			shown[i] = show
		}
		o, err := answer(i, show)
		if err != nil {
			return nil, err
		}
		if !show {
			o = nil
		}
		sc.setItem(i, o)
		if show && o == nil {
			missing = append(missing, i)
		}
	}
	return missing, nil
}

func (in *Instrument) borrow() *scorer   { return in.pool.Get().(*scorer) }
func (in *Instrument) release(s *scorer) { in.pool.Put(s) }

// Score scores one set of answers.
func (in *Instrument) Score(inp Input) (*Result, error) {
	if err := checkRespondent(inp.Sex, inp.Age, inp.Seconds); err != nil {
		return nil, err
	}
	sc := in.borrow()
	defer in.release(sc)
	sc.setRespondent(inp.Sex, inp.Age, inp.Seconds)
	known := 0
	missing, err := in.walk(sc, nil, func(i int, shown bool) (*option, error) {
		it := &in.items[i]
		v, has := inp.Answers[it.id]
		if !has {
			return nil, nil
		}
		known++
		if !shown {
			return nil, &InputError{Code: CodeItemHidden, Item: it.id, Message: fmt.Sprintf("item %q is not shown to this respondent and must not be answered", it.id)}
		}
		o := it.option(v)
		if o == nil {
			return nil, &InputError{Code: CodeAnswerOutOfRange, Item: it.id, Message: fmt.Sprintf("item %q accepts %s, not %v", it.id, it.describeOptions(), v)}
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	if known != len(inp.Answers) {
		for id := range inp.Answers {
			if _, ok := in.itemIdx[id]; !ok {
				return nil, &InputError{Code: CodeUnknownItem, Item: id, Message: fmt.Sprintf("%s has no item %q", in.Doc.ID, id)}
			}
		}
	}
	res, err := in.evaluate(sc, missing, inp.Answers)
	if err == nil && res.Complete {
		in.fireTrends(res, inp.History)
	}
	return res, err
}

// evaluate computes the result from answers already loaded into sc.
func (in *Instrument) evaluate(sc *scorer, missing []int, answers map[string]float64) (*Result, error) {
	res := &Result{Instrument: in.Doc.ID, Version: in.Doc.Version, Hash: in.Hash, Complete: true}
	answered := float64(len(answers))
	sc.set(envAnswered, answered)
	if len(missing) > 0 {
		if !in.prorate || len(missing) > in.maxMissing || answered == 0 {
			res.Complete = false
			for _, i := range missing {
				res.Missing = append(res.Missing, in.items[i].id)
			}
			return res, in.fireRules(sc, res, missing, true)
		}
		in.impute(sc, missing, res)
	}

	res.Scores = make([]ScoreValue, len(in.scores))
	if len(in.bands) > 0 {
		res.Bands = make([]BandResult, 0, len(in.bands))
	}
	if n := len(in.bands) + len(in.rules); n > 0 {
		res.Warnings = make([]Warning, 0, n)
	}
	for i, s := range in.scores {
		v, err := sc.float(s.prog)
		if err != nil {
			return nil, fmt.Errorf("%s: scores[%d] %s: %w", in.Doc.ID, i, s.id, err)
		}
		if !finite(v) {
			return nil, fmt.Errorf("%s: scores[%d] %s is %v", in.Doc.ID, i, s.id, v)
		}
		sc.set(s.id, v)
		res.Scores[i] = ScoreValue{ID: s.id, Value: v}
	}
	for i, t := range in.texts {
		out, err := sc.vm.Run(t.prog, sc.env)
		if err != nil {
			return nil, fmt.Errorf("%s: texts[%d] %s: %w", in.Doc.ID, i, t.id, err)
		}
		str, _ := out.(string)
		sc.set(t.id, str)
		res.Texts = append(res.Texts, TextValue{ID: t.id, Value: str})
	}
	for si := range in.bands {
		set := &in.bands[si]
		b, err := in.classify(sc, set, res.Scores[set.scoreIdx].Value)
		var be *BandError
		if errors.As(err, &be) {
			// The check proves most documents' bands, but not every one.
			// A respondent's submit must not fail for the document's
			// fault: the score stands without a band, and every band it
			// matched still raises its warning, so no flag is lost.
			res.Unbanded = append(res.Unbanded, *be)
			for _, code := range be.Matches {
				for j := range set.bands {
					if d := set.bands[j].def; d.Code == code && d.Warning != nil {
						res.Warnings = append(res.Warnings, Warning{Level: d.Warning.Level, Rule: set.bands[j].ruleID, Reason: d.Warning.Reason, FollowUp: d.Warning.FollowUp})
					}
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Bands = append(res.Bands, BandResult{Score: set.score, Code: b.def.Code, Label: b.def.Label, Feedback: b.def.Feedback})
		if w := b.def.Warning; w != nil {
			res.Warnings = append(res.Warnings, Warning{Level: w.Level, Rule: b.ruleID, Reason: w.Reason, FollowUp: w.FollowUp})
		}
	}
	for _, n := range in.norms {
		if nr, ok := n.place(res.Scores[n.scoreIdx].Value, sc.sex, sc.age); ok {
			res.Norms = append(res.Norms, nr)
		}
	}
	// An item rule must not fire on an imputed value: it would flag a
	// risk answer the respondent never gave.
	if err := in.fireRules(sc, res, missing, false); err != nil {
		return nil, err
	}
	for _, c := range in.checks {
		flagged, err := sc.bool(c.prog)
		if err != nil {
			return nil, fmt.Errorf("%s: validity %s: %w", in.Doc.ID, c.def.ID, err)
		}
		if flagged {
			res.Validity = append(res.Validity, Flag{ID: c.def.ID, Message: c.def.Message})
		}
	}
	if len(res.Warnings) == 0 {
		res.Warnings = nil // the same result whether or not space was reserved
	}
	return res, nil
}

func (r *rule) warning() Warning {
	return Warning{Level: r.level, Rule: r.id, Reason: r.reason, FollowUp: r.followUp}
}

// fireRules evaluates the warning rules. A rule that reads only items
// (and the respondent) may read items that are missing, on an incomplete or
// pro-rated result: it fires only if it would fire however those items were
// answered. So "q9 > 0" never fires on an unanswered or imputed item 9, but
// "q1 == 1 || q2 == 1" fires on a yes to q1 even if q2 was skipped. With
// onlyItemRules (an incomplete result) every other rule is skipped.
func (in *Instrument) fireRules(sc *scorer, res *Result, missing []int, onlyItemRules bool) error {
	first := len(res.Warnings)
	for ri := range in.rules {
		r := &in.rules[ri]
		if onlyItemRules && !r.itemOnly {
			continue
		}
		var open []int
		if r.itemOnly {
			for _, i := range r.items {
				if slices.Contains(missing, i) {
					open = append(open, i)
				}
			}
		}
		fired, err := in.firesForAll(sc, r, open)
		if err != nil {
			return fmt.Errorf("%s: warning %s: %w", in.Doc.ID, r.id, err)
		}
		if fired {
			res.Warnings = append(res.Warnings, r.warning())
		}
	}
	in.applySupersedes(res, first)
	return nil
}

// maxCompletions bounds the answer combinations tried for missing items;
// past it a rule over missing items does not fire, as before this check.
const maxCompletions = 4096

// firesForAll evaluates r for every combination of answers to the open
// (missing) items it reads, and restores their values afterwards.
func (in *Instrument) firesForAll(sc *scorer, r *rule, open []int) (bool, error) {
	if len(open) == 0 {
		return sc.bool(r.prog)
	}
	combos := 1
	for _, i := range open {
		combos *= len(in.items[i].options)
		if combos > maxCompletions {
			return false, nil
		}
	}
	saved := make([]any, len(open))
	for k, i := range open {
		saved[k] = sc.env[in.items[i].id]
	}
	defer func() {
		for k, i := range open {
			sc.env[in.items[i].id] = saved[k]
		}
	}()
	var try func(k int) (bool, error)
	try = func(k int) (bool, error) {
		if k == len(open) {
			return sc.bool(r.prog)
		}
		it := &in.items[open[k]]
		for j := range it.options {
			sc.env[it.id] = it.options[j].boxed
			ok, err := try(k + 1)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	return try(0)
}

// applySupersedes drops warnings (from index first on) that a fired rule
// supersedes, so that "acute" replaces "positive" rather than joining it.
func (in *Instrument) applySupersedes(res *Result, first int) {
	var drop []string
	for _, w := range res.Warnings[first:] {
		if r := in.rule(w.Rule); r != nil {
			drop = append(drop, r.supersedes...)
		}
	}
	if len(drop) == 0 {
		return
	}
	res.Warnings = slices.DeleteFunc(res.Warnings, func(w Warning) bool { return slices.Contains(drop, w.Rule) })
}

func (in *Instrument) rule(id string) *rule {
	for i := range in.rules {
		if in.rules[i].id == id {
			return &in.rules[i]
		}
	}
	return nil
}

// impute gives each missing item the mean score of the answered ones, which
// makes sum(items) the pro-rated sum.
func (in *Instrument) impute(sc *scorer, missing []int, res *Result) {
	var total float64
	n := 0
	for i := range in.items {
		if !slices.Contains(missing, i) {
			total += sc.items[i]
			n++
		}
	}
	mean := total / float64(n)
	for _, i := range missing {
		sc.items[i], sc.responses[i] = mean, mean
		if in.items[i].read {
			sc.env[in.items[i].id] = mean
		}
		res.Prorated = append(res.Prorated, in.items[i].id)
	}
}

// BandError means a score fell in no band or in several: a document whose
// bands do not partition the score's range.
type BandError struct {
	Score   string   `json:"score"`
	Value   float64  `json:"value"`
	Matches []string `json:"matches,omitempty"`
}

func (e *BandError) Error() string {
	if len(e.Matches) == 0 {
		return fmt.Sprintf("score %s = %v falls in no band", e.Score, e.Value)
	}
	return fmt.Sprintf("score %s = %v falls in several bands: %v", e.Score, e.Value, e.Matches)
}

func (in *Instrument) classify(sc *scorer, set *bandSet, v float64) (*band, error) {
	var found *band
	n := 0
	for j := range set.bands {
		b := &set.bands[j]
		ok, err := sc.inBand(b, v)
		if err != nil {
			return nil, fmt.Errorf("%s: bands.%s[%d].%w", in.Doc.ID, set.score, j, err)
		}
		if ok {
			found = b
			n++
		}
	}
	if n == 1 {
		return found, nil
	}
	// Only a broken document gets here: say which bands matched.
	var matches []string
	for j := range set.bands {
		if ok, _ := sc.inBand(&set.bands[j], v); ok {
			matches = append(matches, set.bands[j].def.Code)
		}
	}
	return nil, &BandError{Score: set.score, Value: v, Matches: matches}
}

func (sc *scorer) inBand(b *band, v float64) (bool, error) {
	lo, err := sc.bound(b.min, math.Inf(-1))
	if err != nil {
		return false, fmt.Errorf("min: %w", err)
	}
	hi, err := sc.bound(b.max, math.Inf(1))
	if err != nil {
		return false, fmt.Errorf("max: %w", err)
	}
	return v >= lo && v <= hi, nil
}

func (sc *scorer) bound(b bound, open float64) (float64, error) {
	switch {
	case !b.set:
		return open, nil
	case b.prog == nil:
		return b.value, nil
	}
	return sc.float(b.prog)
}

// place finds the first group that fits the respondent.
func (n norm) place(v float64, sex string, age float64) (NormResult, bool) {
	for _, g := range n.def.Groups {
		if g.Sex != "" && g.Sex != sex {
			continue
		}
		if (g.AgeMin != nil || g.AgeMax != nil) && age == 0 {
			continue
		}
		if (g.AgeMin != nil && age < *g.AgeMin) || (g.AgeMax != nil && age > *g.AgeMax) {
			continue
		}
		nr := NormResult{Score: n.def.Score, Group: g.Label, T: 50 + 10*(v-g.Mean)/g.SD}
		if len(g.Percentiles) > 0 {
			p := interpolate(g.Percentiles, v)
			nr.Percentile = &p
		}
		return nr, true
	}
	return NormResult{}, false
}

// interpolate reads a percentile off ascending [score, percentile] points,
// linearly between points and clamped at the ends.
func interpolate(points [][]float64, v float64) float64 {
	if v <= points[0][0] {
		return points[0][1]
	}
	for k := 1; k < len(points); k++ {
		a, b := points[k-1], points[k]
		if v <= b[0] {
			return a[1] + (b[1]-a[1])*(v-a[0])/(b[0]-a[0])
		}
	}
	return points[len(points)-1][1]
}

// AnswersInOrder maps response codes given in item order, for the items
// that are shown, to answers by id. Display conditions are decided as the
// values are consumed, so a hidden item takes no value.
func (in *Instrument) AnswersInOrder(values []float64, sex string, age float64) (map[string]float64, error) {
	if err := checkRespondent(sex, age, 0); err != nil {
		return nil, err
	}
	sc := in.borrow()
	defer in.release(sc)
	sc.setRespondent(sex, age, 0)
	answers := make(map[string]float64, len(values))
	next := 0
	missing, err := in.walk(sc, nil, func(i int, shown bool) (*option, error) {
		if !shown || next >= len(values) {
			return nil, nil
		}
		it := &in.items[i]
		v := values[next]
		next++
		o := it.option(v)
		if o == nil {
			return nil, &InputError{Code: CodeAnswerOutOfRange, Item: it.id, Message: fmt.Sprintf("answer %d is for item %q, which accepts %s, not %v", next, it.id, it.describeOptions(), v)}
		}
		answers[it.id] = v
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 || next < len(values) {
		shownCount := len(answers) + len(missing)
		return nil, &InputError{Code: CodeAnswerCount, Message: fmt.Sprintf("%s shows %d items to this respondent with these answers; got %d answers", in.Doc.ID, shownCount, len(values))}
	}
	return answers, nil
}

// Shown lists, in order, the items shown to a respondent given the answers
// so far; an unanswered item counts as 0 for later display conditions.
// Answers that are unknown or out of range are rejected as in Score.
func (in *Instrument) Shown(answers map[string]float64, sex string, age float64) ([]string, error) {
	if err := checkRespondent(sex, age, 0); err != nil {
		return nil, err
	}
	sc := in.borrow()
	defer in.release(sc)
	sc.setRespondent(sex, age, 0)
	shown := make([]bool, len(in.items))
	_, err := in.walk(sc, shown, func(i int, _ bool) (*option, error) {
		it := &in.items[i]
		v, has := answers[it.id]
		if !has {
			return nil, nil
		}
		if o := it.option(v); o != nil {
			return o, nil
		}
		return nil, &InputError{Code: CodeAnswerOutOfRange, Item: it.id, Message: fmt.Sprintf("item %q accepts %s, not %v", it.id, it.describeOptions(), v)}
	})
	if err != nil {
		return nil, err
	}
	var ids []string
	for i, s := range shown {
		if s {
			ids = append(ids, in.items[i].id)
		}
	}
	return ids, nil
}

// CheckAnswer reports whether item exists and accepts v, as Score would,
// so that an answer can be refused when it is saved rather than at submit.
func (in *Instrument) CheckAnswer(item string, v float64) error {
	i, ok := in.itemIdx[item]
	if !ok {
		return &InputError{Code: CodeUnknownItem, Item: item, Message: fmt.Sprintf("%s has no item %q", in.Doc.ID, item)}
	}
	it := &in.items[i]
	if it.option(v) == nil {
		return &InputError{Code: CodeAnswerOutOfRange, Item: item, Message: fmt.Sprintf("item %q accepts %s, not %v", item, it.describeOptions(), v)}
	}
	return nil
}

// Options returns an item's response options as written, or nil.
func (in *Instrument) Options(item string) []Option {
	i, ok := in.itemIdx[item]
	if !ok {
		return nil
	}
	if opts := in.Doc.Items[i].Options; len(opts) > 0 {
		return opts
	}
	return in.Doc.Options
}
