package engine

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Names every expression may read besides item, score and text ids.
const (
	envItems     = "items"
	envResponses = "responses"
	envAnswered  = "answered"
	envSex       = "sex"
	envAge       = "age"
	envSeconds   = "seconds"
)

var reservedNames = func() map[string]bool {
	m := map[string]bool{
		envItems: true, envResponses: true, envAnswered: true, envSex: true, envAge: true, envSeconds: true,
		"top": true, "tscore": true, "true": true, "false": true, "nil": true,
		"and": true, "or": true, "not": true, "in": true, "matches": true, "contains": true,
		"startsWith": true, "endsWith": true, "let": true, "if": true, "else": true,
	}
	for _, n := range builtin.Names {
		m[n] = true
	}
	return m
}()

// topLetters returns the n letters whose values are highest; equal values
// keep the order of letters, which is how RIASEC codes break ties.
func topLetters(params ...any) (any, error) {
	values, ok := params[0].([]any)
	if !ok {
		if fs, isFloats := params[0].([]float64); isFloats {
			values = make([]any, len(fs))
			for i, f := range fs {
				values[i] = f
			}
		} else {
			return nil, fmt.Errorf("top: first argument must be an array of numbers")
		}
	}
	letters := []rune(params[1].(string))
	n := params[2].(int)
	if len(values) != len(letters) {
		return nil, fmt.Errorf("top: %d values but %d letters", len(values), len(letters))
	}
	if n < 0 || n > len(letters) {
		return nil, fmt.Errorf("top: n must be between 0 and %d", len(letters))
	}
	order := make([]int, len(values))
	nums := make([]float64, len(values))
	for i, v := range values {
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("top: value %d is not a number", i)
		}
		nums[i], order[i] = f, i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case nums[a] > nums[b]:
			return -1
		case nums[a] < nums[b]:
			return 1
		}
		return 0
	})
	var b strings.Builder
	for _, i := range order[:n] {
		b.WriteRune(letters[i])
	}
	return b.String(), nil
}

func tscore(params ...any) (any, error) {
	x, _ := toFloat(params[0])
	mean, _ := toFloat(params[1])
	sd, _ := toFloat(params[2])
	if sd <= 0 {
		return nil, fmt.Errorf("tscore: sd must be positive")
	}
	return 50 + 10*(x-mean)/sd, nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// numbers reads an array argument. expr's own sum and mean walk arrays by
// reflection, boxing every element; scoring sums arrays on every call, so
// these replace them with plain loops (about 10x faster on PHQ-9).
func numbers(name string, arg any) ([]float64, []any, error) {
	switch a := arg.(type) {
	case []float64:
		return a, nil, nil
	case []any:
		return nil, a, nil
	}
	return nil, nil, fmt.Errorf("%s: argument must be an array of numbers, not %T", name, arg)
}

func fastSum(params ...any) (any, error) {
	fs, as, err := numbers("sum", params[0])
	if err != nil {
		return nil, err
	}
	total := 0.0
	for _, f := range fs {
		total += f
	}
	for i, a := range as {
		f, ok := toFloat(a)
		if !ok {
			return nil, fmt.Errorf("sum: element %d is %T, not a number", i, a)
		}
		total += f
	}
	return total, nil
}

func fastMean(params ...any) (any, error) {
	n := 0
	switch a := params[0].(type) {
	case []float64:
		n = len(a)
	case []any:
		n = len(a)
	}
	if n == 0 {
		return nil, fmt.Errorf("mean: empty array")
	}
	total, err := fastSum(params...)
	if err != nil {
		return nil, err
	}
	return total.(float64) / float64(n), nil
}

var functionOptions = []expr.Option{
	expr.Function("sum", fastSum,
		new(func([]float64) float64),
		new(func([]any) float64)),
	expr.Function("mean", fastMean,
		new(func([]float64) float64),
		new(func([]any) float64)),
	expr.Function("top", topLetters,
		new(func([]any, string, int) string),
		new(func([]float64, string, int) string)),
	expr.Function("tscore", tscore,
		new(func(float64, float64, float64) float64),
		new(func(float64, float64, int) float64),
		new(func(int, int, int) float64),
		new(func(float64, int, int) float64),
		new(func(int, float64, float64) float64)),
}

// envShape is the set of names one expression may read, with a sample value
// of each name's type for the type checker.
type envShape map[string]any

func baseShape() envShape {
	return envShape{envSex: "", envAge: 0.0}
}

func (e envShape) withAnswers() envShape {
	e[envItems] = []float64{}
	e[envResponses] = []float64{}
	e[envAnswered] = 0.0
	e[envSeconds] = 0.0
	return e
}

// compileExpr compiles src to the given kind, reporting problems at p.
func (s *source) compileExpr(p path, src string, shape envShape, kind reflect.Kind) *vm.Program {
	if len(src) > maxExprLen {
		s.add(p, "expression is %d characters long; the limit is %d", len(src), maxExprLen)
		return nil
	}
	opts := append([]expr.Option{expr.Env(map[string]any(shape)), expr.MaxNodes(2000)}, builtinOptions...)
	opts = append(opts, functionOptions...)
	switch kind {
	case reflect.Float64:
		opts = append(opts, expr.AsFloat64(), expr.WarnOnAny())
	case reflect.Bool:
		opts = append(opts, expr.AsBool(), expr.WarnOnAny())
	case reflect.String:
		opts = append(opts, expr.AsKind(reflect.String), expr.WarnOnAny())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		line, col, msg := 1, 0, err.Error()
		if fe := asFileError(err); fe != nil {
			line, col, msg = fe.Line, fe.Column, describeExprError(fe.Message)
		}
		s.addExpr(p, line, col, msg)
		return nil
	}
	cost, cerr := exprCost(prog.Node(), s.items)
	if cerr != nil {
		line, col := offsetPosition(src, cerr.offset)
		s.addExpr(p, line, col, cerr.msg)
		return nil
	}
	s.cost += cost
	return prog
}

// offsetPosition turns a rune offset into an expression into its line
// and column, as the compiler reports them.
func offsetPosition(src string, offset int) (line, col int) {
	line = 1
	for i, r := range []rune(src) {
		if i == offset {
			break
		}
		col++
		if r == '\n' {
			line, col = line+1, 0
		}
	}
	return line, col
}

// describeExprError quotes the offending name, as authors search for it.
func describeExprError(msg string) string {
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		return fmt.Sprintf("unknown name %q", name)
	}
	return msg
}

// identifiers lists the names an expression reads.
func identifiers(prog *vm.Program) []string {
	var c identCollector
	node := prog.Node()
	ast.Walk(&node, &c)
	return c.names
}

type identCollector struct{ names []string }

func (c *identCollector) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && !slices.Contains(c.names, id.Value) {
		c.names = append(c.names, id.Value)
	}
}

func asFileError(err error) *file.Error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
