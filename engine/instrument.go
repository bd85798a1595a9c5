package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"
	"github.com/goccy/go-yaml"
)

// Instrument is a compiled, checked document. It is immutable and safe for
// concurrent use: programs are shared, and each Score call borrows its own
// VM and environment from a pool.
type Instrument struct {
	Doc  *Document
	File string
	// Hash is the SHA-256 of the document's bytes, so a stored result can
	// be traced to, and rescored with, the exact text that produced it.
	Hash string
	// Source is the document's bytes, for editors who start from a copy
	// and for diffs between versions.
	Source []byte

	items      []item
	itemIdx    map[string]int
	scores     []score
	texts      []textOut
	bands      []bandSet
	norms      []norm
	rules      []rule
	checks     []check
	trends     []trendRule
	prorate    bool
	maxMissing int
	cost       int             // estimated operations to score one submission
	coverage   []Coverage      // how each banded score's bands were checked
	reads      map[string]bool // every name some expression reads
	followUps  []Problem       // where each follow_up is named, to report one the library lacks
	rangesOnce sync.Once
	ranges     map[string][2]float64 // each linear score's lowest and highest value, for charts
	pool       sync.Pool
}

type option struct {
	value, score float64
	boxed        any // score as an interface value, made once so scoring does not allocate
}

type item struct {
	id                 string
	read               bool // some expression reads this item by name
	options            []option
	minScore, maxScore float64
	when               *vm.Program
}

type score struct {
	id   string
	prog *vm.Program
}

type textOut struct {
	id   string
	prog *vm.Program
}

type bound struct {
	set   bool
	value float64
	prog  *vm.Program
}

type band struct {
	def      *Band
	min, max bound
	ruleID   string // "<score>.<code>", the id of the band's warning
}

type bandSet struct {
	score    string
	scoreIdx int
	bands    []band
}

type norm struct {
	scoreIdx int
	def      *Norm
}

type rule struct {
	id       string
	level    int
	reason   Text
	followUp string
	// supersedes names milder warnings this one replaces when both fire.
	supersedes []string
	prog       *vm.Program
	// items is set for rules that read only items (and the respondent):
	// they can fire on an incomplete result whose items they read are answered.
	itemOnly bool
	items    []int
}

type check struct {
	def  *Check
	prog *vm.Program
}

// ID is the instrument id.
func (in *Instrument) ID() string { return in.Doc.ID }

// Version is the document version.
func (in *Instrument) Version() string { return in.Doc.Version }

// ItemIDs lists item ids in document order.
func (in *Instrument) ItemIDs() []string {
	ids := make([]string, len(in.items))
	for i, it := range in.items {
		ids[i] = it.id
	}
	return ids
}

// Load parses, compiles and checks one document, including its vectors.
// file names it in problems. The error, if any, is Problems: one located
// line per problem found.
func Load(file string, data []byte) (*Instrument, error) {
	in, _, err := Inspect(file, data)
	if err != nil {
		return nil, err
	}
	return in, nil
}

// Inspect is Load for editors: it also returns the instrument when only its
// vectors fail, with every vector's outcome, so that a checker can show
// coverage and examples beside the problems. The error lists every problem,
// failed vectors located at their place in the document.
func Inspect(file string, data []byte) (*Instrument, []VectorOutcome, error) {
	in, src, err := compileDocument(file, data, true)
	if err != nil {
		return nil, nil, err
	}
	outcomes := in.RunVectors()
	in.checkVectors(src, outcomes)
	if len(src.problems) > 0 {
		return in, outcomes, src.problems
	}
	return in, outcomes, nil
}

// Compile is Load without running the vectors, for tools that report each
// vector's outcome themselves.
func Compile(file string, data []byte) (*Instrument, error) {
	in, _, err := compileDocument(file, data, true)
	return in, err
}

func compileDocument(file string, data []byte, coverage bool) (in *Instrument, src *source, err error) {
	defer func() {
		// A loader bug must reject one document, never take the server down.
		if r := recover(); r != nil {
			in, src, err = nil, nil, Problems{{File: file, Line: 1, Col: 1, Message: fmt.Sprintf("internal error while loading: %v", r)}}
		}
	}()
	if ps := checkSize(file, data); ps != nil {
		return nil, nil, ps
	}
	src, perr := parseSource(file, data)
	if perr != nil {
		s := &source{file: file}
		s.addYAMLError(perr)
		return nil, nil, s.problems
	}
	if src.root == nil {
		return nil, nil, Problems{{File: file, Line: 1, Col: 1, Message: "empty document"}}
	}
	if ps := checkExpansion(file, src.root); ps != nil {
		return nil, nil, ps
	}
	src.checkFields(src.root, reflect.TypeOf(Document{}), nil)
	if len(src.problems) > 0 {
		return nil, nil, src.problems
	}
	doc := new(Document)
	if err := yaml.UnmarshalWithOptions(data, doc, yaml.DisallowUnknownField()); err != nil {
		src.addYAMLError(err)
		return nil, nil, src.problems
	}
	src.validateStruct(doc)
	if len(src.problems) > 0 {
		return nil, nil, src.problems
	}
	sum := sha256.Sum256(data)
	in = &Instrument{Doc: doc, File: file, Hash: hex.EncodeToString(sum[:]), Source: bytes.Clone(data)}
	in.compile(src)
	if len(src.problems) == 0 && src.cost > maxDocumentCost {
		src.add(path{"scoring"}, "scoring is too costly: about %d operations per submission, the limit is %d", src.cost, maxDocumentCost)
	}
	in.cost = src.cost
	if len(src.problems) > 0 {
		return nil, nil, src.problems
	}
	in.noteReads()
	in.pool.New = func() any { return in.newScorer() }
	if !coverage {
		return in, src, nil
	}
	in.checkCoverage(src)
	if len(src.problems) > 0 {
		return nil, nil, src.problems
	}
	return in, src, nil
}

func (in *Instrument) compile(src *source) {
	doc := in.Doc
	shape := baseShape()
	src.items = len(doc.Items)
	in.itemIdx = map[string]int{}
	for i := range doc.Items {
		in.compileItem(src, shape, i)
	}
	shape.withAnswers()

	if m := doc.Scoring.Missing; m != nil && m.Policy == "prorate" {
		in.prorate, in.maxMissing = true, m.Max
		if m.Max < 1 || m.Max >= len(doc.Items) {
			src.add(path{"scoring", "missing", "max"}, "prorate needs max between 1 and %d", len(doc.Items)-1)
		}
	}

	names := map[string]string{} // output id → where it was defined, to catch collisions
	for id := range in.itemIdx {
		names[id] = "an item"
	}
	claim := func(p path, id string) bool {
		if reservedNames[id] {
			src.add(p, "%q is a reserved name", id)
			return false
		}
		if prev, dup := names[id]; dup {
			src.add(p, "duplicate id %q (already %s)", id, prev)
			return false
		}
		names[id] = p.String()
		return true
	}

	scoreIdx := map[string]int{}
	for i, sd := range doc.Scoring.Scores {
		p := path{"scoring", "scores", i}
		claim(p.with("id"), sd.ID)
		// Compiled before its own name is added: a score may read only earlier ones.
		prog := src.compileExpr(p.with("expr"), sd.Expr, shape, reflect.Float64)
		in.scores = append(in.scores, score{id: sd.ID, prog: prog})
		scoreIdx[sd.ID] = i
		shape[sd.ID] = 0.0
	}
	for i, td := range doc.Scoring.Texts {
		p := path{"scoring", "texts", i}
		claim(p.with("id"), td.ID)
		prog := src.compileExpr(p.with("expr"), td.Expr, shape, reflect.String)
		in.texts = append(in.texts, textOut{id: td.ID, prog: prog})
	}
	for i := range doc.Scoring.Texts {
		shape[doc.Scoring.Texts[i].ID] = ""
	}

	in.compileBands(src, shape, scoreIdx)
	in.compileNorms(src, scoreIdx)
	in.compileInterpretations(src, scoreIdx)

	ruleIDs := map[string]bool{}
	for i := range doc.Scoring.Warnings {
		r := &doc.Scoring.Warnings[i]
		p := path{"scoring", "warnings", i}
		src.once(ruleIDs, p.with("id"), r.ID, "warning")
		prog := src.compileExpr(p.with("when"), r.When, shape, reflect.Bool)
		if r.FollowUp != "" {
			in.noteFollowUp(src, p.with("follow_up"), r.FollowUp)
		}
		cr := rule{id: r.ID, level: r.Level, reason: r.Reason, followUp: r.FollowUp, supersedes: r.Supersedes, prog: prog}
		if prog != nil {
			cr.itemOnly, cr.items = in.itemOnlyRule(prog)
		}
		in.rules = append(in.rules, cr)
	}
	in.checkSupersedes(src)
	in.checkSpecial(src)
	for score, bands := range doc.Scoring.Bands {
		for _, b := range bands {
			if b.Warning != nil {
				ruleIDs[score+"."+b.Code] = true
			}
		}
	}
	in.compileTrends(src, scoreIdx, ruleIDs)
	checkIDs := map[string]bool{}
	for i := range doc.Scoring.Validity {
		c := &doc.Scoring.Validity[i]
		p := path{"scoring", "validity", i}
		src.once(checkIDs, p.with("id"), c.ID, "validity check")
		in.checks = append(in.checks, check{def: c, prog: src.compileExpr(p.with("when"), c.When, shape, reflect.Bool)})
	}
}

// checkSupersedes makes sure each superseded warning exists and is no more
// urgent than the rule that replaces it: a replacement must never lower a level.
// checkSpecial: an item marked special must be read by an item-only
// warning rule, since that rule is what says when its answer is positive.
func (in *Instrument) checkSpecial(src *source) {
	for i, it := range in.Doc.Items {
		if it.Special == "" {
			continue
		}
		read := false
		for _, r := range in.rules {
			if r.itemOnly && slices.Contains(r.items, i) {
				read = true
			}
		}
		if !read {
			src.add(path{"items", i, "special"}, "a %s item needs a warning rule that reads it (and only items), which says when its answer is positive", it.Special)
		}
	}
}

// SuicideRules lists the document-level warning rules whose firing means
// a positive answer to a suicide item, for reports that count those on
// their own. The suicide items are those marked `special: suicide`; a
// document that marks none falls back to every item read by an item-only
// warning rule, which among the built-ins are exactly the suicide items
// (PHQ-9 item 9, SDS item 19, ASQ items 1-5: scales_test pins this), so
// published documents keep their bytes and content hashes.
func (in *Instrument) SuicideRules() []string {
	marked := map[int]bool{}
	for i, it := range in.Doc.Items {
		if it.Special == SpecialSuicide {
			marked[i] = true
		}
	}
	var out []string
	for _, r := range in.rules {
		if !r.itemOnly {
			continue
		}
		if len(marked) == 0 {
			out = append(out, r.id)
			continue
		}
		for _, i := range r.items {
			if marked[i] {
				out = append(out, r.id)
				break
			}
		}
	}
	return out
}

func (in *Instrument) checkSupersedes(src *source) {
	levels := map[string]int{}
	for score, bands := range in.Doc.Scoring.Bands {
		for _, b := range bands {
			if b.Warning != nil {
				levels[score+"."+b.Code] = b.Warning.Level
			}
		}
	}
	for _, r := range in.Doc.Scoring.Warnings {
		levels[r.ID] = r.Level
	}
	for i, r := range in.Doc.Scoring.Warnings {
		for k, target := range r.Supersedes {
			p := path{"scoring", "warnings", i, "supersedes", k}
			lvl, ok := levels[target]
			switch {
			case !ok:
				src.add(p, "supersedes unknown warning %q", target)
			case target == r.ID:
				src.add(p, "a warning cannot supersede itself")
			case lvl < r.Level:
				src.add(p, "level %d warning cannot supersede the more urgent level %d warning %q", r.Level, lvl, target)
			}
		}
	}
}

func (in *Instrument) compileItem(src *source, shape envShape, i int) {
	doc := in.Doc
	it := &doc.Items[i]
	p := path{"items", i}
	if reservedNames[it.ID] {
		src.add(p.with("id"), "%q is a reserved name", it.ID)
	}
	if prev, dup := in.itemIdx[it.ID]; dup {
		src.add(p.with("id"), "duplicate item id %q (also items[%d])", it.ID, prev)
	}
	opts, optPath := it.Options, p.with("options")
	if len(opts) == 0 {
		opts, optPath = doc.Options, path{"options"}
	}
	ci := item{id: it.ID}
	if len(opts) < 2 {
		src.add(p, "needs at least two response options (its own, or the document's options)")
	}
	seen := map[float64]int{}
	for j, o := range opts {
		if !finite(*o.Value) {
			src.add(optPath.with(j, "value"), "value must be a finite number")
			continue
		}
		if prev, dup := seen[*o.Value]; dup {
			src.add(optPath.with(j, "value"), "value %v repeats options[%d]", *o.Value, prev)
		}
		seen[*o.Value] = j
		sc := *o.Value
		if o.Score != nil {
			sc = *o.Score
		}
		if !finite(sc) {
			src.add(optPath.with(j, "score"), "score must be a finite number")
		}
		ci.options = append(ci.options, option{value: *o.Value, score: sc})
	}
	if len(ci.options) > 0 {
		ci.minScore, ci.maxScore = ci.options[0].score, ci.options[0].score
		for _, o := range ci.options {
			ci.minScore = min(ci.minScore, o.score)
			ci.maxScore = max(ci.maxScore, o.score)
		}
		for j := range ci.options {
			o := &ci.options[j]
			if it.Reverse {
				o.score = ci.minScore + ci.maxScore - o.score
			}
			o.boxed = o.score
		}
	}
	if it.When != "" {
		// Only the respondent and earlier items are in scope: a display
		// condition cannot depend on an answer not yet given.
		ci.when = src.compileExpr(p.with("when"), it.When, shape, reflect.Bool)
	}
	in.itemIdx[it.ID] = i
	in.items = append(in.items, ci)
	shape[it.ID] = 0.0
}

func (in *Instrument) compileBands(src *source, shape envShape, scoreIdx map[string]int) {
	keys := make([]string, 0, len(in.Doc.Scoring.Bands))
	for k := range in.Doc.Scoring.Bands {
		keys = append(keys, k)
	}
	// Bands follow score order so that results and warnings are deterministic.
	sort.Slice(keys, func(a, b int) bool {
		ia, oka := scoreIdx[keys[a]]
		ib, okb := scoreIdx[keys[b]]
		if oka != okb {
			return oka
		}
		if ia != ib {
			return ia < ib
		}
		return keys[a] < keys[b]
	})
	for _, key := range keys {
		p := path{"scoring", "bands", key}
		idx, ok := scoreIdx[key]
		if !ok {
			src.add(p, "bands for unknown score %q", key)
			continue
		}
		set := bandSet{score: key, scoreIdx: idx}
		codes := map[string]int{}
		defs := in.Doc.Scoring.Bands[key]
		for j := range defs {
			d := &defs[j]
			bp := p.with(j)
			if prev, dup := codes[d.Code]; dup {
				src.add(bp.with("code"), "duplicate band code %q (also [%d])", d.Code, prev)
			}
			codes[d.Code] = j
			b := band{def: d, ruleID: key + "." + d.Code, min: src.compileBound(bp.with("min"), d.Min, shape), max: src.compileBound(bp.with("max"), d.Max, shape)}
			if d.Warning != nil && d.Warning.FollowUp != "" {
				in.noteFollowUp(src, bp.with("warning", "follow_up"), d.Warning.FollowUp)
			}
			if b.min.constant() && b.max.constant() && b.min.value > b.max.value {
				src.add(bp, "min %v is above max %v", b.min.value, b.max.value)
			}
			if j > 0 {
				prev := set.bands[j-1]
				if prev.max.constant() && b.min.constant() && b.min.value <= prev.max.value {
					src.add(bp.with("min"), "band %q overlaps band %q (min %v ≤ its max %v); list bands in ascending order without overlap", d.Code, prev.def.Code, b.min.value, prev.max.value)
				}
				if !prev.max.set && prev.max.prog == nil {
					src.add(bp, "band %q follows band %q, which has no max", d.Code, prev.def.Code)
				}
			}
			if j < len(defs)-1 && !b.max.set && b.max.prog == nil {
				src.add(bp.with("max"), "only the last band may leave max open")
			}
			if j > 0 && !b.min.set && b.min.prog == nil {
				src.add(bp.with("min"), "only the first band may leave min open")
			}
			set.bands = append(set.bands, b)
		}
		in.bands = append(in.bands, set)
	}
}

func (in *Instrument) noteReads() {
	in.reads = map[string]bool{}
	add := func(p *vm.Program) {
		if p != nil {
			for _, name := range identifiers(p) {
				in.reads[name] = true
			}
		}
	}
	for _, it := range in.items {
		add(it.when)
	}
	for _, s := range in.scores {
		add(s.prog)
	}
	for _, t := range in.texts {
		add(t.prog)
	}
	for _, set := range in.bands {
		for _, b := range set.bands {
			add(b.min.prog)
			add(b.max.prog)
		}
	}
	for _, r := range in.rules {
		add(r.prog)
	}
	for _, c := range in.checks {
		add(c.prog)
	}
	for i := range in.items {
		in.items[i].read = in.reads[in.items[i].id]
	}
}

func (in *Instrument) noteFollowUp(src *source, p path, target string) {
	line, col := src.position(p)
	in.followUps = append(in.followUps, Problem{File: src.file, Line: line, Col: col, Path: p.String(), Message: target})
}

// once reports id at p if seen already holds it, and records it.
func (s *source) once(seen map[string]bool, p path, id, kind string) {
	if seen[id] {
		s.add(p, "duplicate %s id %q", kind, id)
	}
	seen[id] = true
}

func (b bound) constant() bool { return b.set && b.prog == nil }

func (s *source) compileBound(p path, v any, shape envShape) bound {
	switch n := v.(type) {
	case nil:
		return bound{}
	case uint64:
		return bound{set: true, value: float64(n)}
	case int64:
		return bound{set: true, value: float64(n)}
	case int:
		return bound{set: true, value: float64(n)}
	case float64:
		if !finite(n) {
			s.add(p, "bound must be finite")
		}
		return bound{set: true, value: n}
	case string:
		return bound{set: true, prog: s.compileExpr(p, n, shape, reflect.Float64)}
	}
	s.add(p, "bound must be a number or an expression, not %T", v)
	return bound{}
}

func (in *Instrument) compileNorms(src *source, scoreIdx map[string]int) {
	for i := range in.Doc.Scoring.Norms {
		n := &in.Doc.Scoring.Norms[i]
		p := path{"scoring", "norms", i}
		idx, ok := scoreIdx[n.Score]
		if !ok {
			src.add(p.with("score"), "norms for unknown score %q", n.Score)
			continue
		}
		for j, g := range n.Groups {
			gp := p.with("groups", j)
			if g.AgeMin != nil && g.AgeMax != nil && *g.AgeMin > *g.AgeMax {
				src.add(gp, "age_min is above age_max")
			}
			for k := 1; k < len(g.Percentiles); k++ {
				a, b := g.Percentiles[k-1], g.Percentiles[k]
				if b[0] <= a[0] || b[1] < a[1] {
					src.add(gp.with("percentiles", k), "percentile points must rise in score and not fall in percentile")
				}
			}
			for k, pt := range g.Percentiles {
				if pt[1] < 0 || pt[1] > 100 {
					src.add(gp.with("percentiles", k), "a percentile must be between 0 and 100")
				}
			}
		}
		in.norms = append(in.norms, norm{scoreIdx: idx, def: n})
	}
}

// itemOnlyRule reports whether a rule reads only item scores and the
// respondent, and which items it reads.
func (in *Instrument) itemOnlyRule(prog *vm.Program) (bool, []int) {
	var items []int
	for _, name := range identifiers(prog) {
		if i, ok := in.itemIdx[name]; ok {
			items = append(items, i)
			continue
		}
		if name == envSex || name == envAge {
			continue
		}
		if _, isScore := in.scoreIndex(name); isScore || name == envItems || name == envResponses || name == envAnswered || name == envSeconds {
			return false, nil
		}
		for _, t := range in.texts {
			if t.id == name {
				return false, nil
			}
		}
	}
	slices.Sort(items)
	return len(items) > 0, items
}

func (in *Instrument) scoreIndex(id string) (int, bool) {
	for i, s := range in.scores {
		if s.id == id {
			return i, true
		}
	}
	return 0, false
}

// describeOptions lists an item's accepted values for error messages.
func (it *item) describeOptions() string {
	vals := make([]string, len(it.options))
	for i, o := range it.options {
		vals[i] = fmt.Sprint(o.value)
	}
	return strings.Join(vals, ", ")
}
