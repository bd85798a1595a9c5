package engine_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

func loadFile(t testing.TB, name string) *engine.Instrument {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	in, err := engine.Load(name, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return in
}

// builtins loads the library once for the whole test binary: loading runs
// every document's coverage check, which is the slow part of these tests.
var builtins = sync.OnceValues(func() (*engine.Library, error) { return engine.LoadFS(scales.FS, ".") })

func builtin(t testing.TB, id string) *engine.Instrument {
	t.Helper()
	lib, err := builtins()
	if err != nil {
		t.Fatal(err)
	}
	in, ok := lib.Get(id, "")
	if !ok {
		t.Fatalf("no built-in %q", id)
	}
	return in
}

// The licensed instruments are not built in, but their shapes must be
// expressible: these documents load only if all their vectors pass.
func TestLicensedShapesLoad(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 3 {
		t.Fatalf("expected the test documents, found %v", files)
	}
	for _, f := range files {
		in := loadFile(t, f)
		if len(in.Doc.Vectors) < 4 {
			t.Errorf("%s has only %d vectors", f, len(in.Doc.Vectors))
		}
	}
}

func TestSCL90ShapeCompoundRule(t *testing.T) {
	t.Parallel()
	in := loadFile(t, "testdata/scl90_like.yaml")
	answers := map[string]float64{}
	for i, id := range in.ItemIDs() {
		answers[id] = 1
		if i%9 == 4 { // factor 5's items
			answers[id] = 3
		}
	}
	res, err := in.Score(engine.Input{Answers: answers})
	if err != nil {
		t.Fatal(err)
	}
	f5, _ := res.Score("f5")
	total, _ := res.Score("total")
	if f5 != 3 || total != 110 || res.HighestLevel() != 3 {
		t.Fatalf("f5=%v total=%v level=%d; want a factor mean alone to fire the rule", f5, total, res.HighestLevel())
	}
}

func TestInputErrors(t *testing.T) {
	t.Parallel()
	phq9 := builtin(t, "phq9")
	phq15 := builtin(t, "phq15")
	cases := []struct {
		name string
		in   *engine.Instrument
		inp  engine.Input
		code string
		item string
	}{
		{"unknown item", phq9, engine.Input{Answers: map[string]float64{"q1": 0, "q10": 1}}, engine.CodeUnknownItem, "q10"},
		{"value not among the options", phq9, engine.Input{Answers: map[string]float64{"q1": 4}}, engine.CodeAnswerOutOfRange, "q1"},
		{"fractional value", phq9, engine.Input{Answers: map[string]float64{"q2": 1.5}}, engine.CodeAnswerOutOfRange, "q2"},
		{"NaN value", phq9, engine.Input{Answers: map[string]float64{"q2": math.NaN()}}, engine.CodeAnswerOutOfRange, "q2"},
		{"answer to a hidden item", phq15, engine.Input{Answers: map[string]float64{"q4": 1}, Sex: "m"}, engine.CodeItemHidden, "q4"},
		{"bad sex", phq9, engine.Input{Sex: "x"}, engine.CodeInvalidRespondent, ""},
		{"bad age", phq9, engine.Input{Age: -1}, engine.CodeInvalidRespondent, ""},
		{"infinite seconds", phq9, engine.Input{Seconds: math.Inf(1)}, engine.CodeInvalidRespondent, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.in.Score(c.inp)
			var ie *engine.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InputError", err)
			}
			if ie.Code != c.code || ie.Item != c.item || ie.Message == "" {
				t.Fatalf("got code %q item %q message %q; want %q %q", ie.Code, ie.Item, ie.Message, c.code, c.item)
			}
		})
	}
}

func TestAnswersInOrderFollowsDisplayConditions(t *testing.T) {
	t.Parallel()
	asq := builtin(t, "asq")
	got, err := asq.AnswersInOrder([]float64{0, 0, 0, 0}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := got["q5"]; has || len(got) != 4 {
		t.Fatalf("four noes: got %v, want item 5 left out", got)
	}
	if _, err := asq.AnswersInOrder([]float64{0, 0, 0, 0, 0}, "", 0); err == nil {
		t.Fatal("a fifth answer after four noes was accepted")
	}
	got, err = asq.AnswersInOrder([]float64{0, 1, 0, 0, 1}, "", 0)
	if err != nil || got["q5"] != 1 {
		t.Fatalf("yes on item 2: got %v, %v; want item 5 answered", got, err)
	}
	var ie *engine.InputError
	if _, err := asq.AnswersInOrder([]float64{0, 1, 0}, "", 0); !errors.As(err, &ie) || ie.Code != engine.CodeAnswerCount {
		t.Fatalf("too few answers: got %v", err)
	}
}

func TestShown(t *testing.T) {
	t.Parallel()
	asq := builtin(t, "asq")
	shown, err := asq.Shown(map[string]float64{"q1": 0}, "", 0)
	if err != nil || !slices.Equal(shown, []string{"q1", "q2", "q3", "q4"}) {
		t.Fatalf("got %v, %v", shown, err)
	}
	shown, _ = asq.Shown(map[string]float64{"q3": 1}, "", 0)
	if !slices.Equal(shown, []string{"q1", "q2", "q3", "q4", "q5"}) {
		t.Fatalf("after a yes: got %v", shown)
	}
	phq15 := builtin(t, "phq15")
	for sex, want := range map[string]int{"m": 14, "f": 15, "": 15} {
		shown, _ := phq15.Shown(nil, sex, 0)
		if len(shown) != want {
			t.Errorf("phq15 sex %q shows %d items, want %d", sex, len(shown), want)
		}
	}
}

func TestNormsAndExpressionBounds(t *testing.T) {
	t.Parallel()
	in := loadFile(t, "testdata/normed.yaml")
	score := func(sex string, age float64, answers ...float64) *engine.Result {
		t.Helper()
		a, err := in.AnswersInOrder(answers, sex, age)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Score(engine.Input{Answers: a, Sex: sex, Age: age})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// x = x1 + (5 - x2) = 3 + 3 = 6 for a woman: T = 50 + 10 * (6 - 5) / 1.5.
	r := score("f", 40, 3, 2, 1, 1)
	if len(r.Norms) != 1 || math.Abs(r.Norms[0].T-56.666666666666664) > 1e-9 || r.Norms[0].Group["en"] != "Women" {
		t.Fatalf("women's norm: %+v", r.Norms)
	}
	// Percentile is read off [5, 50] → [8, 99] linearly: 6 → 50 + 49/3.
	if p := r.Norms[0].Percentile; p == nil || math.Abs(*p-(50+49.0/3)) > 1e-9 {
		t.Fatalf("percentile %v", p)
	}
	if b, _ := r.Band("x"); b.Code != "high" {
		t.Fatalf("women's band at 6: %s", b.Code)
	}
	r = score("m", 15, 3, 2, 1)
	if r.Norms[0].Group["en"] != "Adolescents" || r.Norms[0].T != 60 || r.Norms[0].Percentile != nil {
		t.Fatalf("adolescent norm: %+v", r.Norms[0])
	}
	// Age unknown: groups with age bounds do not apply.
	r = score("m", 0, 3, 2, 1)
	if r.Norms[0].Group["en"] != "Everyone" {
		t.Fatalf("unknown age: %+v", r.Norms[0])
	}
}

func TestValidityFlagsDoNotHideTheResult(t *testing.T) {
	t.Parallel()
	in := loadFile(t, "testdata/scl90_like.yaml")
	answers := map[string]float64{}
	for _, id := range in.ItemIDs() {
		answers[id] = 5
	}
	r, err := in.Score(engine.Input{Answers: answers, Seconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, f := range r.Validity {
		flags = append(flags, f.ID)
	}
	if !slices.Equal(flags, []string{"straight_line", "too_fast"}) || !r.Complete || len(r.Scores) == 0 || len(r.Warnings) == 0 {
		t.Fatalf("flags %v complete %v scores %v warnings %v", flags, r.Complete, r.Scores, r.Warnings)
	}
}

func TestProratingAndIncompleteResults(t *testing.T) {
	t.Parallel()
	phq9 := builtin(t, "phq9")
	r, err := phq9.Score(engine.Input{Answers: map[string]float64{"q1": 3, "q2": 3, "q3": 3, "q4": 3, "q5": 3, "q6": 3, "q7": 3, "q8": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if total, _ := r.Score("total"); !r.Complete || total != 27 || !slices.Equal(r.Prorated, []string{"q9"}) {
		t.Fatalf("pro-rated: complete %v total %v prorated %v", r.Complete, total, r.Prorated)
	}
	for _, w := range r.Warnings {
		if w.Rule == "item9" {
			t.Fatal("item 9 rule fired on an imputed item 9")
		}
	}
	r, _ = phq9.Score(engine.Input{Answers: map[string]float64{"q9": 1}})
	if r.Complete || len(r.Scores) != 0 || len(r.Bands) != 0 || r.HighestLevel() != 1 || len(r.Missing) != 8 {
		t.Fatalf("incomplete with item 9 positive: %+v", r)
	}
}

func TestRescoringIsDeterministic(t *testing.T) {
	t.Parallel()
	lib, err := builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range lib.Latest() {
		sets := builtinAnswers(t, in, 20)
		again, err := engine.Load(in.File, mustRead(t, in.File))
		if err != nil {
			t.Fatal(err)
		}
		if again.Hash != in.Hash {
			t.Fatalf("%s: hash changed between loads", in.ID())
		}
		for _, a := range sets {
			r1, err1 := in.Score(engine.Input{Answers: a, Sex: "f", Age: 30})
			r2, err2 := again.Score(engine.Input{Answers: a, Sex: "f", Age: 30})
			if err1 != nil || err2 != nil || !reflect.DeepEqual(r1, r2) {
				t.Fatalf("%s: rescoring differs:\n%+v %v\n%+v %v", in.ID(), r1, err1, r2, err2)
			}
		}
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	data, err := scales.FS.ReadFile(filepath.Base(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Programs are shared and each goroutine borrows its own VM: under -race
// this finds any state that leaks between concurrent scorings.
func TestConcurrentScoringMatchesSequential(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"phq9", "dass21", "asq", "riasec"} {
		in := builtin(t, id)
		sets := builtinAnswers(t, in, 50)
		want := make([]*engine.Result, len(sets))
		for i, a := range sets {
			r, err := in.Score(engine.Input{Answers: a, Sex: "f", Age: 30})
			if err != nil {
				t.Fatal(err)
			}
			want[i] = r
		}
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 200; n++ {
					i := (n*7 + g) % len(sets)
					r, err := in.Score(engine.Input{Answers: sets[i], Sex: "f", Age: 30})
					if err != nil || !reflect.DeepEqual(r, want[i]) {
						errs <- id
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatalf("%s: concurrent result differs from sequential", e)
		}
	}
}
