package assess_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

// Rescoring any stored result with its own version (found by content
// hash) reproduces it byte for byte: checked over every result of a store
// filled with random answers to every public instrument, by anonymous
// residents and by known people who come back (so trend rules fire on
// history).
func TestEveryStoredResultReproduces(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, time.Hour)
	svc := assess.New(st, lib.Clone(), opts)
	cat, s := svc.Catalog, svc.Sessions
	ctx := context.Background()
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市"}); err != nil {
		t.Fatal(err)
	}
	var people []string
	for i := 0; i < 4; i++ {
		p, err := st.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: "city", Sex: "f", Age: 20 + i*10, CreatedAt: clk.Now()})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, p.ID)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var ids []string
	for _, in := range cat.Public() {
		ids = append(ids, in.ID())
	}
	take := func(person string, inst string, sex string, age int) {
		t.Helper()
		v, err := s.Create(ctx, assess.CreateRequest{Instruments: []string{inst}, Consent: true, PersonID: person, Sex: sex, Age: age}, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		seq := int64(0)
		for round := 0; round < 5; round++ { // conditional items appear as earlier ones are answered
			view, err := s.Get(ctx, v.ID, v.Token, "zh-CN")
			if err != nil {
				t.Fatal(err)
			}
			pending := 0
			for _, it := range view.Items {
				if _, done := view.Answers[it.ID]; done {
					continue
				}
				pending++
				seq++
				o := it.Options[rng.IntN(len(it.Options))]
				if _, err := s.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: it.ID, Value: o.Value, Seq: seq}); err != nil {
					t.Fatal(err)
				}
			}
			if pending == 0 {
				break
			}
		}
		if _, err := s.Submit(ctx, v.ID, v.Token, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
	}
	for round := 0; round < 6; round++ {
		for _, inst := range ids {
			take("", inst, []string{"", "m", "f"}[rng.IntN(3)], rng.IntN(80))
		}
		for _, p := range people {
			take(p, "phq9", "f", 30)
			take(p, "gad7", "f", 30)
		}
	}
	all, _, err := st.ListResults(ctx, store.ResultFilter{WithSuperseded: true}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 6*(len(ids)+8) {
		t.Fatalf("only %d results", len(all))
	}
	trendWarnings := 0
	for _, r := range all {
		ok, diff, err := cat.Reproduce(ctx, r)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Instrument, r.ID, err)
		}
		if !ok {
			t.Fatalf("%s result %s does not reproduce:\n%s", r.Instrument, r.ID, diff)
		}
		for _, rule := range []string{"reliable_worsening", "rising_three", "entered_warning_band"} {
			if containsRule(r.Payload, rule) {
				trendWarnings++
			}
		}
	}
	if trendWarnings == 0 {
		t.Fatal("no trend warning fired: the test does not cover history")
	}
	t.Logf("%d results reproduced, %d trend warnings among them", len(all), trendWarnings)
}

func containsRule(payload []byte, rule string) bool {
	return strings.Contains(string(payload), `"rule":"`+rule+`"`)
}
