package engine_test

import (
	"slices"
	"strings"
	"testing"

	"xinling/engine"
)

const specialDoc = `id: sp
version: 1.0.0
title: {zh-CN: 测试, en: Test}
kind: screening
minutes: 1
source: A test document written for this test alone.
license: Written for this test; no licence needed.
translation: validated
instructions: {zh-CN: 请作答, en: Answer}
options:
  - value: 0
    label: {zh-CN: 否, en: "No"}
  - value: 1
    label: {zh-CN: 是, en: "Yes"}
items:
  - id: q1
    text: {zh-CN: 一, en: One}
  - id: q2
    text: {zh-CN: 二, en: Two}
    special: suicide
scoring:
  scores:
    - id: total
      expr: q1 + q2
  warnings:
    - id: sleep
      level: 3
      when: q1 > 0
      reason: {zh-CN: 睡眠, en: Sleep}
    - id: death
      level: 1
      when: q2 > 0
      reason: {zh-CN: 第二题阳性, en: Item 2 positive}
    - id: high
      level: 2
      when: total > 1
      reason: {zh-CN: 总分高, en: High total}
vectors:
  - name: none
    answers: [0, 0]
    expect: {scores: {total: 0}}
`

// A marked item's rules are the suicide rules; the unmarked item's
// item-only rule and a score rule are not.
func TestSpecialSuicideItem(t *testing.T) {
	in, err := engine.Load("sp.yaml", []byte(specialDoc))
	if err != nil {
		t.Fatal(err)
	}
	if got := in.SuicideRules(); !slices.Equal(got, []string{"death"}) {
		t.Fatalf("suicide rules %v, want [death]", got)
	}
	// Without the mark every item-only rule counts.
	unmarked := strings.Replace(specialDoc, "    special: suicide\n", "", 1)
	in, err = engine.Load("sp.yaml", []byte(unmarked))
	if err != nil {
		t.Fatal(err)
	}
	if got := in.SuicideRules(); !slices.Equal(got, []string{"sleep", "death"}) {
		t.Fatalf("suicide rules %v, want [sleep death]", got)
	}
}

// A mark no item-only rule reads is refused: nothing would say when the
// answer is positive. So is a kind of mark the format does not know.
func TestSpecialItemNeedsARule(t *testing.T) {
	noRule := strings.Replace(specialDoc, "      when: q2 > 0\n", "      when: total > 5\n", 1)
	if _, err := engine.Load("sp.yaml", []byte(noRule)); err == nil || !strings.Contains(err.Error(), "special") {
		t.Fatalf("want a problem at items[1].special, got %v", err)
	}
	badKind := strings.Replace(specialDoc, "special: suicide", "special: sleep", 1)
	if _, err := engine.Load("sp.yaml", []byte(badKind)); err == nil {
		t.Fatal("special: sleep loaded")
	}
}
