package engine

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// A document is untrusted input: institutions upload their own, from
// staff accounts that can be stolen. These limits bound what parsing,
// decoding, checking and scoring one document can cost. Every built-in
// document sits far below each of them.
const (
	// MaxDocumentBytes is the largest document accepted. A 90-item scale
	// with both locales and a dozen vectors is about 60 KiB; the parser
	// takes about a second per MiB.
	MaxDocumentBytes = 512 << 10
	// maxYAMLDepth bounds nesting. The parser recurses once per level, and
	// an instrument needs about eight.
	maxYAMLDepth = 64
	// maxYAMLNodes bounds the nodes of the document with every alias
	// expanded, which is what decoding builds (a "billion laughs" document
	// is a few lines of anchors that expand to billions of nodes).
	maxYAMLNodes = 200_000
)

// checkSize refuses oversized and deeply nested documents before the
// parser sees them. The parser's time grows with the square of the nesting
// (100,000 "[" take it 80 s), while the lexer is linear, so the nesting is
// measured on the lexer's tokens: flow brackets, and block entries by the
// column they start at ("- - - x" nests three sequences on one line).
func checkSize(file string, data []byte) Problems {
	if len(data) > MaxDocumentBytes {
		return Problems{{File: file, Line: 1, Col: 1, Message: fmt.Sprintf("document is %d bytes; the limit is %d", len(data), MaxDocumentBytes)}}
	}
	var block []int // columns of the open block collections, ascending
	flow := 0
	var prev *token.Token
	for _, t := range lexer.Tokenize(string(data)) {
		col := 0
		switch t.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		case token.SequenceEntryType:
			if flow == 0 {
				col = t.Position.Column
			}
		case token.MappingValueType:
			if flow == 0 && prev != nil {
				col = prev.Position.Column
			}
		}
		prev = t
		if col > 0 {
			for len(block) > 0 && block[len(block)-1] > col {
				block = block[:len(block)-1]
			}
			if len(block) == 0 || block[len(block)-1] < col {
				block = append(block, col)
			}
		}
		if flow+len(block) > maxYAMLDepth {
			return Problems{{File: file, Line: t.Position.Line, Col: t.Position.Column, Message: fmt.Sprintf("nesting is deeper than %d levels", maxYAMLDepth)}}
		}
	}
	return nil
}

// checkExpansion walks the parsed document in order, counting the nodes it
// decodes to with every alias expanded, and its depth. An anchor's size is
// measured where it is defined, so aliases of aliases multiply as the
// decoder would make them.
func checkExpansion(file string, root ast.Node) Problems {
	w := expansionWalker{anchors: map[string]int{}}
	w.size(root, 0)
	if w.problem != nil {
		w.problem.File = file
		return Problems{*w.problem}
	}
	return nil
}

type expansionWalker struct {
	anchors map[string]int
	problem *Problem
}

func (w *expansionWalker) fail(n ast.Node, format string, args ...any) {
	if w.problem == nil {
		line, col := nodePosition(n)
		w.problem = &Problem{Line: line, Col: col, Message: fmt.Sprintf(format, args...)}
	}
}

// size returns the expanded node count of n, and adds it to the total only
// through its callers: the root's size is the document's.
func (w *expansionWalker) size(n ast.Node, depth int) int {
	if n == nil || w.problem != nil {
		return 0
	}
	if depth > maxYAMLDepth {
		w.fail(n, "nesting is deeper than %d levels", maxYAMLDepth)
		return 0
	}
	add := func(k int) int {
		// Saturate: the limit is what matters, and sums must not overflow.
		if k > maxYAMLNodes {
			k = maxYAMLNodes + 1
		}
		return k
	}
	count := 1
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			count = add(count + w.size(mv, depth+1))
		}
	case *ast.MappingValueNode:
		count = add(count + w.size(v.Key, depth) + w.size(v.Value, depth+1))
	case *ast.MappingKeyNode:
		count = add(count + w.size(v.Value, depth))
	case *ast.SequenceNode:
		for _, e := range v.Values {
			count = add(count + w.size(e, depth+1))
		}
	case *ast.TagNode:
		count = add(count + w.size(v.Value, depth))
	case *ast.AnchorNode:
		inner := w.size(v.Value, depth)
		if v.Name != nil {
			w.anchors[v.Name.String()] = inner
		}
		count = add(count + inner)
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = v.Value.String()
		}
		count = add(count + w.anchors[name])
	}
	if count > maxYAMLNodes {
		w.fail(n, "document expands to more than %d nodes (check its anchors and aliases)", maxYAMLNodes)
	}
	return count
}
