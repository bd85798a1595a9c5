package storetest

import (
	"reflect"
	"testing"
	"time"

	"xinling/store"
)

// testErasure: a PIPL erasure removes every identifier and free text of one
// person, revokes their sessions, and leaves every count as it was.
func testErasure(t *testing.T, s store.Store) {
	tree(t, s)
	p, err := s.CreatePerson(ctx, store.Person{ID: "p1", UnitID: "class1", SchoolID: "school", StudentNoIndex: "idx1",
		Name: store.Sealed("n1"), Phone: store.Sealed("ph"), StudentNo: store.Sealed("s1"), Sex: "f", BirthMonth: "2010-05", CreatedAt: T0})
	must(t, err)
	other := person(t, s, "class1")
	must(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev1", p.ID, T0))
	must(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev2", other.ID, T0))
	ids, err := s.ListIdentities(ctx, p.ID)
	must(t, err)
	if len(ids) != 1 || ids[0].Kind != store.IdentityDevice || ids[0].Key != "dev1" || ids[0].PersonID != p.ID {
		t.Fatalf("ListIdentities = %+v", ids)
	}
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp", UnitID: "school", Mode: "roster", CreatedAt: T0})
	must(t, err)
	must(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "KP", CampaignID: "cp", PersonID: p.ID, UnitID: "class1", CreatedAt: T0},
		{Code: "KO", CampaignID: "cp", PersonID: other.ID, UnitID: "class1", CreatedAt: T0},
		{Code: "KCLASS", CampaignID: "cp", UnitID: "class1", CreatedAt: T0}}))
	codes, err := s.ListPersonAccessCodes(ctx, p.ID)
	must(t, err)
	if len(codes) != 1 || codes[0].Code != "KP" {
		t.Fatalf("ListPersonAccessCodes = %+v", codes)
	}
	if codes, _ := s.ListPersonAccessCodes(ctx, ""); len(codes) != 0 {
		t.Fatalf("class codes listed as a person's: %+v", codes)
	}

	done := session(t, s, "class1", p.ID)
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: done.ID, Item: "phq9.q9", Value: 2, Seq: 1, At: T0})
	must(t, err)
	rid := store.NewID()
	out, err := s.Submit(ctx, store.Submission{SessionID: done.ID, At: at(time.Minute),
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": 20}, Bands: map[string]string{"total": "severe"}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, DueAt: at(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: 1}}}})
	must(t, err)
	w := claimed(t, s, *out.Warning, "staff1")
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "staff1", To: store.WarningFollowingUp, Note: "called her mother at 138…", At: at(2 * time.Minute)})
	must(t, err)
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "county", SenderID: "staff1", Note: store.Sealed("lives with grandmother"), CreatedAt: at(3 * time.Minute)})
	must(t, err)
	c, err := s.CreateCase(ctx, store.Case{ID: "c1", PersonID: p.ID, WarningID: w.ID, UnitID: "school", CounsellorID: "staff1",
		SelfEvaluation: store.Sealed("自评"), LifeEvents: store.Sealed("家庭变故"), Advice: store.Sealed("建议"), Closed: true, ClosedAt: at(5 * time.Minute), Outcome: "转介后好转，张三已返校",
		At: at(4 * time.Minute), CreatedAt: at(4 * time.Minute)})
	must(t, err)
	open := session(t, s, "class1", p.ID)
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: open.ID, Item: "phq9.q1", Value: 1, Seq: 1, At: T0})
	must(t, err)

	counts := func() []store.UnitCounts {
		t.Helper()
		uc, err := s.UnitCounts(ctx, "/city/", T0.Add(-time.Hour), T0.Add(24*time.Hour))
		must(t, err)
		return uc
	}
	results := func() int {
		rs, _, err := s.ListResults(ctx, store.ResultFilter{PersonID: p.ID}, store.Page{})
		must(t, err)
		return len(rs)
	}
	before, resultsBefore := counts(), results()

	got, err := s.ErasePerson(ctx, store.Erasure{PersonID: p.ID, At: at(time.Hour), Age: 16})
	must(t, err)
	if want := (store.ErasureOutcome{Identities: 1, AccessCodes: 1, Cases: 1, Referrals: 1, Sessions: 2}); got != want {
		t.Fatalf("ErasePerson = %+v, want %+v", got, want)
	}
	anon, err := s.GetPerson(ctx, p.ID)
	must(t, err)
	if !anon.Anonymised || len(anon.Name)+len(anon.Phone)+len(anon.StudentNo) != 0 || anon.StudentNoIndex != "" ||
		anon.BirthMonth != "" || anon.Age != 16 || anon.Sex != "f" || anon.UnitID != "class1" {
		t.Fatalf("erased person = %+v", anon)
	}
	_, err = s.FindIdentity(ctx, store.IdentityDevice, "dev1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetAccessCode(ctx, "KP")
	wantErr(t, err, store.ErrNotFound)
	for _, code := range []string{"KO", "KCLASS"} {
		_, err = s.GetAccessCode(ctx, code)
		must(t, err)
	}
	if o, _ := s.GetPerson(ctx, other.ID); string(o.Name) != "sealed-name" {
		t.Fatalf("another person was erased too: %+v", o)
	}
	if gc, _ := s.GetCase(ctx, c.ID); len(gc.SelfEvaluation)+len(gc.LifeEvents)+len(gc.OtherProblems)+len(gc.Advice)+len(gc.Outcome) != 0 || gc.UnitID != "school" {
		t.Fatalf("case keeps its free text: %+v", gc)
	}
	if r, _ := s.GetReferral(ctx, "r1"); len(r.Note) != 0 || r.ToUnitID != "county" {
		t.Fatalf("referral keeps its note: %+v", r)
	}
	gw, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	for _, e := range gw.History {
		if e.Note != "" {
			t.Fatalf("queue history keeps a note: %+v", e)
		}
	}
	if gs, _ := s.GetSession(ctx, open.ID); gs.State != store.SessionPurged || len(gs.TokenHash) != 0 {
		t.Fatalf("open session after erasure = %+v", gs)
	}
	if gs, _ := s.GetSession(ctx, done.ID); gs.State != store.SessionSubmitted || len(gs.TokenHash) != 0 {
		t.Fatalf("submitted session after erasure = %+v", gs)
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: open.ID, Item: "phq9.q2", Value: 1, Seq: 1, At: at(2 * time.Hour)})
	wantErr(t, err, store.ErrSessionClosed)
	if a, _ := s.ListAnswers(ctx, done.ID); len(a) != 1 {
		t.Fatalf("anonymising dropped answers: %+v", a)
	}
	if after := counts(); !reflect.DeepEqual(before, after) || results() != resultsBefore {
		t.Fatalf("counts changed by anonymising:\n before %+v\n after  %+v", before, after)
	}

	// Again, dropping answers: only the answers are left to remove.
	got, err = s.ErasePerson(ctx, store.Erasure{PersonID: p.ID, At: at(2 * time.Hour), DropAnswers: true})
	must(t, err)
	if want := (store.ErasureOutcome{Answers: 2}); got != want {
		t.Fatalf("second ErasePerson = %+v, want %+v", got, want)
	}
	if a, _ := s.ListAnswers(ctx, done.ID); len(a) != 0 {
		t.Fatalf("delete kept answers: %+v", a)
	}
	if after := counts(); !reflect.DeepEqual(before, after) || results() != resultsBefore {
		t.Fatalf("counts changed by deleting:\n before %+v\n after  %+v", before, after)
	}
	if anon, _ := s.GetPerson(ctx, p.ID); anon.Age != 16 {
		t.Fatalf("a second erasure without an age changed it: %d", anon.Age)
	}
	_, err = s.ErasePerson(ctx, store.Erasure{PersonID: "nope", At: T0})
	wantErr(t, err, store.ErrNotFound)
}

// testRetention: retention purges an anonymous self-test only once nobody
// is working its queue entry (or its follow-up's), and never a result, so
// the monthly figures stay as they were.
func testRetention(t *testing.T, s store.Store) {
	tree(t, s)
	flaggedAnon := session(t, s, "station", "")
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: flaggedAnon.ID, Item: "phq9.q9", Value: 2, Seq: 1, At: T0})
	must(t, err)
	rid := store.NewID()
	out, err := s.Submit(ctx, store.Submission{SessionID: flaggedAnon.ID, At: T0,
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": 12}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, DueAt: at(time.Hour), Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: 1}}}})
	must(t, err)
	follow, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), UnitID: "station", FollowUpOf: flaggedAnon.ID, Instruments: []string{"asq"}, Consent: true, CreatedAt: T0})
	must(t, err)
	frid := store.NewID()
	_, err = s.Submit(ctx, store.Submission{SessionID: follow.ID, At: T0,
		Results: []store.Result{{ID: frid, Instrument: "asq", Version: "1.0.0", Scores: map[string]float64{"positive": 1}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Key: flaggedAnon.ID, Level: 2, Reasons: []store.Reason{{ResultID: frid, Instrument: "asq", Rule: "positive", Level: 2}}}})
	must(t, err)
	calm := session(t, s, "station", "")
	_, err = s.Submit(ctx, store.Submission{SessionID: calm.ID, At: T0,
		Results: []store.Result{{ID: store.NewID(), Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": 2}}}})
	must(t, err)
	counts := func() []store.UnitCounts {
		t.Helper()
		uc, err := s.UnitCounts(ctx, "/city/", T0.Add(-time.Hour), T0.Add(time.Hour))
		must(t, err)
		return uc
	}
	before := counts()

	n, err := s.PurgeAnonymousSessions(ctx, at(24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d sessions, want only the one without a warning", n)
	}
	for _, id := range []string{flaggedAnon.ID, follow.ID} {
		if got, _ := s.GetSession(ctx, id); got.State == store.SessionPurged {
			t.Fatalf("session %s of an open entry was purged", id)
		}
	}
	if a, _ := s.ListAnswers(ctx, flaggedAnon.ID); len(a) != 1 {
		t.Fatal("the answers of an open entry were purged")
	}
	w := claimed(t, s, *out.Warning, "staff1")
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "staff1", To: store.WarningClosed, Outcome: "resolved", At: at(time.Hour)})
	must(t, err)
	n, err = s.PurgeAnonymousSessions(ctx, at(24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("after closing the entry purged %d, want its session and the follow-up", n)
	}
	rs, _, err := s.ListResults(ctx, store.ResultFilter{UnitPath: "/city/"}, store.Page{})
	must(t, err)
	if len(rs) != 3 {
		t.Fatalf("retention removed results: %d left", len(rs))
	}
	if after := counts(); !reflect.DeepEqual(before, after) {
		t.Fatalf("monthly figures changed by retention:\n before %+v\n after  %+v", before, after)
	}
}
