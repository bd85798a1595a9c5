package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"xinling/store"
)

func testSessions(t *testing.T, s store.Store) {
	tree(t, s)
	sess := session(t, s, "class1", "")
	if sess.State != store.SessionOpen || sess.UnitPath != "/city/county/school/class1/" {
		t.Fatalf("CreateSession = %+v", sess)
	}
	_, err := s.CreateSession(ctx, store.Session{ID: sess.ID, CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateSession(ctx, store.Session{ID: "x", UnitID: "nope", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateSession(ctx, store.Session{})
	wantErr(t, err, store.ErrInvalid)

	got, err := s.GetSession(ctx, sess.ID)
	must(t, err)
	if !eqStrings(got.Instruments, []string{"phq9"}) || !got.Consent || string(got.TokenHash) != "h" || !got.CreatedAt.Equal(T0) {
		t.Fatalf("GetSession = %+v", got)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q1", Value: 2, Seq: 1, At: at(time.Minute)})
	must(t, err)
	got, err = s.GetSession(ctx, sess.ID)
	must(t, err)
	if !got.LastActiveAt.Equal(at(time.Minute)) {
		t.Fatalf("LastActiveAt = %v, want %v", got.LastActiveAt, at(time.Minute))
	}
	// Within ActivityResolution a backend may skip the update, never more.
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q2", Value: 1, Seq: 1, At: at(time.Minute + 10*time.Second)})
	must(t, err)
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q3", Value: 1, Seq: 1, At: at(2 * time.Minute)})
	must(t, err)
	got, err = s.GetSession(ctx, sess.ID)
	must(t, err)
	if lag := at(2 * time.Minute).Sub(got.LastActiveAt); lag < 0 || lag > store.ActivityResolution {
		t.Fatalf("LastActiveAt = %v lags the last answer at %v by more than %v", got.LastActiveAt, at(2*time.Minute), store.ActivityResolution)
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: "nope", Item: "q1", Seq: 1, At: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ListAnswers(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	other := session(t, s, "class3", "")
	list, _, err := s.ListSessions(ctx, store.SessionFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != sess.ID {
		t.Fatalf("ListSessions(school) = %d sessions", len(list))
	}
	_, err = s.Submit(ctx, store.Submission{SessionID: other.ID, At: at(time.Hour)})
	must(t, err)
	list, _, err = s.ListSessions(ctx, store.SessionFilter{State: store.SessionSubmitted}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != other.ID || !list[0].SubmittedAt.Equal(at(time.Hour)) {
		t.Fatalf("ListSessions(submitted) = %+v", list)
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: other.ID, Item: "q1", Seq: 1, At: at(2 * time.Hour)})
	wantErr(t, err, store.ErrSessionClosed)
}

func testAnswerIdempotency(t *testing.T, s store.Store) {
	sess := session(t, s, "", "")
	save := func(item string, v float64, seq int64) (store.AnswerOutcome, error) {
		return s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: item, Value: v, Seq: seq, At: at(time.Duration(seq) * time.Second)})
	}
	o, err := save("q1", 1, 5)
	must(t, err)
	if o.Status != store.AnswerSaved || o.Current.Value != 1 {
		t.Fatalf("first save = %+v", o)
	}
	o, err = save("q1", 1, 5) // replay
	must(t, err)
	if o.Status != store.AnswerReplay || o.Current.Seq != 5 || o.Current.Value != 1 {
		t.Fatalf("replay = %+v", o)
	}
	o, err = save("q1", 3, 7) // newer wins
	must(t, err)
	if o.Status != store.AnswerSaved || o.Current.Value != 3 {
		t.Fatalf("newer = %+v", o)
	}
	o, err = save("q1", 0, 6) // arrived late: ignored
	wantErr(t, err, store.ErrStaleSeq)
	if o.Status != store.AnswerStale || o.Current.Seq != 7 || o.Current.Value != 3 {
		t.Fatalf("stale = %+v", o)
	}
	o, err = save("q1", 9, 7) // same seq, other value: still a replay, nothing changes
	must(t, err)
	if o.Status != store.AnswerReplay || o.Current.Value != 3 {
		t.Fatalf("same seq other value = %+v", o)
	}
	answers, err := s.ListAnswers(ctx, sess.ID)
	must(t, err)
	if len(answers) != 1 || answers[0].Value != 3 || answers[0].Seq != 7 || !answers[0].At.Equal(at(7*time.Second)) {
		t.Fatalf("ListAnswers = %+v", answers)
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Seq: 1})
	wantErr(t, err, store.ErrInvalid)
}

func testAnswerBatch(t *testing.T, s store.Store) {
	sess := session(t, s, "", "")
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q2", Value: 1, Seq: 10, At: T0})
	must(t, err)
	out, err := s.SaveAnswers(ctx, sess.ID, []store.Answer{
		{Item: "q1", Value: 2, Seq: 1, At: T0},
		{Item: "q2", Value: 3, Seq: 4, At: T0},
		{Item: "q3", Value: 0, Seq: 2, At: T0},
	})
	must(t, err)
	want := []store.AnswerStatus{store.AnswerSaved, store.AnswerStale, store.AnswerSaved}
	for i, o := range out {
		if o.Status != want[i] {
			t.Fatalf("batch outcome %d = %s, want %s", i, o.Status, want[i])
		}
	}
	answers, err := s.ListAnswers(ctx, sess.ID)
	must(t, err)
	if len(answers) != 3 || answers[1].Item != "q2" || answers[1].Value != 1 {
		t.Fatalf("after batch = %+v", answers)
	}
	_, err = s.SaveAnswers(ctx, "nope", []store.Answer{{Item: "q1", Seq: 1}})
	wantErr(t, err, store.ErrNotFound)
}

// testConcurrentAnswers saves from many goroutines into one session, each
// item written at several seqs in shuffled order: every acknowledged save
// must be reflected, and each item must end at its highest seq.
func testConcurrentAnswers(t *testing.T, s store.Store) {
	sess := session(t, s, "", "")
	const writers, items, seqs = 16, 20, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*items*seqs)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < items; i++ {
				item := fmt.Sprintf("w%02d/q%02d", w, i)
				for _, seq := range []int64{2, 1, 3} {
					_, err := s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: item, Value: float64(seq), Seq: seq, At: T0})
					if err != nil && !errors.Is(err, store.ErrStaleSeq) {
						errs <- err
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	answers, err := s.ListAnswers(ctx, sess.ID)
	must(t, err)
	if len(answers) != writers*items {
		t.Fatalf("stored %d answers, want %d", len(answers), writers*items)
	}
	for _, a := range answers {
		if a.Seq != seqs || a.Value != seqs {
			t.Fatalf("answer %s ended at seq %d value %v, want %d", a.Item, a.Seq, a.Value, seqs)
		}
	}
}

func testPurge(t *testing.T, s store.Store) {
	tree(t, s)
	old := session(t, s, "", "")
	fresh := session(t, s, "", "")
	p := person(t, s, "class1")
	kept := session(t, s, "class1", p.ID)
	for _, id := range []string{old.ID, kept.ID} {
		_, err := s.SaveAnswer(ctx, store.Answer{SessionID: id, Item: "q1", Seq: 1, At: T0})
		must(t, err)
	}
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: fresh.ID, Item: "q1", Seq: 1, At: at(48 * time.Hour)})
	must(t, err)
	n, err := s.PurgeAnonymousSessions(ctx, at(24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d sessions, want 1", n)
	}
	got, err := s.GetSession(ctx, old.ID)
	must(t, err)
	if got.State != store.SessionPurged || len(got.TokenHash) != 0 {
		t.Fatalf("purged session = %+v", got)
	}
	if a, _ := s.ListAnswers(ctx, old.ID); len(a) != 0 {
		t.Fatalf("purged session keeps %d answers", len(a))
	}
	for _, id := range []string{fresh.ID, kept.ID} {
		if a, _ := s.ListAnswers(ctx, id); len(a) != 1 {
			t.Fatalf("session %s lost its answers", id)
		}
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: old.ID, Item: "q2", Seq: 1, At: T0})
	wantErr(t, err, store.ErrSessionClosed)
	_, err = s.Submit(ctx, store.Submission{SessionID: old.ID, At: T0})
	wantErr(t, err, store.ErrSessionClosed)
}

func testIdleSessions(t *testing.T, s store.Store) {
	tree(t, s)
	idle := session(t, s, "", "")
	busy := session(t, s, "", "")
	done := session(t, s, "", "")
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: busy.ID, Item: "q1", Seq: 1, At: at(10 * time.Hour)})
	must(t, err)
	_, err = s.Submit(ctx, store.Submission{SessionID: done.ID, At: at(time.Minute), Results: []store.Result{{ID: store.NewID(), Instrument: "phq9"}}})
	must(t, err)
	got, err := s.ListIdleSessions(ctx, T0, at(5*time.Hour), 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != idle.ID || got[0].State != store.SessionOpen {
		t.Fatalf("ListIdleSessions = %+v, want only the idle open session", got)
	}
	got, err = s.ListIdleSessions(ctx, T0, at(11*time.Hour), 1)
	must(t, err)
	if len(got) != 1 || got[0].ID != idle.ID {
		t.Fatalf("limit 1 = %+v, want the least recently active", got)
	}
	got, err = s.ListIdleSessions(ctx, at(time.Hour), at(11*time.Hour), 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != busy.ID {
		t.Fatalf("from 1h = %+v, want only the session active at 10h", got)
	}
}

func testSessionToken(t *testing.T, s store.Store) {
	tree(t, s)
	sess := session(t, s, "", "")
	must(t, s.SetSessionToken(ctx, sess.ID, []byte("new")))
	got, err := s.GetSession(ctx, sess.ID)
	must(t, err)
	if string(got.TokenHash) != "new" {
		t.Fatalf("token hash %q, want the new one", got.TokenHash)
	}
	wantErr(t, s.SetSessionToken(ctx, "nope", []byte("x")), store.ErrNotFound)
	_, err = s.Submit(ctx, store.Submission{SessionID: sess.ID, At: T0, Results: []store.Result{{ID: store.NewID(), Instrument: "phq9"}}})
	must(t, err)
	wantErr(t, s.SetSessionToken(ctx, sess.ID, []byte("x")), store.ErrSessionClosed)
}

func testRescore(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "school", 3, at(time.Minute))
	oldID := w.ResultIDs[0]
	old, err := s.GetResult(ctx, oldID)
	must(t, err)
	draft := &store.WarningDraft{ID: store.NewID(), Key: "rescore:r2", Level: 2, DueAt: at(3 * time.Hour),
		Reasons: []store.Reason{{ResultID: "r2", Instrument: "phq9", Rule: "total.severe", Level: 2, Text: map[string]string{"en": "severe"}}}}
	r, nw, err := s.RescoreResult(ctx, store.Rescore{At: at(2 * time.Hour), Warning: draft,
		Result: store.Result{ID: "r2", Supersedes: oldID, Instrument: "phq9", Version: "1.1.0", ContentHash: "h2",
			Scores: map[string]float64{"total": 23}, Bands: map[string]string{"total": "severe"}, Payload: []byte(`{}`)}})
	must(t, err)
	if r.SessionID != old.SessionID || r.PersonID != old.PersonID || r.UnitPath != old.UnitPath || !r.CreatedAt.Equal(old.CreatedAt) ||
		!r.RescoredAt.Equal(at(2*time.Hour)) || r.Supersedes != oldID {
		t.Fatalf("rescored result = %+v; want the session's fields, the old time and the link", r)
	}
	if nw == nil || nw.ID == w.ID || nw.Level != 2 || !eqStrings(nw.ResultIDs, []string{"r2"}) || nw.State != store.WarningOpen {
		t.Fatalf("rescore warning = %+v; want a new open entry for the new result", nw)
	}
	got, err := s.GetResult(ctx, oldID)
	must(t, err)
	if got.SupersededBy != "r2" || got.Scores["total"] != 21 {
		t.Fatalf("old result = %+v; want it kept and marked", got)
	}
	list, _, err := s.ListResults(ctx, store.ResultFilter{SessionID: old.SessionID}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != "r2" {
		t.Fatalf("current results = %+v", list)
	}
	list, _, err = s.ListResults(ctx, store.ResultFilter{SessionID: old.SessionID, WithSuperseded: true}, store.Page{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("all results = %+v", list)
	}
	counts, err := s.UnitCounts(ctx, "/city/", T0, at(24*time.Hour))
	must(t, err)
	total := 0
	for _, c := range counts {
		total += c.Results
	}
	if total != 1 {
		t.Fatalf("a rescored assessment counted %d times", total)
	}
	_, _, err = s.RescoreResult(ctx, store.Rescore{At: at(3 * time.Hour), Result: store.Result{ID: "r3", Supersedes: oldID, Instrument: "phq9"}})
	wantErr(t, err, store.ErrConflict)
	_, _, err = s.RescoreResult(ctx, store.Rescore{At: at(3 * time.Hour), Result: store.Result{ID: "r4", Supersedes: "nope", Instrument: "phq9"}})
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.RescoreResult(ctx, store.Rescore{At: at(3 * time.Hour), Result: store.Result{ID: "r5", Instrument: "phq9"}})
	wantErr(t, err, store.ErrInvalid)
	// The original submission still replays as it was.
	out, err := s.Submit(ctx, store.Submission{SessionID: old.SessionID, At: at(4 * time.Hour), Results: []store.Result{{ID: "again", Instrument: "phq9"}}})
	must(t, err)
	if !out.Replayed || len(out.Results) != 1 || out.Results[0].ID != oldID {
		t.Fatalf("replay = %+v", out)
	}
}
