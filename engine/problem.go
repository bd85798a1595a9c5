package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Problem is one thing wrong with a document, located in its source.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Col, p.Path, p.Message)
}

// Problems is the error Load returns for a document it rejects: every
// problem found, in source order where possible.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// AsProblems extracts the problem list from an error returned by Load.
func AsProblems(err error) (Problems, bool) {
	var ps Problems
	ok := errors.As(err, &ps)
	return ps, ok
}

// path addresses a node: string keys and int indexes.
type path []any

func (p path) String() string {
	var b strings.Builder
	for _, seg := range p {
		switch s := seg.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func (p path) with(segs ...any) path {
	out := make(path, 0, len(p)+len(segs))
	return append(append(out, p...), segs...)
}

// source keeps the parsed YAML so that problems found after decoding can
// still point at a line and column.
type source struct {
	lines    []string
	file     string
	root     ast.Node
	problems Problems
	// items is the document's item count, the length of the arrays an
	// expression's cost depends on; cost sums the compiled expressions'.
	items int
	cost  int
}

func parseSource(file string, data []byte) (*source, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	s := &source{file: file, lines: strings.Split(string(data), "\n")}
	if len(f.Docs) > 0 {
		s.root = f.Docs[0].Body
	}
	return s, nil
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

// mapPairs returns the key/value pairs of a mapping node, or nil.
func mapPairs(n ast.Node) []*ast.MappingValueNode {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		return v.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}
	}
	return nil
}

func keyString(mv *ast.MappingValueNode) string {
	if t := mv.Key.GetToken(); t != nil {
		return t.Value
	}
	return mv.Key.String()
}

// lookup walks p as far as the document allows, returning the deepest node
// found and whether the whole path exists.
func (s *source) lookup(p path) (ast.Node, bool) {
	n := s.root
	if n == nil {
		return nil, false
	}
	for _, seg := range p {
		var next ast.Node
		switch k := seg.(type) {
		case string:
			for _, mv := range mapPairs(n) {
				if keyString(mv) == k {
					next = mv.Value
					break
				}
			}
		case int:
			if seq, ok := unwrap(n).(*ast.SequenceNode); ok && k >= 0 && k < len(seq.Values) {
				next = seq.Values[k]
			}
		}
		if next == nil {
			return n, false
		}
		n = next
	}
	return n, true
}

// position is the line and column of p, or of its nearest existing parent.
func (s *source) position(p path) (int, int) {
	n, _ := s.lookup(p)
	return nodePosition(n)
}

// nodePosition is where a node starts; a mapping starts at its first key,
// not at the colon that the parser files it under.
func nodePosition(n ast.Node) (int, int) {
	if n == nil {
		return 1, 1
	}
	if pairs := mapPairs(n); len(pairs) > 0 {
		n = pairs[0].Key
	}
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line, t.Position.Column
	}
	return 1, 1
}

func (s *source) add(p path, format string, args ...any) {
	line, col := s.position(p)
	s.problems = append(s.problems, Problem{File: s.file, Line: line, Col: col, Path: p.String(), Message: fmt.Sprintf(format, args...)})
}

// addExpr reports a problem inside an expression, offsetting the column by
// where in the expression the compiler found it.
func (s *source) addExpr(p path, exprLine, exprCol int, msg string) {
	n, found := s.lookup(p)
	line, col := s.position(p)
	if found && s.unquotedHash(line, col) {
		msg += ` (a " #" in an unquoted YAML value starts a comment: quote the expression)`
	}
	if found && n != nil {
		if t := n.GetToken(); t != nil {
			switch {
			case exprLine > 1 || strings.ContainsRune(t.Value, '\n'):
				// A block scalar: the expression's own lines follow the key.
				line += exprLine
				col = exprCol + 1
			case t.Type.String() == "DoubleQuote" || t.Type.String() == "SingleQuote":
				col += exprCol + 1
			default:
				col += exprCol
			}
		}
	}
	s.problems = append(s.problems, Problem{File: s.file, Line: line, Col: col, Path: p.String(), Message: msg})
}

// unquotedHash reports whether a plain value starting at line:col is cut
// short by a YAML comment, the usual cause of "unexpected token EOF" in
// expressions such as count(items, # >= 2).
func (s *source) unquotedHash(line, col int) bool {
	if line < 1 || line > len(s.lines) {
		return false
	}
	text := []rune(s.lines[line-1])
	if col < 1 || col > len(text) || text[col-1] == '"' || text[col-1] == '\'' {
		return false
	}
	return strings.Contains(string(text[col-1:]), " #")
}

// addYAMLError converts a decoder error into a located problem.
func (s *source) addYAMLError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line, col := 1, 1
		if t := ye.GetToken(); t != nil && t.Position != nil {
			line, col = t.Position.Line, t.Position.Column
		}
		s.problems = append(s.problems, Problem{File: s.file, Line: line, Col: col, Message: ye.GetMessage()})
		return
	}
	s.problems = append(s.problems, Problem{File: s.file, Line: 1, Col: 1, Message: err.Error()})
}

// checkFields reports every mapping key that the target type does not
// declare. The decoder stops at the first one; authors want all of them.
func (s *source) checkFields(n ast.Node, t reflect.Type, p path) {
	if n == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n = unwrap(n)
	switch t.Kind() {
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fields[name] = f.Type
		}
		for _, mv := range mapPairs(n) {
			k := keyString(mv)
			ft, ok := fields[k]
			if !ok {
				line, col := nodePosition(mv.Key)
				s.problems = append(s.problems, Problem{File: s.file, Line: line, Col: col, Path: p.with(k).String(), Message: fmt.Sprintf("unknown field %q", k)})
				continue
			}
			s.checkFields(mv.Value, ft, p.with(k))
		}
	case reflect.Map:
		for _, mv := range mapPairs(n) {
			s.checkFields(mv.Value, t.Elem(), p.with(keyString(mv)))
		}
	case reflect.Slice:
		if seq, ok := n.(*ast.SequenceNode); ok {
			for i, v := range seq.Values {
				s.checkFields(v, t.Elem(), p.with(i))
			}
		}
	}
}

// parseBounded parses a document that passes the size, nesting and
// expansion limits, or returns nil.
func parseBounded(data []byte) *source {
	if checkSize("", data) != nil {
		return nil
	}
	src, err := parseSource("", data)
	if err != nil || src.root == nil || checkExpansion("", src.root) != nil {
		return nil
	}
	return src
}

// Identify reads a document's id and version and nothing else, so that a
// draft with problems can still be saved under its name. Either is empty
// when it cannot be read.
func Identify(data []byte) (id, version string) {
	src := parseBounded(data)
	if src == nil {
		return "", ""
	}
	scalar := func(key string) string {
		n, ok := src.lookup(path{key})
		if !ok || n == nil {
			return ""
		}
		switch unwrap(n).(type) {
		case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
			if t := n.GetToken(); t != nil {
				return t.Value
			}
		}
		return ""
	}
	return scalar("id"), scalar("version")
}

// Locate returns the line and column of a path in a document ("vectors",
// 2), or of its nearest existing parent, or 1:1.
func Locate(data []byte, segments ...any) (line, col int) {
	src := parseBounded(data)
	if src == nil {
		return 1, 1
	}
	return src.position(path(segments))
}
