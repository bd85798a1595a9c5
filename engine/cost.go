package engine

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// What one expression may cost. An expression runs on every submit (and a
// display condition on every answer), so a document that passes the check
// must not be able to slow the answer path, whoever wrote it.
const (
	// maxExprLen bounds an expression's source, and with it what the
	// compiler's constant folding can build. A 90-item sum is 450 characters.
	maxExprLen = 8000
	// maxExprCost bounds an expression's estimated operations per run:
	// every node counts one, and the body of a predicate (all, count,
	// filter...) counts once per element of the array it walks. sum(items)
	// over 90 items costs about 100.
	maxExprCost = 50_000
	// maxDocumentCost bounds the sum over a document's expressions, which
	// is what scoring one submission can cost.
	maxDocumentCost = 500_000
	// maxRange is the longest range (a..b) an expression may build.
	maxRange = 10_000
)

// allowedBuiltins are the expr built-ins a document may call. Left out:
// now, date, duration and timezone (a result must not depend on when it
// is scored, or rescoring could not reproduce it), repeat and replace
// (they multiply a string's size), and the encoders, which no score needs.
var allowedBuiltins = []string{
	"all", "none", "any", "one", "filter", "map", "find", "findIndex", "findLast", "findLastIndex",
	"count", "reduce", "len", "abs", "ceil", "floor", "round", "int", "float", "string",
	"max", "min", "median", "first", "last", "take", "reverse", "concat", "sort", "uniq",
	"upper", "lower", "trim", "hasPrefix", "hasSuffix", "indexOf", "join",
}

var builtinOptions = func() []expr.Option {
	opts := []expr.Option{expr.DisableAllBuiltins()}
	for _, name := range allowedBuiltins {
		opts = append(opts, expr.EnableBuiltin(name))
	}
	return opts
}()

// costError is an expression refused for what it would cost, at an offset
// into its source.
type costError struct {
	offset int
	msg    string
}

// exprCost estimates what one run of a checked expression costs, or says
// why it cannot be bounded. items is the number of items, the length of
// the items and responses arrays.
func exprCost(node ast.Node, items int) (int, *costError) {
	e := costEstimator{items: items}
	c := e.cost(node, false)
	if e.err != nil {
		return 0, e.err
	}
	if c > maxExprCost {
		return c, &costError{offset: node.Location().From, msg: fmt.Sprintf("expression is too costly: about %d operations per run, the limit is %d", c, maxExprCost)}
	}
	return c, nil
}

type costEstimator struct {
	items int
	err   *costError
}

func (e *costEstimator) fail(n ast.Node, format string, args ...any) int {
	if e.err == nil {
		e.err = &costError{offset: n.Location().From, msg: fmt.Sprintf(format, args...)}
	}
	return maxExprCost + 1
}

// add saturates, so that nested multiplications cannot overflow.
func add(a, b int) int {
	if a+b > maxExprCost+1 || a+b < 0 {
		return maxExprCost + 1
	}
	return a + b
}

func mul(a, b int) int {
	if a != 0 && b > (maxExprCost+1)/a {
		return maxExprCost + 1
	}
	return a * b
}

func (e *costEstimator) cost(n ast.Node, inPredicate bool) int {
	if n == nil || e.err != nil {
		return 0
	}
	switch v := n.(type) {
	case *ast.BinaryNode:
		if v.Operator == ".." {
			if _, ok := e.length(v); !ok {
				return e.fail(v, "a range needs constant integer bounds at most %d apart", maxRange)
			}
		}
		if inPredicate && v.Operator == "+" && (isString(v) || isString(v.Left) || isString(v.Right)) {
			// Joining strings in a loop grows the string on every pass.
			return e.fail(v, "strings cannot be joined with + inside a predicate")
		}
		return add(1, add(e.cost(v.Left, inPredicate), e.cost(v.Right, inPredicate)))
	case *ast.BuiltinNode:
		c := 1
		var pred *ast.PredicateNode
		for _, a := range v.Arguments {
			if p, ok := a.(*ast.PredicateNode); ok {
				pred = p
				continue
			}
			c = add(c, e.cost(a, inPredicate))
		}
		if len(v.Arguments) > 0 {
			n, ok := e.length(v.Arguments[0])
			if !ok {
				return e.fail(v, "%s: cannot bound the length of its first argument", v.Name)
			}
			c = add(c, n) // walking the array
			if pred != nil {
				c = add(c, mul(n, add(1, e.cost(pred.Node, true))))
			}
		}
		if v.Map != nil {
			c = add(c, e.cost(v.Map, true))
		}
		return c
	}
	c := 1
	for _, child := range children(n) {
		c = add(c, e.cost(child, inPredicate))
	}
	if call, ok := n.(*ast.CallNode); ok && len(call.Arguments) > 0 && isArray(call.Arguments[0]) {
		// sum, mean and top walk their array.
		k, ok := e.length(call.Arguments[0])
		if !ok {
			return e.fail(call, "cannot bound the length of this call's first argument")
		}
		c = add(c, k)
	}
	return c
}

// length bounds the number of elements an array-valued node holds; ok is
// false when it cannot be bounded from the expression alone. Scalars
// count as one.
func (e *costEstimator) length(n ast.Node) (int, bool) {
	switch v := n.(type) {
	case *ast.IdentifierNode:
		if v.Value == envItems || v.Value == envResponses {
			return e.items, true
		}
		return 1, !isArray(v)
	case *ast.ArrayNode:
		return len(v.Nodes), true
	case *ast.ConstantNode:
		if rv := reflect.ValueOf(v.Value); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			return rv.Len(), true
		}
		return 1, true
	case *ast.BinaryNode:
		if v.Operator != ".." {
			return 1, !isArray(v)
		}
		lo, ok1 := v.Left.(*ast.IntegerNode)
		hi, ok2 := v.Right.(*ast.IntegerNode)
		if !ok1 || !ok2 {
			return 0, false
		}
		size := hi.Value - lo.Value + 1
		if size > maxRange {
			return 0, false
		}
		return max(size, 0), true
	case *ast.BuiltinNode:
		switch v.Name {
		case "filter", "map", "sort", "reverse", "uniq", "take":
			if len(v.Arguments) > 0 {
				return e.length(v.Arguments[0])
			}
		case "concat":
			total := 0
			for _, a := range v.Arguments {
				k, ok := e.length(a)
				if !ok {
					return 0, false
				}
				total = add(total, k)
			}
			return total, true
		}
		return 1, !isArray(v)
	case *ast.ConditionalNode:
		a, ok1 := e.length(v.Exp1)
		b, ok2 := e.length(v.Exp2)
		return max(a, b), ok1 && ok2
	}
	return 1, !isArray(n)
}

func isString(n ast.Node) bool {
	t := n.Type()
	return t != nil && t.Kind() == reflect.String
}

func isArray(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Interface
}

// children lists a node's direct children.
func children(n ast.Node) []ast.Node {
	switch v := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{v.Node}
	case *ast.BinaryNode:
		return []ast.Node{v.Left, v.Right}
	case *ast.ChainNode:
		return []ast.Node{v.Node}
	case *ast.MemberNode:
		return []ast.Node{v.Node, v.Property}
	case *ast.SliceNode:
		return []ast.Node{v.Node, v.From, v.To}
	case *ast.CallNode:
		return append([]ast.Node{v.Callee}, v.Arguments...)
	case *ast.BuiltinNode:
		return v.Arguments
	case *ast.PredicateNode:
		return []ast.Node{v.Node}
	case *ast.ConditionalNode:
		return []ast.Node{v.Cond, v.Exp1, v.Exp2}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{v.Value, v.Expr}
	case *ast.SequenceNode:
		return v.Nodes
	case *ast.ArrayNode:
		return v.Nodes
	case *ast.MapNode:
		return v.Pairs
	case *ast.PairNode:
		return []ast.Node{v.Key, v.Value}
	}
	return nil
}
