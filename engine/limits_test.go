package engine_test

import (
	"strings"
	"testing"

	"xinling/engine"
)

// Hostile documents are refused with a located problem, quickly, and
// before the parser or decoder can be made to do unbounded work.
func TestHostileDocumentsAreRefused(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		bomb += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(prev)+", ", 9) + "*" + string(prev) + "]\n"
	}
	cases := []struct{ name, doc, want string }{
		{"oversized", "id: x\ndescription: " + strings.Repeat("a", engine.MaxDocumentBytes), "the limit is"},
		{"flow nesting", "id: " + strings.Repeat("[", 100_000), "nesting is deeper than"},
		{"flow nesting in mappings", "id: " + strings.Repeat("{a: ", 5_000), "nesting is deeper than"},
		{"block nesting on one line", strings.Repeat("- ", 5_000) + "x", "nesting is deeper than"},
		{"block nesting by indentation", deepBlock(200), "nesting is deeper than"},
		{"alias expansion", bomb, "expands to more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := engine.Load("hostile.yaml", []byte(c.doc))
			ps, ok := engine.AsProblems(err)
			if !ok || len(ps) == 0 {
				t.Fatalf("loaded, or error is not a problem list: %v", err)
			}
			if !strings.Contains(ps[0].Message, c.want) || ps[0].Line < 1 || ps[0].Col < 1 {
				t.Fatalf("problem %+v, want one mentioning %q", ps[0], c.want)
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "v")
	return b.String()
}

// An expression that could be slow, huge or nondeterministic at run time is
// refused at check time, located in its source, so it never reaches the
// answer path.
func TestCostlyExpressionsAreRefused(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, expr, want string }{
		{"huge range", "count(1..1000000000, # > 0) > 0", "range needs constant integer bounds"},
		{"range from an answer", "count(1..int(a1 * 1000000), # > 0) > 0", "range needs constant integer bounds"},
		{"nested loops", "count(1..10000, count(1..10000, # > 0) > 0) > 0", "too costly"},
		{"string growth", `reduce(1..1000, #acc + "xxxxxxxx", "") != ""`, "joined with + inside a predicate"},
		{"clock", "now().Year() > 2000", "unknown"},
		{"repeat", `len(repeat("x", 100000000)) > 0`, "unknown"},
		{"replace", `len(replace("x", "x", "xx")) > 0`, "unknown"},
		{"long source", strings.Repeat("a1 + ", 2000) + "a1 > 0", "characters long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(baseDoc, "when: a3 > 0", "when: '"+strings.ReplaceAll(c.expr, "'", "''")+"'", 1)
			_, err := engine.Load("hostile.yaml", []byte(doc))
			ps, ok := engine.AsProblems(err)
			if !ok || len(ps) == 0 {
				t.Fatalf("loaded, or error is not a problem list: %v", err)
			}
			found := false
			for _, p := range ps {
				if strings.Contains(p.Message, c.want) && p.Path == "scoring.warnings[0].when" && p.Line > 1 {
					found = true
				}
			}
			if !found {
				t.Fatalf("problems %v, want one at scoring.warnings[0].when mentioning %q", ps, c.want)
			}
		})
	}
}

// Ordinary predicates over the items and small constant ranges stay allowed.
func TestBoundedPredicatesAreAllowed(t *testing.T) {
	t.Parallel()
	for _, e := range []string{"count(items, # >= 2) >= 2", "any(0..2, # == a1)", "len(filter(items, # > 0)) > 1", "sum(map(items, # * 2)) > 3"} {
		doc := strings.Replace(baseDoc, "when: a3 > 0", "when: '"+e+"'", 1)
		doc = strings.Replace(doc, "      warnings: [risk]\n", "", 1)
		if _, err := engine.Compile("ok.yaml", []byte(doc)); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
}
