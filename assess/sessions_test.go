package assess_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"xinling/assess"
	"xinling/engine"
	"xinling/internal/testkit"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

func code(err error) string {
	var e *assess.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// Two services over one store stand for two server instances behind a load
// balancer: each caches sessions, and neither cache may mislead it.
// fixture opens a store in a temporary directory, and options on a
// settable clock with the given session idle timeout.
func fixture(t *testing.T, idle time.Duration) (*engine.Library, store.Store, *testkit.Clock, assess.Options) {
	t.Helper()
	lib, err := testkit.Library()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Through the sealing layer, as in xinling serve.
	st := sealed.Wrap(db, storetest.TestKeys(t, storetest.TestKeySpec))
	clk := testkit.NewClock(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
	opts := assess.Options{Now: clk.Now, Sessions: assess.SessionConfig{IdleTimeout: idle}}
	return lib, st, clk, opts
}

func TestTwoInstancesShareOneStore(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, time.Hour)
	a, b := assess.New(st, lib, opts).Sessions, assess.New(st, lib, opts).Sessions
	ctx := context.Background()

	v, err := a.Create(ctx, assess.CreateRequest{Instruments: []string{"gad7"}, Consent: true}, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	// Instance a caches the session; all further activity goes through b.
	for i, item := range []string{"gad7.q1", "gad7.q2", "gad7.q3"} {
		clk.Add(40 * time.Minute)
		if _, err := b.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: item, Value: 1, Seq: int64(i + 1)}); err != nil {
			t.Fatalf("answer %d via b: %v", i+1, err)
		}
	}
	// 120 minutes since a last saw activity, 0 since the last answer: a must
	// ask the store rather than expire the session on its stale cache.
	if _, err := a.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: "gad7.q4", Value: 1, Seq: 4}); err != nil {
		t.Fatalf("a expired a live session from its cache: %v", err)
	}
	for i, item := range []string{"gad7.q5", "gad7.q6", "gad7.q7"} {
		if _, err := b.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: item, Value: 0, Seq: int64(i + 5)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Submit(ctx, v.ID, v.Token, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	// a still believes the session open; the store must refuse the answer.
	if _, err := a.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: "gad7.q1", Value: 3, Seq: 99}); code(err) != assess.CodeSessionSubmitted {
		t.Fatalf("answer after submit on another instance: %v", err)
	}
	// And a's submit returns b's stored result rather than scoring again.
	sub, err := a.Submit(ctx, v.ID, v.Token, "zh-CN")
	if err != nil || len(sub.Result.Instruments) != 1 || sub.Result.Instruments[0].Scores["total"] != 4 {
		t.Fatalf("submit on a after b: %+v, %v", sub, err)
	}
	clk.Add(2 * time.Hour)
	if _, err := a.Get(ctx, v.ID, v.Token, "en"); err != nil {
		t.Fatalf("a submitted session stays readable after the idle time: %v", err)
	}
}

func TestInstrumentVersionIsPinned(t *testing.T) {
	t.Parallel()
	lib, st, _, opts := fixture(t, time.Hour)
	s := assess.New(st, lib, opts).Sessions
	v, err := s.Create(context.Background(), assess.CreateRequest{Instruments: []string{"phq9"}, Consent: true}, "en")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := st.GetSession(context.Background(), v.ID)
	if err != nil || len(sess.Instruments) != 1 || sess.Instruments[0] != "phq9@1.1.0" {
		t.Fatalf("stored instruments %v, %v; want the version pinned", sess.Instruments, err)
	}
	if len(sess.TokenHash) != 32 || string(sess.TokenHash) == v.Token {
		t.Fatal("the token must be stored only as its hash")
	}
}

// A resident who answers PHQ-9 item 9 and closes the browser must still
// reach a counsellor once the session is abandoned.
func TestAbandonedRiskAnswersAreFiled(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, 72*time.Hour)
	s := assess.New(st, lib, opts).Sessions
	ctx := context.Background()
	start := func(answers map[string]float64) *assess.SessionView {
		v, err := s.Create(ctx, assess.CreateRequest{Instruments: []string{"phq9"}, Consent: true}, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		seq := int64(0)
		for item, val := range answers {
			seq++
			if _, err := s.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: item, Value: val, Seq: seq}); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	risky := start(map[string]float64{"phq9.q1": 1, "phq9.q9": 2})
	calm := start(map[string]float64{"phq9.q1": 1, "phq9.q2": 0})
	if n, err := s.SweepAbandoned(ctx); err != nil || n != 0 {
		t.Fatalf("before the idle time: %d filed, %v", n, err)
	}
	clk.Add(73 * time.Hour)
	if n, err := s.SweepAbandoned(ctx); err != nil || n != 1 {
		t.Fatalf("after the idle time: %d filed, %v; want the one with item 9", n, err)
	}
	ws, _, err := st.ListWarnings(ctx, store.WarningFilter{}, store.Page{})
	if err != nil || len(ws) != 1 || ws[0].Level != 1 || ws[0].SessionID != risky.ID || ws[0].Reasons[0].Rule != "item9" {
		t.Fatalf("queue after the sweep: %+v, %v", ws, err)
	}
	results, _, _ := st.ListResults(ctx, store.ResultFilter{SessionID: risky.ID}, store.Page{})
	if len(results) != 1 || len(results[0].Scores) != 0 || results[0].Flags[len(results[0].Flags)-1] != assess.FlagIncomplete {
		t.Fatalf("filed result: %+v", results)
	}
	if n, _ := s.SweepAbandoned(ctx); n != 0 {
		t.Fatalf("a second sweep filed %d again", n)
	}
	if sess, _ := st.GetSession(ctx, calm.ID); sess.State != store.SessionOpen {
		t.Fatalf("a session without a risk answer was filed: %s", sess.State)
	}
}
