package assess_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

// A known person's second GAD-7 rises reliably from their first: the trend
// warning enters the queue like any other, linked to the earlier result.
// An anonymous self-test with the same answers has no history to compare.
func TestTrendWarningsEnterTheQueueLinkedToTheEarlierResult(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, time.Hour)
	s := assess.New(st, lib, opts).Sessions
	ctx := context.Background()
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreatePerson(ctx, store.Person{ID: "p1", UnitID: "city", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	take := func(person string, values ...float64) *assess.SubmitView {
		t.Helper()
		v, err := s.Create(ctx, assess.CreateRequest{Instruments: []string{"gad7"}, Consent: true, PersonID: person}, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		for i, val := range values {
			if _, err := s.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: fmt.Sprintf("gad7.q%d", i+1), Value: val, Seq: int64(i + 1)}); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := s.Submit(ctx, v.ID, v.Token, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(24 * time.Hour)
		return sub
	}
	take("p1", 0, 0, 0, 0, 0, 0, 1) // total 1
	take("p1", 1, 1, 1, 1, 0, 0, 0) // total 4: RCI 2.2
	take("", 1, 1, 1, 1, 0, 0, 0)   // anonymous: nothing to compare

	warnings, _, err := st.ListWarnings(ctx, store.WarningFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 {
		t.Fatalf("%d queue entries, want only the known person's trend: %+v", len(warnings), warnings)
	}
	r := warnings[0].Reasons
	if len(r) != 1 || r[0].Rule != "reliable_worsening" || r[0].Level != 3 || r[0].EarlierResultID == "" || r[0].EarlierResultID == r[0].ResultID {
		t.Fatalf("reasons %+v, want reliable_worsening linked to the earlier result", r)
	}
	earlier, _, err := st.ListResults(ctx, store.ResultFilter{PersonID: "p1"}, store.Page{})
	if err != nil || len(earlier) != 2 || earlier[0].ID != r[0].EarlierResultID || earlier[1].ID != r[0].ResultID {
		t.Fatalf("results %+v, %v: the reason must link the first result to the second", earlier, err)
	}
}
