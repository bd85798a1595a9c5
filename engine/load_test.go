package engine_test

import (
	"strings"
	"testing"

	"xinling/engine"
)

// baseDoc is a small valid document; each test breaks one thing in it.
const baseDoc = `id: mini
version: 1.0.0
title: {zh-CN: 测试量表, en: Test scale}
kind: screening
minutes: 1
source: written for engine tests
license: test only
translation: unvalidated
instructions: {zh-CN: 请回答, en: Please answer}
options:
  - {value: 0, label: {zh-CN: 否, en: "No"}}
  - {value: 1, label: {zh-CN: 有时, en: Sometimes}}
  - {value: 2, label: {zh-CN: 经常, en: Often}}
items:
  - id: a1
    text: {zh-CN: 题一, en: One}
  - id: a2
    text: {zh-CN: 题二, en: Two}
  - id: a3
    text: {zh-CN: 题三, en: Three}
scoring:
  scores:
    - id: total
      expr: sum(items)
  bands:
    total:
      - {code: low, min: 0, max: 2, label: {zh-CN: 低, en: Low}}
      - {code: high, min: 3, max: 6, label: {zh-CN: 高, en: High}}
  warnings:
    - id: risk
      level: 1
      when: a3 > 0
      reason: {zh-CN: 风险, en: Risk}
vectors:
  - name: zero
    answers: [0, 0, 0]
    expect:
      scores: {total: 0}
      bands: {total: low}
  - name: risk
    answers: [2, 2, 1]
    expect:
      scores: {total: 5}
      bands: {total: high}
      warnings: [risk]
`

func TestBaseDocLoads(t *testing.T) {
	t.Parallel()
	in, err := engine.Load("mini.yaml", []byte(baseDoc))
	if err != nil {
		t.Fatal(err)
	}
	if in.ID() != "mini" || in.Version() != "1.0.0" || len(in.Hash) != 64 {
		t.Fatalf("got id %q version %q hash %q", in.ID(), in.Version(), in.Hash)
	}
}

// mutate replaces old (which must occur once) with new in baseDoc.
func mutate(t *testing.T, old, new string) string {
	t.Helper()
	if n := strings.Count(baseDoc, old); n != 1 {
		t.Fatalf("%q occurs %d times in baseDoc", old, n)
	}
	return strings.Replace(baseDoc, old, new, 1)
}

func loadProblems(t *testing.T, doc string) []string {
	t.Helper()
	_, err := engine.Load("scales/mini.yaml", []byte(doc))
	if err == nil {
		t.Fatal("document was accepted")
	}
	ps, ok := engine.AsProblems(err)
	if !ok {
		t.Fatalf("error is not Problems: %v", err)
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return lines
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		doc      string
		problems []string // each must appear, as a substring of one problem line
	}{
		{
			name:     "expression with unknown name points at file line and column",
			doc:      mutate(t, "when: a3 > 0", "when: itme9 > 0"),
			problems: []string{`scales/mini.yaml:32:13: scoring.warnings[0].when: unknown name "itme9"`},
		},
		{
			name:     "unknown name inside a longer expression",
			doc:      mutate(t, "expr: sum(items)", "expr: sum(items) + bogus"),
			problems: []string{`scales/mini.yaml:24:26: scoring.scores[0].expr: unknown name "bogus"`},
		},
		{
			name:     "yaml syntax error",
			doc:      mutate(t, "kind: screening", "kind: [screening"),
			problems: []string{"scales/mini.yaml:5:1:"},
		},
		{
			name: "every unknown field is reported",
			doc:  mutate(t, "kind: screening", "kind: screening\nauthor: x\nextra: y"),
			problems: []string{
				`scales/mini.yaml:5:1: author: unknown field "author"`,
				`scales/mini.yaml:6:1: extra: unknown field "extra"`,
			},
		},
		{
			name:     "unknown nested field",
			doc:      mutate(t, "    text: {zh-CN: 题二, en: Two}", "    text: {zh-CN: 题二, en: Two}\n    revrse: true"),
			problems: []string{`items[1].revrse: unknown field "revrse"`},
		},
		{
			name:     "missing required field",
			doc:      mutate(t, "license: test only\n", ""),
			problems: []string{"license: is required"},
		},
		{
			name:     "text without English",
			doc:      mutate(t, "title: {zh-CN: 测试量表, en: Test scale}", "title: {zh-CN: 测试量表}"),
			problems: []string{"scales/mini.yaml:3:9: title: needs non-empty text in both zh-CN and en"},
		},
		{
			name:     "bad version and kind together",
			doc:      strings.Replace(mutate(t, "version: 1.0.0", "version: one"), "kind: screening", "kind: quiz", 1),
			problems: []string{`version: "one" is not a semantic version`, "kind: quiz is not one of"},
		},
		{
			name:     "duplicate item id",
			doc:      mutate(t, "  - id: a2", "  - id: a1"),
			problems: []string{`scales/mini.yaml:17:9: items[1].id: duplicate item id "a1" (also items[0])`},
		},
		{
			name:     "repeated option value",
			doc:      mutate(t, "  - {value: 2, label: {zh-CN: 经常, en: Often}}", "  - {value: 1, label: {zh-CN: 经常, en: Often}}"),
			problems: []string{"options[2].value: value 1 repeats options[1]"},
		},
		{
			name:     "score expression of the wrong type",
			doc:      mutate(t, "expr: sum(items)", "expr: a1 > 0"),
			problems: []string{"scoring.scores[0].expr: expected float64, but got bool"},
		},
		{
			name:     "warning condition of the wrong type",
			doc:      mutate(t, "when: a3 > 0", "when: a3 + 1"),
			problems: []string{"scoring.warnings[0].when: expected bool, but got float64"},
		},
		{
			name: "a score may not read a later score",
			doc: mutate(t, "      expr: sum(items)", `      expr: sum(items) + later
    - id: later
      expr: "1"`),
			problems: []string{`scoring.scores[0].expr: unknown name "later"`},
		},
		{
			name:     "score id colliding with an item id",
			doc:      mutate(t, "    - id: total", "    - id: a1"),
			problems: []string{`scoring.scores[0].id: duplicate id "a1" (already an item)`},
		},
		{
			name:     "reserved name as an id",
			doc:      mutate(t, "  - id: a2", "  - id: sum"),
			problems: []string{`items[1].id: "sum" is a reserved name`},
		},
		{
			name:     "display condition may not read a later item",
			doc:      mutate(t, "    text: {zh-CN: 题一, en: One}", "    text: {zh-CN: 题一, en: One}\n    when: a2 > 0"),
			problems: []string{`items[0].when: unknown name "a2"`},
		},
		{
			name:     "bands for an unknown score",
			doc:      mutate(t, "    total:\n", "    totl:\n"),
			problems: []string{`scoring.bands.totl: bands for unknown score "totl"`},
		},
		{
			name:     "overlapping bands",
			doc:      mutate(t, "{code: high, min: 3,", "{code: high, min: 2,"),
			problems: []string{`band "high" overlaps band "low"`},
		},
		{
			name:     "a gap between bands that a score can reach",
			doc:      mutate(t, "{code: high, min: 3,", "{code: high, min: 4,"),
			problems: []string{"scoring.bands.total: score total = 3 falls in no band"},
		},
		{
			name:     "bands that do not reach the maximum",
			doc:      mutate(t, "min: 3, max: 6", "min: 3, max: 5"),
			problems: []string{"scoring.bands.total: score total = 6 falls in no band"},
		},
		{
			name:     "a failing vector",
			doc:      mutate(t, "      scores: {total: 5}", "      scores: {total: 4}"),
			problems: []string{`scales/mini.yaml:40:5: vectors[1]: "risk": score total = 5, expected 4`},
		},
		{
			name:     "a vector missing an expected warning",
			doc:      mutate(t, "      warnings: [risk]\n", ""),
			problems: []string{`vectors[1]: "risk": warnings [risk], expected []`},
		},
		{
			name:     "a vector with the wrong number of answers",
			doc:      mutate(t, "answers: [0, 0, 0]", "answers: [0, 0]"),
			problems: []string{"mini shows 3 items to this respondent with these answers; got 2 answers"},
		},
		{
			name:     "superseding a more urgent warning",
			doc:      mutate(t, "      reason: {zh-CN: 风险, en: Risk}", "      reason: {zh-CN: 风险, en: Risk}\n    - id: mild\n      level: 3\n      when: a1 > 0\n      reason: {zh-CN: 轻, en: Mild}\n      supersedes: [risk]"),
			problems: []string{`level 3 warning cannot supersede the more urgent level 1 warning "risk"`},
		},
		{
			name:     "duplicate warning id",
			doc:      mutate(t, "      reason: {zh-CN: 风险, en: Risk}", "      reason: {zh-CN: 风险, en: Risk}\n    - id: risk\n      level: 2\n      when: a1 > 1\n      reason: {zh-CN: 风险, en: Risk}"),
			problems: []string{`scoring.warnings[1].id: duplicate warning id "risk"`},
		},
		{
			name:     "prorate with a max that allows no answers",
			doc:      mutate(t, "scoring:\n", "scoring:\n  missing: {policy: prorate, max: 3}\n"),
			problems: []string{"scoring.missing.max: prorate needs max between 1 and 2"},
		},
		{
			name:     "empty document",
			doc:      "",
			problems: []string{"scales/mini.yaml:1:1: empty document"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := loadProblems(t, c.doc)
			for _, want := range c.problems {
				found := false
				for _, line := range got {
					if strings.Contains(line, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem contains %q; got:\n%s", want, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestLibraryReportsUnknownFollowUp(t *testing.T) {
	t.Parallel()
	doc := mutate(t, "      reason: {zh-CN: 风险, en: Risk}", "      reason: {zh-CN: 风险, en: Risk}\n      follow_up: nosuch")
	in, err := engine.Load("scales/mini.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	lib := engine.NewLibrary()
	if err := lib.Add(in); err != nil {
		t.Fatal(err)
	}
	ps := lib.CheckReferences()
	if len(ps) != 1 || ps[0].String() != `scales/mini.yaml:34:18: scoring.warnings[0].follow_up: follow_up names unknown instrument "nosuch"` {
		t.Fatalf("got %v", ps)
	}
	if err := lib.Add(in); err == nil {
		t.Fatal("adding the same id and version twice was accepted")
	}
}

func TestLibraryVersions(t *testing.T) {
	t.Parallel()
	lib := engine.NewLibrary()
	for _, v := range []string{"1.10.0", "1.2.0", "1.9.1"} {
		in, err := engine.Load("mini.yaml", []byte(strings.Replace(baseDoc, "version: 1.0.0", "version: "+v, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.Add(in); err != nil {
			t.Fatal(err)
		}
	}
	latest, _ := lib.Get("mini", "")
	if latest.Version() != "1.10.0" {
		t.Fatalf("latest is %s, want 1.10.0 (semantic, not string, order)", latest.Version())
	}
	old, ok := lib.Get("mini", "1.2.0")
	if !ok || old.Version() != "1.2.0" {
		t.Fatal("could not get an older version")
	}
	if byHash, ok := lib.GetHash("mini", old.Hash); !ok || byHash != old {
		t.Fatal("could not find a version by its content hash")
	}
	if _, ok := lib.Get("mini", "2.0.0"); ok {
		t.Fatal("found a version that does not exist")
	}
}
