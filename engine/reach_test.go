package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"xinling/engine"
)

// ninetyItems is a 90-item document scored 1 to 5 (an SCL-90 shape) with
// the given bands on its total.
func ninetyItems(bands string) string {
	var b strings.Builder
	b.WriteString(`id: ninety
version: 1.0.0
title: {zh-CN: 九十题, en: Ninety items}
kind: screening
minutes: 20
source: written for engine tests
license: test only
translation: unvalidated
instructions: {zh-CN: 请回答, en: Please answer}
options:
`)
	for v := 1; v <= 5; v++ {
		fmt.Fprintf(&b, "  - {value: %d, label: {zh-CN: 选项%d, en: Option %d}}\n", v, v, v)
	}
	b.WriteString("items:\n")
	for i := 1; i <= 90; i++ {
		fmt.Fprintf(&b, "  - {id: q%d, text: {zh-CN: 第%d题, en: Item %d}}\n", i, i, i)
	}
	b.WriteString("scoring:\n  scores:\n    - {id: total, expr: sum(items)}\n  bands:\n    total:\n" + bands)
	b.WriteString("vectors:\n  - name: lowest\n    answers: [" + strings.TrimSuffix(strings.Repeat("1, ", 90), ", ") + "]\n    expect: {scores: {total: 90}}\n")
	return b.String()
}

// The gap between 159 and 161 is never hit by random answers (their
// totals cluster around 270), so only an exact check finds it.
func TestCoverageProofFindsAGapSamplingMisses(t *testing.T) {
	t.Parallel()
	doc := ninetyItems(`      - {code: low, min: 90, max: 159, label: {zh-CN: 低, en: Low}}
      - {code: high, min: 161, max: 450, label: {zh-CN: 高, en: High}}
`)
	_, err := engine.Load("ninety.yaml", []byte(doc))
	ps, ok := engine.AsProblems(err)
	if !ok {
		t.Fatalf("loaded a document whose bands miss 160: %v", err)
	}
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "total = 160 falls in no band") || ps[0].Path != "scoring.bands.total" {
		t.Fatalf("problems %v, want one saying total = 160 falls in no band", ps)
	}
}

func TestCoverageProofProvesASound(t *testing.T) {
	t.Parallel()
	doc := ninetyItems(`      - {code: low, min: 90, max: 160, label: {zh-CN: 低, en: Low}}
      - {code: high, min: 161, max: 450, label: {zh-CN: 高, en: High}}
`)
	in, err := engine.Load("ninety.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cov := in.Coverage()
	if len(cov) != 1 || !cov[0].Proven || cov[0].Values != 361 {
		t.Fatalf("coverage %+v, want total proven over its 361 values", cov)
	}
}

// Fractional values a pro-rated total can take are checked too: with one
// of three 0–2 items missing the total is 1.5 times the other two, so 1.5
// is reachable, though no complete answer reaches it.
func TestCoverageProofCoversProratedValues(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(baseDoc, "scoring:\n", "scoring:\n  missing: {policy: prorate, max: 1}\n", 1)
	doc = strings.Replace(doc, "{code: low, min: 0, max: 2,", "{code: low, min: 0, max: 1,", 1)
	doc = strings.Replace(doc, "{code: high, min: 3,", "{code: high, min: 2,", 1)
	in, err := engine.Load("prorate.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("loaded with a gap at 1.5; coverage %+v", in.Coverage())
	}
	if !strings.Contains(err.Error(), "total = 1.5 falls in no band") {
		t.Fatal(err)
	}
	doc = strings.Replace(doc, "{code: high, min: 2,", "{code: high, min: 1.5,", 1)
	in, err = engine.Load("prorate.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c := in.Coverage(); len(c) != 1 || !c[0].Proven || c[0].Values != 7+5 {
		t.Fatalf("coverage %+v, want 7 complete and 5 pro-rated values proven", c)
	}
}

// A score the analysis cannot reduce to one sum says so, and is still
// searched at its band edges.
func TestCoverageSaysWhatItCannotProve(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(baseDoc, "expr: sum(items)", "expr: 'count(items, # > 0) + a1 * 0'", 1)
	doc = strings.Replace(doc, "{code: low, min: 0, max: 2,", "{code: low, min: 0, max: 1,", 1)
	doc = strings.Replace(doc, "{code: high, min: 3, max: 6,", "{code: high, min: 3, max: 3,", 1)
	_, err := engine.Load("count.yaml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "total = 2 falls in no band") {
		t.Fatalf("err %v, want the aimed search to find total = 2", err)
	}
	doc = strings.Replace(doc, "{code: high, min: 3, max: 3,", "{code: high, min: 2, max: 3,", 1)
	doc = strings.Replace(doc, "scores: {total: 0}", "scores: {total: 0}", 1)
	doc = strings.Replace(doc, "scores: {total: 5}", "scores: {total: 3}", 1)
	in, err := engine.Load("count.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c := in.Coverage(); len(c) != 1 || c[0].Proven || !strings.Contains(c[0].Note, "sampled, not proven") {
		t.Fatalf("coverage %+v, want a sampled note", c)
	}
}

// Bands the check could not prove and that miss a value must not fail a
// respondent's submit: the score stands, marked unbanded.
func TestScoreOutsideEveryBandIsKept(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(baseDoc, "{code: high, min: 3, max: 6,", "{code: high, min: 3, max: 5,", 1)
	doc = strings.Replace(doc, "label: {zh-CN: 高, en: High}}", "label: {zh-CN: 高, en: High}, warning: {level: 2, reason: {zh-CN: 高, en: High}}}", 1)
	doc = strings.Replace(doc, "      warnings: [risk]\n", "      warnings: [risk, total.high]\n", 1)
	if _, err := engine.Load("gap.yaml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "total = 6 falls in no band") {
		t.Fatalf("the check missed total = 6: %v", err)
	}
	in, err := engine.CompileUnchecked("gap.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Score(engine.Input{Answers: map[string]float64{"a1": 2, "a2": 2, "a3": 2}})
	if err != nil {
		t.Fatalf("submit failed: %v", err)
	}
	if v, _ := res.Score("total"); v != 6 || len(res.Unbanded) != 1 || res.Unbanded[0].Score != "total" {
		t.Fatalf("result %+v, want total 6 kept and marked unbanded", res)
	}
	if _, ok := res.Band("total"); ok {
		t.Fatal("an unbanded score got a band")
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Rule != "risk" {
		t.Fatalf("warnings %+v, want the item rule to fire as ever", res.Warnings)
	}
}
