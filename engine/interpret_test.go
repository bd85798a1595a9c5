package engine_test

import (
	"os"
	"strings"
	"testing"

	"xinling/engine"
)

func loadInterpreted(t *testing.T) (*engine.Instrument, string) {
	t.Helper()
	data, err := os.ReadFile("testdata/interpreted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := engine.Load("testdata/interpreted.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return in, string(data)
}

func TestInterpretChoosesLevelsAndLetters(t *testing.T) {
	t.Parallel()
	in, _ := loadInterpreted(t)
	res, err := in.Score(engine.Input{Answers: map[string]float64{"a1": 3, "a2": 3, "b1": 3, "b2": 2}, Sex: "f"})
	if err != nil {
		t.Fatal(err)
	}
	got := in.Interpret(res)
	if len(got) != 3 {
		t.Fatalf("got %d interpretations, want a, b and code: %v", len(got), got)
	}
	a, b, code := got[0], got[1], got[2]
	if a.Score != "a" || a.Level != "high" || a.On != "raw" || a.Value != 6 || a.Meaning.Get("zh-CN") != "高的意思" || a.Label.Get("en") != "High" {
		t.Errorf("a: %+v", a)
	}
	// b = 5 on women's norms (mean 4, SD 1) is T 60: above the norm, read on T.
	if b.Score != "b" || b.Level != "high" || b.On != "t" || b.Value != 60 || b.Source != "T-score bands written for the test" {
		t.Errorf("b: %+v", b)
	}
	if code.Text != "code" || len(code.Letters) != 2 || code.Letters[0].Letter != "A" || code.Letters[0].Fields.Get("zh-CN") != "数学" {
		t.Errorf("code: %+v", code)
	}

	// Without a sex no norm group fits: the raw fallback is used.
	res, err = in.Score(engine.Input{Answers: map[string]float64{"a1": 1, "a2": 2, "b1": 3, "b2": 2}})
	if err != nil {
		t.Fatal(err)
	}
	got = in.Interpret(res)
	if got[0].Level != "low" || got[1].Level != "raw_high" || got[1].On != "raw" {
		t.Errorf("fallback: %v", got)
	}

	res, err = in.Score(engine.Input{Answers: map[string]float64{"a1": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Interpret(res); got != nil {
		t.Errorf("an incomplete result was interpreted: %v", got)
	}
}

func TestInterpretationProblems(t *testing.T) {
	t.Parallel()
	_, doc := loadInterpreted(t)
	swap := func(old, new string) string {
		t.Helper()
		if strings.Count(doc, old) != 1 {
			t.Fatalf("%q does not occur once", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	cases := []struct {
		name, doc, want string
	}{
		{"unreachable level", swap("min: 5\n          label: {zh-CN: 偏高, en: High}\n          meaning: {zh-CN: 高的意思", "min: 7\n          label: {zh-CN: 偏高, en: High}\n          meaning: {zh-CN: 高的意思"),
			`scoring.interpretations[0].levels[2]: level "high" is reached by no answers (score a takes 2 to 6, read on the raw scale)`},
		{"unreachable T level", swap("min: 55", "min: 90"), `scoring.interpretations[1].levels[1]: level "high" is reached by no answers`},
		{"levels out of order", swap("min: 4", "min: 6"), `scoring.interpretations[0].levels[2].min: min 5 is not above the previous level's min 6`},
		{"first level with a min", swap("        - code: low\n          label: {zh-CN: 偏低, en: Low}\n          meaning: {zh-CN: 低的意思", "        - code: low\n          min: 1\n          label: {zh-CN: 偏低, en: Low}\n          meaning: {zh-CN: 低的意思"),
			"scoring.interpretations[0].levels[0].min: the first level has no min"},
		{"later level without a min", swap("          min: 4\n", ""), "scoring.interpretations[0].levels[1]: every level after the first needs a min"},
		{"unknown score", swap("    - score: a\n", "    - score: c\n"), `scoring.interpretations[0].score: interpretation of unknown score "c"`},
		{"T without norms", swap("    - score: a\n", "    - score: a\n      on: t\n"), `scoring.interpretations[0].on: levels on t need norms for score "a"`},
		{"score and text", swap("    - text: code\n", "    - text: code\n      score: a\n"), "scoring.interpretations[3]: an interpretation names either a score or a text output"},
		{"repeated letter", swap("        - letter: B\n", "        - letter: A\n"), `scoring.interpretations[3].letters[1].letter: letter "A" repeats letters[0]`},
		{"letter of two characters", swap("        - letter: B\n", "        - letter: BB\n"), "scoring.interpretations[3].letters[1].letter"},
		{"a level without meaning", swap("          meaning: {zh-CN: 中的意思, en: What middle means}\n", ""), "scoring.interpretations[0].levels[1].meaning"},
		{"a meaning in one locale only", swap("meaning: {zh-CN: 中的意思, en: What middle means}", "meaning: {zh-CN: 中的意思}"), "scoring.interpretations[0].levels[1].meaning"},
		{"vector expects another level", swap("interpretations: {a: high, b: raw_low}", "interpretations: {a: middle, b: raw_low}"), `interpretation of a = "high", expected "middle"`},
		{"unknown field", swap("      source: cut points written for the test\n", "      source: cut points written for the test\n      cutoffs: 3\n"), `unknown field "cutoffs"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			found := false
			lines := loadProblems(t, c.doc)
			for _, l := range lines {
				if strings.Contains(l, c.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem contains %q; got:\n%s", c.want, strings.Join(lines, "\n"))
			}
		})
	}
}

func TestScoreRange(t *testing.T) {
	t.Parallel()
	in, _ := loadInterpreted(t)
	if lo, hi, ok := in.ScoreRange("a"); !ok || lo != 2 || hi != 6 {
		t.Errorf("range of a = %v..%v (%v), want 2..6", lo, hi, ok)
	}
	if _, _, ok := in.ScoreRange("nope"); ok {
		t.Error("an unknown score has a range")
	}
}
