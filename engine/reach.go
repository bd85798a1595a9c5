package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// The coverage proof. Most scores are sums or means of item scores, or
// functions of one (floor(raw * 1.25), "q5 > 0 ? 1 : 0"). For such a
// score the set of values it can take follows from the options: dynamic
// programming over the items gives every reachable value of the sum, with
// an answer pattern that reaches it. Scoring one witness per value through
// the engine itself then decides, for every value, which bands it falls
// in, with no sampling. A score the analysis cannot reduce to one sum is
// sampled instead, aiming at its band edges, and the check says so.

// Coverage says how the bands of one score were checked.
type Coverage struct {
	Score string `json:"score"`
	// Proven: every value the score can take was scored and lands in
	// exactly one band.
	Proven bool `json:"proven"`
	// Values is how many distinct values were scored for the proof.
	Values int `json:"values,omitempty"`
	// Note says why a score is not proven, or what the proof leaves out.
	Note string `json:"note,omitempty"`
}

// Coverage lists, for every banded score, how its bands were checked.
func (in *Instrument) Coverage() []Coverage { return slices.Clone(in.coverage) }

const (
	// maxReachStates bounds the dynamic programme (distinct partial sums
	// summed over the items); past it a score is sampled instead.
	maxReachStates = 2_000_000
	// maxWitnesses bounds the answer patterns scored for one score.
	maxWitnesses = 100_000
	reachQuantum = 1e-9
)

// form is what the analysis knows of an expression's value.
type form struct {
	why string // non-empty: the value cannot be reduced to one sum
	// lin: the value is exactly sum(coef[i] * item i) + konst.
	lin   bool
	coef  []float64
	konst float64
	// basis is the sum the value is a function of (normalised so that
	// its first non-zero coefficient is 1); nil for a value that reads no
	// item.
	basis []float64
	sex   bool // the value also reads the respondent's sex
}

func unknown(format string, args ...any) form { return form{why: fmt.Sprintf(format, args...)} }

func constant(v float64) form { return form{lin: true, konst: v} }

type analyzer struct {
	in     *Instrument
	scores map[string]form
}

func (a *analyzer) linearItem(i int, weight float64) form {
	coef := make([]float64, len(a.in.items))
	coef[i] = weight
	return a.linear(coef, 0)
}

func (a *analyzer) linear(coef []float64, konst float64) form {
	f := form{lin: true, coef: coef, konst: konst}
	f.basis = normalise(coef)
	return f
}

func normalise(coef []float64) []float64 {
	for _, c := range coef {
		if c != 0 {
			out := make([]float64, len(coef))
			for i, d := range coef {
				out[i] = d / c
			}
			return out
		}
	}
	return nil
}

func sameBasis(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > reachQuantum {
			return false
		}
	}
	return true
}

// combine is the form of a value computed from the given ones by anything
// but addition and scaling: it depends on their common sum, if they have one.
func combine(parts ...form) form {
	var out form
	for _, p := range parts {
		if p.why != "" {
			return p
		}
		out.sex = out.sex || p.sex
		if p.basis == nil {
			continue
		}
		if out.basis != nil && !sameBasis(out.basis, p.basis) {
			return unknown("reads more than one sum of items")
		}
		out.basis = p.basis
	}
	return out
}

func scale(f form, k float64) form {
	if !f.lin {
		return combine(f)
	}
	coef := make([]float64, len(f.coef))
	for i, c := range f.coef {
		coef[i] = c * k
	}
	g := form{lin: true, coef: coef, konst: f.konst * k, basis: f.basis, sex: f.sex}
	if k == 0 {
		g.basis = nil
	}
	return g
}

func (a *analyzer) sum(x, y form, sign float64) form {
	if !x.lin || !y.lin {
		return combine(x, y)
	}
	n := max(len(x.coef), len(y.coef))
	coef := make([]float64, n)
	for i := range coef {
		if i < len(x.coef) {
			coef[i] += x.coef[i]
		}
		if i < len(y.coef) {
			coef[i] += sign * y.coef[i]
		}
	}
	f := a.linear(coef, x.konst+sign*y.konst)
	f.sex = x.sex || y.sex
	return f
}

func (f form) isConst() (float64, bool) {
	return f.konst, f.lin && f.basis == nil && !f.sex && f.why == ""
}

func (a *analyzer) program(p *vm.Program) form {
	if p == nil {
		return unknown("does not compile")
	}
	return a.node(p.Node())
}

func (a *analyzer) node(n ast.Node) form {
	switch v := n.(type) {
	case *ast.IntegerNode:
		return constant(float64(v.Value))
	case *ast.FloatNode:
		return constant(v.Value)
	case *ast.BoolNode, *ast.StringNode, *ast.NilNode:
		return form{}
	case *ast.ConstantNode:
		if f, ok := toFloat(v.Value); ok {
			return constant(f)
		}
		return form{}
	case *ast.IdentifierNode:
		return a.identifier(v.Value)
	case *ast.UnaryNode:
		x := a.node(v.Node)
		switch v.Operator {
		case "-":
			return scale(x, -1)
		case "+":
			return x
		}
		return combine(x)
	case *ast.BinaryNode:
		x, y := a.node(v.Left), a.node(v.Right)
		switch v.Operator {
		case "+":
			return a.sum(x, y, 1)
		case "-":
			return a.sum(x, y, -1)
		case "*":
			if k, ok := y.isConst(); ok {
				return scale(x, k)
			}
			if k, ok := x.isConst(); ok {
				return scale(y, k)
			}
		case "/":
			if k, ok := y.isConst(); ok && k != 0 {
				return scale(x, 1/k)
			}
		}
		return combine(x, y)
	case *ast.CallNode:
		return a.call(v)
	case *ast.BuiltinNode:
		switch v.Name {
		case "floor", "ceil", "round", "abs", "int", "float", "max", "min":
			parts := make([]form, len(v.Arguments))
			for i, arg := range v.Arguments {
				parts[i] = a.node(arg)
			}
			return combine(parts...)
		}
		return unknown("uses %s()", v.Name)
	case *ast.ConditionalNode:
		return combine(a.node(v.Cond), a.node(v.Exp1), a.node(v.Exp2))
	}
	return unknown("uses an expression the proof does not follow (%T)", n)
}

func (a *analyzer) identifier(name string) form {
	if i, ok := a.in.itemIdx[name]; ok {
		return a.linearItem(i, 1)
	}
	if f, ok := a.scores[name]; ok {
		return f
	}
	switch name {
	case envSex:
		return form{sex: true}
	case envItems:
		return unknown("uses items other than in sum(items) or mean(items)")
	}
	return unknown("reads %s", name)
}

// call follows sum and mean over items or over a list of item and score
// expressions.
func (a *analyzer) call(c *ast.CallNode) form {
	callee, _ := c.Callee.(*ast.IdentifierNode)
	if callee == nil || (callee.Value != "sum" && callee.Value != "mean") || len(c.Arguments) != 1 {
		return unknown("uses a function the proof does not follow")
	}
	var total form
	n := 0
	switch arg := c.Arguments[0].(type) {
	case *ast.IdentifierNode:
		if arg.Value != envItems {
			return unknown("sums %s", arg.Value)
		}
		coef := make([]float64, len(a.in.items))
		for i := range coef {
			coef[i] = 1
		}
		total, n = a.linear(coef, 0), len(coef)
	case *ast.ArrayNode:
		total = constant(0)
		for _, e := range arg.Nodes {
			total = a.sum(total, a.node(e), 1)
		}
		n = len(arg.Nodes)
	default:
		return unknown("sums an array the proof does not follow")
	}
	if callee.Value == "mean" && n > 0 {
		return scale(total, 1/float64(n))
	}
	return total
}

// reachable is one value of a sum with an answer pattern that reaches it:
// an option index per item of the sum, and the items left unanswered
// (pro-rated) for a partial pattern.
type reachable struct {
	value   float64
	options []int // by item index; -1 for an item outside the sum
	missing []int
}

// reach enumerates the reachable values of the sum with the given basis
// over complete answer patterns and, with prorate, over patterns missing
// up to maxMissing items. ok is false when there are too many.
func (in *Instrument) reach(basis []float64, prorate bool) ([]reachable, bool) {
	type state struct {
		prev   int // index into the previous layer, -1 at the start
		option int // option chosen for this layer's item; -1 missing
		value  float64
		miss   int
	}
	type key struct {
		q    int64
		miss int
	}
	layers := [][]state{{{prev: -1, option: -1}}}
	var idx []int // item index of each layer
	states := 1
	for i := range in.items {
		if basis[i] == 0 && !prorate {
			continue
		}
		it := &in.items[i]
		prev := layers[len(layers)-1]
		next := make([]state, 0, len(prev)*len(it.options))
		seen := make(map[key]bool, cap(next))
		for p, s := range prev {
			for j := -1; j < len(it.options); j++ {
				if j == -1 && (!prorate || s.miss == in.maxMissing) {
					continue
				}
				ns := state{prev: p, option: j, value: s.value, miss: s.miss}
				if j >= 0 {
					ns.value += basis[i] * it.options[j].score
				} else {
					ns.miss++
				}
				// A pro-rated value depends on the sum over every item
				// answered, so only a uniform basis gets here with prorate.
				k := key{int64(math.Round(ns.value / reachQuantum)), ns.miss}
				if seen[k] {
					continue
				}
				seen[k] = true
				next = append(next, ns)
			}
		}
		states += len(next)
		if states > maxReachStates {
			return nil, false
		}
		layers = append(layers, next)
		idx = append(idx, i)
	}
	last := layers[len(layers)-1]
	if len(last) > maxWitnesses {
		return nil, false
	}
	out := make([]reachable, 0, len(last))
	for k := range last {
		r := reachable{value: last[k].value, options: make([]int, len(in.items))}
		for i := range r.options {
			r.options[i] = -1
		}
		at := k
		for l := len(layers) - 1; l >= 1; l-- {
			s := layers[l][at]
			if s.option >= 0 {
				r.options[idx[l-1]] = s.option
			} else {
				r.missing = append(r.missing, idx[l-1])
			}
			at = s.prev
		}
		if len(r.missing) == len(in.items) {
			continue // nothing answered: not a pro-rated result
		}
		out = append(out, r)
	}
	return out, true
}

// proveCoverage decides, for every banded score it can, every value the
// score can take, and returns the answer patterns that do so; scores it
// cannot decide are returned for targeted sampling.
func (in *Instrument) proveCoverage() (patterns []pattern, undecided []*bandSet) {
	a := analyzer{in: in, scores: map[string]form{}}
	for _, s := range in.scores {
		a.scores[s.id] = a.program(s.prog)
	}
	anyWhen := slices.ContainsFunc(in.items, func(it item) bool { return it.when != nil })
	in.coverage = nil
	for si := range in.bands {
		set := &in.bands[si]
		f := a.scores[set.score]
		for _, b := range set.bands {
			for _, bd := range []bound{b.min, b.max} {
				if bd.prog != nil {
					f = combine(f, a.program(bd.prog))
				}
			}
		}
		cov := Coverage{Score: set.score}
		switch {
		case f.why != "":
			cov.Note = "sampled, not proven: the score or a band bound " + f.why
		case f.basis == nil:
			cov.Note = "sampled, not proven: the score reads no item"
		}
		if cov.Note == "" {
			for i, c := range f.basis {
				if c != 0 && in.items[i].when != nil {
					cov.Note = fmt.Sprintf("sampled, not proven: item %s of its sum is shown only on a condition", in.items[i].id)
					break
				}
			}
		}
		var values []reachable
		if cov.Note == "" {
			var ok bool
			if values, ok = in.reach(f.basis, false); !ok {
				cov.Note = "sampled, not proven: the sum takes too many distinct values"
			}
		}
		if cov.Note != "" {
			in.coverage = append(in.coverage, cov)
			undecided = append(undecided, set)
			continue
		}
		cov.Proven, cov.Values = true, len(values)
		if in.prorate {
			uniform := !anyWhen && !slices.Contains(f.basis, 0) && !slices.ContainsFunc(f.basis, func(c float64) bool { return c != f.basis[0] })
			var partial []reachable
			ok := false
			if uniform {
				partial, ok = in.reach(f.basis, true)
			}
			if ok {
				partial = slices.DeleteFunc(partial, func(r reachable) bool { return len(r.missing) == 0 })
				values = append(values, partial...)
				cov.Values += len(partial)
			} else {
				cov.Proven = false
				cov.Note = "complete answers proven; pro-rated answers sampled"
				undecided = append(undecided, set)
			}
		}
		in.coverage = append(in.coverage, cov)
		sexes := []string{""}
		if f.sex {
			sexes = []string{"", "m", "f"}
		}
		for _, sex := range sexes {
			for _, r := range values {
				patterns = append(patterns, in.witness(r, sex))
			}
		}
	}
	return patterns, undecided
}

// witness is the answer pattern of a reachable value: its own options on
// the items of the sum, the first option elsewhere.
func (in *Instrument) witness(r reachable, sex string) pattern {
	opts := r.options
	return pattern{sex: sex, drop: r.missing, pick: func(i int, it *item) *option {
		if j := opts[i]; j >= 0 {
			return &it.options[j]
		}
		return &it.options[0]
	}}
}

// String is the check's summary line for a score.
func (c Coverage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bands of %s: ", c.Score)
	if c.Proven {
		fmt.Fprintf(&b, "proven over all %d values it can take", c.Values)
	} else {
		b.WriteString(c.Note)
	}
	return b.String()
}
