package mongo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"xinling/store"
)

// The fault-injection tests stop a multi-document write after each of its
// steps, as a crash of the server would, then "restart": a new DB on the
// same database, which either retries the call (the respondent's browser)
// or runs FinishInterrupted (every server's background pass). They need a
// server (make test-mongo).

var errCrash = errors.New("injected crash")

type faultEnv struct {
	uri, name string
	t         *testing.T
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	uri := os.Getenv("XINLING_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("XINLING_TEST_MONGO_URI not set; the fault-injection tests did not run")
	}
	e := &faultEnv{uri: uri, name: "xinling_fault_" + store.NewID()[:12], t: t}
	t.Cleanup(func() {
		if d, err := Open(context.Background(), uri, e.name); err == nil {
			_ = d.Drop(context.Background())
			_ = d.Close()
		}
	})
	return e
}

// open starts a "server" on the shared database; crashAt, if set, names the
// step after which its multi-document writes stop.
func (e *faultEnv) open(crashAt string) *DB {
	e.t.Helper()
	db, err := Open(context.Background(), e.uri, e.name)
	if err != nil {
		e.t.Fatal(err)
	}
	if crashAt != "" {
		db.fault = func(step string) error {
			if step == crashAt {
				return errCrash
			}
			return nil
		}
	}
	e.t.Cleanup(func() { _ = db.Close() })
	return db
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var bg = context.Background()

// seed makes a unit tree, a person and an open session with two acknowledged
// answers, and returns the session.
func seed(t *testing.T, db *DB) store.Session {
	t.Helper()
	for _, u := range []store.Unit{{ID: "city", Kind: "city"}, {ID: "county", ParentID: "city", Kind: "county"},
		{ID: "station", ParentID: "county", Kind: "station"}} {
		if _, err := db.CreateUnit(bg, u); err != nil && !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
	}
	p, err := db.CreatePerson(bg, store.Person{ID: store.NewID(), UnitID: "station", CreatedAt: time.Now()})
	ok(t, err)
	s, err := db.CreateSession(bg, store.Session{ID: store.NewID(), TokenHash: []byte("h"), PersonID: p.ID, UnitID: "station",
		Instruments: []string{"phq9", "gad7"}, Consent: true, Locale: "zh-CN", CreatedAt: time.Now()})
	ok(t, err)
	for i, item := range []string{"phq9.q1", "phq9.q9"} {
		out, err := db.SaveAnswer(bg, store.Answer{SessionID: s.ID, Item: item, Value: 3, Seq: int64(i + 1), At: time.Now()})
		ok(t, err)
		if out.Status != store.AnswerSaved {
			t.Fatalf("answer %s: %s", item, out.Status)
		}
	}
	return s
}

// submission is one scoring of s: two results and a level-1 entry. Each
// call draws new ids, as a retried request would.
func submission(s store.Session, at time.Time) store.Submission {
	r1, r2 := store.NewID(), store.NewID()
	return store.Submission{SessionID: s.ID, At: at,
		Results: []store.Result{{ID: r1, Instrument: "phq9", Version: "1.1.0", Scores: map[string]float64{"total": 21}},
			{ID: r2, Instrument: "gad7", Version: "1.1.0", Scores: map[string]float64{"total": 9}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, DueAt: at.Add(time.Hour),
			Reasons: []store.Reason{{ResultID: r1, Instrument: "phq9", Rule: "item9", Level: 1}}}}
}

// checkNoOrphan fails if a result of s is visible without its entry.
func checkNoOrphan(t *testing.T, db *DB, s store.Session) {
	t.Helper()
	rs, _, err := db.ListResults(bg, store.ResultFilter{SessionID: s.ID}, store.Page{})
	ok(t, err)
	if len(rs) == 0 {
		return
	}
	ws, _, err := db.ListWarnings(bg, store.WarningFilter{PersonID: s.PersonID}, store.Page{})
	ok(t, err)
	for _, r := range rs {
		if !slices.ContainsFunc(ws, func(w store.Warning) bool { return slices.Contains(w.ResultIDs, r.ID) }) {
			t.Fatalf("result %s (%s) is visible without its queue entry", r.ID, r.Instrument)
		}
	}
}

// checkSubmitted checks the finished state: submitted, one result per
// instrument, one entry holding exactly those results, created once.
func checkSubmitted(t *testing.T, db *DB, s store.Session) []store.Result {
	t.Helper()
	got, err := db.GetSession(bg, s.ID)
	ok(t, err)
	if got.State != store.SessionSubmitted {
		t.Fatalf("session is %s, want submitted", got.State)
	}
	rs, _, err := db.ListResults(bg, store.ResultFilter{SessionID: s.ID}, store.Page{})
	ok(t, err)
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	ws, _, err := db.ListWarnings(bg, store.WarningFilter{PersonID: s.PersonID}, store.Page{})
	ok(t, err)
	if len(ws) != 1 {
		t.Fatalf("%d queue entries, want 1", len(ws))
	}
	w, err := db.GetWarning(bg, ws[0].ID)
	ok(t, err)
	ids := []string{rs[0].ID, rs[1].ID}
	slices.Sort(ids)
	have := slices.Clone(w.ResultIDs)
	slices.Sort(have)
	if !slices.Equal(ids, have) || w.Reasons[0].ResultID != w.ResultIDs[0] {
		t.Fatalf("entry holds results %v (reason on %s), the session has %v", w.ResultIDs, w.Reasons[0].ResultID, ids)
	}
	created := 0
	for _, e := range w.History {
		if e.Kind == store.EventCreated {
			created++
		}
		if e.Kind == store.EventMerged {
			t.Fatalf("entry merged its own submission again: %+v", e)
		}
	}
	if created != 1 || w.Level != 1 {
		t.Fatalf("entry created %d times, level %d", created, w.Level)
	}
	// The on-duty staff are owed exactly one level-1 message.
	owed, _, err := db.ListNotifications(bg, store.NotificationFilter{WarningID: w.ID}, store.Page{})
	ok(t, err)
	if len(owed) != 1 || owed[0].Level != 1 || owed[0].State != store.NotificationPending {
		t.Fatalf("the entry owes %+v, want one pending level-1 notification", owed)
	}
	answers, err := db.ListAnswers(bg, s.ID)
	ok(t, err)
	if len(answers) != 2 {
		t.Fatalf("%d acknowledged answers kept, want 2", len(answers))
	}
	return rs
}

func TestSubmitSurvivesACrashAfterEveryStep(t *testing.T) {
	e := newFaultEnv(t)
	for _, crashAt := range []string{stepSubmitIntent, stepSubmitWarning, stepSubmitResults} {
		for _, recovery := range []string{"retry", "finisher"} {
			t.Run(fmt.Sprintf("%s/%s", crashAt, recovery), func(t *testing.T) {
				crashing := e.open(crashAt)
				s := seed(t, crashing)
				first := submission(s, time.Now().Add(-time.Second))
				if _, err := crashing.Submit(bg, first); !errors.Is(err, errCrash) {
					t.Fatalf("submit did not crash at %q: %v", crashAt, err)
				}
				restarted := e.open("")
				checkNoOrphan(t, restarted, s)
				// The decided submission takes no more answers, so none can
				// be acknowledged and then left out.
				_, err := restarted.SaveAnswer(bg, store.Answer{SessionID: s.ID, Item: "phq9.q2", Value: 1, Seq: 9, At: time.Now()})
				if !errors.Is(err, store.ErrSessionClosed) {
					t.Fatalf("an answer after the decided submit: %v, want session closed", err)
				}
				switch recovery {
				case "retry":
					out, err := restarted.Submit(bg, submission(s, time.Now()))
					ok(t, err)
					if out.Warning == nil || len(out.Results) != 2 {
						t.Fatalf("retried submit returned %d results, warning %v", len(out.Results), out.Warning)
					}
				case "finisher":
					n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
					ok(t, err)
					if n < 1 {
						t.Fatal("the finisher found nothing to finish")
					}
				}
				rs := checkSubmitted(t, restarted, s)
				// The entry carries the time it was finished, so the change
				// feed of every server sees an entry that was written late.
				ws, _, err := restarted.ListWarnings(bg, store.WarningFilter{PersonID: s.PersonID}, store.Page{})
				ok(t, err)
				if !ws[0].UpdatedAt.After(first.At) {
					t.Fatalf("entry finished late keeps UpdatedAt %v, the crashed call's time", ws[0].UpdatedAt)
				}
				// The results are the first decision's, not the retry's.
				if !slices.ContainsFunc(rs, func(r store.Result) bool { return r.ID == first.Results[0].ID }) {
					t.Fatalf("results %v are not the decided submission's", rs)
				}
				// A duplicate submit afterwards replays.
				again, err := restarted.Submit(bg, submission(s, time.Now()))
				ok(t, err)
				if !again.Replayed || len(again.Results) != 2 {
					t.Fatalf("duplicate submit: replayed %v, %d results", again.Replayed, len(again.Results))
				}
				checkSubmitted(t, restarted, s)
				if n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0); err != nil || n != 0 {
					t.Fatalf("finisher found %d more intents (%v) after recovery", n, err)
				}
			})
		}
	}
}

// A crash before the first step leaves nothing: the session is open and
// answers are still taken.
func TestSubmitCrashBeforeTheIntentLeavesTheSessionOpen(t *testing.T) {
	e := newFaultEnv(t)
	db := e.open("")
	s := seed(t, db)
	_, err := db.SaveAnswer(bg, store.Answer{SessionID: s.ID, Item: "phq9.q2", Value: 1, Seq: 3, At: time.Now()})
	ok(t, err)
	if n, err := db.FinishInterrupted(bg, time.Now().Add(time.Minute), 0); err != nil || n != 0 {
		t.Fatalf("finisher: %d, %v", n, err)
	}
}

func TestConcurrentDuplicateSubmitsMakeOneResultAndOneEntry(t *testing.T) {
	e := newFaultEnv(t)
	servers := []*DB{e.open(""), e.open(""), e.open("")}
	s := seed(t, servers[0])
	var wg sync.WaitGroup
	outs := make([]store.SubmitOutcome, 6)
	errs := make([]error, len(outs))
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = servers[i%len(servers)].Submit(bg, submission(s, time.Now()))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, err)
		if outs[i].Warning == nil || len(outs[i].Results) != 2 {
			t.Fatalf("submit %d returned %d results, warning %v", i, len(outs[i].Results), outs[i].Warning)
		}
	}
	rs := checkSubmitted(t, servers[1], s)
	for i, o := range outs {
		if o.Results[0].ID != rs[0].ID && o.Results[0].ID != rs[1].ID {
			t.Fatalf("submit %d answered with results that are not stored", i)
		}
	}
}

func TestReferralSurvivesACrashAfterEveryStep(t *testing.T) {
	e := newFaultEnv(t)
	for _, crashAt := range []string{stepReferIntent, stepReferRecord} {
		for _, recovery := range []string{"counsellor", "finisher"} {
			t.Run(fmt.Sprintf("%s/%s", crashAt, recovery), func(t *testing.T) {
				crashing := e.open(crashAt)
				s := seed(t, crashing)
				out, err := crashing.Submit(bg, submission(s, time.Now()))
				ok(t, err)
				wid := out.Warning.ID
				_, err = crashing.ClaimWarning(bg, wid, "counsellor1", time.Now(), time.Now().Add(time.Hour))
				ok(t, err)
				ref := store.Referral{ID: store.NewID(), ToUnitID: "county", SenderID: "counsellor1", CreatedAt: time.Now()}
				if _, err := crashing.ReferWarning(bg, wid, ref); !errors.Is(err, errCrash) {
					t.Fatalf("referral did not crash at %q: %v", crashAt, err)
				}
				restarted := e.open("")
				// What the counsellor sees: the entry is referred, to whom.
				w, err := restarted.GetWarning(bg, wid)
				ok(t, err)
				last := w.History[len(w.History)-1]
				if w.State != store.WarningReferred || last.Kind != store.EventReferred || last.UnitID != "county" {
					t.Fatalf("after the crash the entry is %s, last event %+v", w.State, last)
				}
				switch recovery {
				case "counsellor":
					// Sending it again finishes the same referral.
					got, err := restarted.ReferWarning(bg, wid, ref)
					ok(t, err)
					if got.ID != ref.ID {
						t.Fatalf("repeated referral is %s, want %s", got.ID, ref.ID)
					}
				case "finisher":
					n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
					ok(t, err)
					if n < 1 {
						t.Fatal("the finisher found nothing to finish")
					}
				}
				refs, _, err := restarted.ListReferrals(bg, store.ReferralFilter{ToUnitPath: "/city/county/"}, store.Page{})
				ok(t, err)
				n := 0
				for _, r := range refs {
					if r.WarningID == wid {
						n++
						if r.ID != ref.ID || r.State != store.ReferralSent {
							t.Fatalf("referral %+v", r)
						}
					}
				}
				if n != 1 {
					t.Fatalf("the receiving unit sees %d referrals of the entry, want 1", n)
				}
				// The receiving unit can act on it.
				_, err = restarted.SetReferralState(bg, ref.ID, store.ReferralAccepted, time.Now())
				ok(t, err)
			})
		}
	}
}

func TestRescoreSurvivesACrashAfterEveryStep(t *testing.T) {
	e := newFaultEnv(t)
	for _, crashAt := range []string{stepRescoreIntent, stepRescoreResult, stepRescoreWarning} {
		t.Run(crashAt, func(t *testing.T) {
			crashing := e.open(crashAt)
			s := seed(t, crashing)
			sub := submission(s, time.Now())
			sub.Warning = nil
			out, err := crashing.Submit(bg, sub)
			ok(t, err)
			old := out.Results[1]
			nr := store.Result{ID: store.NewID(), Supersedes: old.ID, Instrument: "gad7", Version: "1.1.1", Scores: map[string]float64{"total": 16}}
			rw := &store.WarningDraft{ID: store.NewID(), Level: 2, Reasons: []store.Reason{{ResultID: nr.ID, Instrument: "gad7", Rule: "total.severe", Level: 2}}}
			if _, _, err := crashing.RescoreResult(bg, store.Rescore{Result: nr, Warning: rw, At: time.Now()}); !errors.Is(err, errCrash) {
				t.Fatalf("rescore did not crash at %q: %v", crashAt, err)
			}
			restarted := e.open("")
			n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
			ok(t, err)
			if n < 1 {
				t.Fatal("the finisher found nothing to finish")
			}
			rs, _, err := restarted.ListResults(bg, store.ResultFilter{SessionID: s.ID}, store.Page{})
			ok(t, err)
			if len(rs) != 2 || !slices.ContainsFunc(rs, func(r store.Result) bool { return r.ID == nr.ID && r.Supersedes == old.ID }) {
				t.Fatalf("current results after the rescore: %+v", rs)
			}
			ws, _, err := restarted.ListWarnings(bg, store.WarningFilter{PersonID: s.PersonID}, store.Page{})
			ok(t, err)
			if len(ws) != 1 || !slices.Contains(ws[0].ResultIDs, nr.ID) || ws[0].Level != 2 {
				t.Fatalf("entries after the rescore: %+v", ws)
			}
		})
	}
}

func TestAccessCodesAppearAllAtOnce(t *testing.T) {
	e := newFaultEnv(t)
	crashing := e.open(stepCodesWritten)
	_ = seed(t, crashing)
	_, err := crashing.CreateCampaign(bg, store.Campaign{ID: "c1", UnitID: "station", Name: "普测", UnitIDs: []string{"station"}, Battery: []string{"phq9"},
		Mode: "open", CreatedAt: time.Now(), UpdatedAt: time.Now()})
	ok(t, err)
	codes := []store.AccessCode{{Code: "AAAA1111", CampaignID: "c1", UnitID: "station", CreatedAt: time.Now()},
		{Code: "BBBB2222", CampaignID: "c1", UnitID: "station", CreatedAt: time.Now()}}
	if err := crashing.CreateAccessCodes(bg, codes); !errors.Is(err, errCrash) {
		t.Fatalf("codes did not crash: %v", err)
	}
	restarted := e.open("")
	list, _, err := restarted.ListAccessCodes(bg, "c1", store.Page{})
	ok(t, err)
	if len(list) != 0 {
		t.Fatalf("an unpublished batch shows %d codes", len(list))
	}
	if _, err := restarted.GetAccessCode(bg, "AAAA1111"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unpublished code opens: %v", err)
	}
	n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
	ok(t, err)
	if n != 1 {
		t.Fatalf("finisher removed %d batches, want 1", n)
	}
	// The caller draws again, and the same codes can now be issued whole.
	ok(t, restarted.CreateAccessCodes(bg, codes))
	list, _, err = restarted.ListAccessCodes(bg, "c1", store.Page{})
	ok(t, err)
	if len(list) != 2 {
		t.Fatalf("published batch shows %d codes, want 2", len(list))
	}
}
