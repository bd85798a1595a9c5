package assess_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

// Retention purges an old anonymous self-test's answers and leaves the
// monthly table and unit summary as they were; a zero retention keeps all.
func TestRetentionPurgesOldAnonymousSelfTests(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, 72*time.Hour)
	ctx := context.Background()
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	keepAll := opts
	opts.Sessions.AnonymousRetention = 30 * 24 * time.Hour
	svc := assess.New(st, lib, opts)
	s, kept := svc.Sessions, assess.New(st, lib, keepAll).Sessions
	v, err := s.Create(ctx, assess.CreateRequest{Instruments: []string{"gad7"}, Consent: true}, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 7; i++ {
		if _, err := s.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: "gad7.q" + string(rune('0'+i)), Value: 1, Seq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Submit(ctx, v.ID, v.Token, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	admin := &assess.Principal{StaffID: "a", Role: store.RoleAdmin, UnitID: "city", UnitPath: "/city/"}
	stats, staff := svc.Stats, svc.Staff
	figures := func() []any {
		t.Helper()
		m, err := stats.Monthly(ctx, admin, "city", "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		sum, err := staff.Summary(ctx, admin, "city")
		if err != nil {
			t.Fatal(err)
		}
		return []any{*m, *sum}
	}
	before := figures()
	if m := before[0].(assess.Monthly); m.Total.Assessments != 1 {
		t.Fatalf("the self-test is not in the monthly table: %+v", m.Total)
	}

	clk.Add(29 * 24 * time.Hour)
	if n, err := s.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("within the retention period: %d purged, %v", n, err)
	}
	clk.Add(2 * 24 * time.Hour)
	if n, err := kept.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("retention 0 purged %d, %v", n, err)
	}
	if n, err := s.PurgeExpired(ctx); err != nil || n != 1 {
		t.Fatalf("past the retention period: %d purged, %v", n, err)
	}
	if a, _ := st.ListAnswers(ctx, v.ID); len(a) != 0 {
		t.Fatalf("purged session keeps %d answers", len(a))
	}
	if after := figures(); !reflect.DeepEqual(before, after) {
		t.Fatalf("retention changed the figures:\n before %+v\n after  %+v", before, after)
	}
}
