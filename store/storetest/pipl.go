package storetest

import (
	"reflect"
	"testing"
	"time"

	"xinling/store"
)

// testErasure: a PIPL erasure does to every field of the person's records
// what the inventory (store.Personal) says, field by field, revokes their
// sessions, touches no one else, and leaves every count as it was.
func testErasure(t *testing.T, s store.Store) {
	pid := WritePersonal(t, s)
	other := person(t, s, "class1")
	must(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev2", other.ID, T0))
	must(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "KO", CampaignID: "pii-cp", PersonID: other.ID, UnitID: "class1", CreatedAt: T0},
		{Code: "KCLASS", CampaignID: "pii-cp", UnitID: "class1", CreatedAt: T0}}))
	otherSession := session(t, s, "class1", other.ID)
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: otherSession.ID, Item: "phq9.q1", Value: 1, Seq: 1, At: T0})
	must(t, err)
	codes, err := s.ListPersonAccessCodes(ctx, pid)
	must(t, err)
	if len(codes) != 1 || codes[0].Code != "PIICODE" {
		t.Fatalf("ListPersonAccessCodes = %+v", codes)
	}
	if codes, _ := s.ListPersonAccessCodes(ctx, ""); len(codes) != 0 {
		t.Fatalf("class codes listed as a person's: %+v", codes)
	}
	ids, err := s.ListIdentities(ctx, pid)
	must(t, err)
	if len(ids) != 1 || ids[0].Kind != store.IdentityWeChat || ids[0].Key != "wx-hash-7" || ids[0].PersonID != pid {
		t.Fatalf("ListIdentities = %+v", ids)
	}

	counts := func() []store.UnitCounts {
		t.Helper()
		uc, err := s.UnitCounts(ctx, "/city/", T0.Add(-time.Hour), T0.Add(24*time.Hour))
		must(t, err)
		return uc
	}
	before, countsBefore, otherBefore := PersonalRecords(t, s, pid), counts(), PersonalRecords(t, s, other.ID)
	requireEveryField(t, before)
	sessions := len(before["Session"])

	got, err := s.ErasePerson(ctx, store.Erasure{PersonID: pid, At: at(time.Hour), Age: 16})
	must(t, err)
	if want := (store.ErasureOutcome{Identities: 1, AccessCodes: 1, Cases: 1, Referrals: 1, Sessions: sessions}); got != want {
		t.Fatalf("ErasePerson = %+v, want %+v", got, want)
	}
	checkErasure(t, before, PersonalRecords(t, s, pid), false, 16)
	if anon, _ := s.GetPerson(ctx, pid); !anon.Anonymised {
		t.Fatal("the erased person is not marked anonymised")
	}
	_, err = s.FindIdentity(ctx, store.IdentityWeChat, "wx-hash-7")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetAccessCode(ctx, "PIICODE")
	wantErr(t, err, store.ErrNotFound)
	for _, code := range []string{"KO", "KCLASS"} {
		_, err = s.GetAccessCode(ctx, code)
		must(t, err)
	}
	if after := PersonalRecords(t, s, other.ID); !reflect.DeepEqual(otherBefore, after) {
		t.Fatalf("another person's records changed:\n before %+v\n after  %+v", otherBefore, after)
	}
	for _, sess := range PersonalRecords(t, s, pid)["Session"] {
		if gs := sess.(store.Session); gs.State == store.SessionOpen {
			t.Fatalf("an open session survived the erasure: %+v", gs)
		}
	}
	var open store.Session
	for _, sess := range before["Session"] {
		if sess.(store.Session).State == store.SessionOpen {
			open = sess.(store.Session)
		}
	}
	if open.ID == "" {
		t.Fatal("the fixture has no open session")
	}
	if gs, _ := s.GetSession(ctx, open.ID); gs.State != store.SessionPurged {
		t.Fatalf("open session after erasure = %+v", gs)
	}
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: open.ID, Item: "phq9.q2", Value: 1, Seq: 1, At: at(2 * time.Hour)})
	wantErr(t, err, store.ErrSessionClosed)
	if after := counts(); !reflect.DeepEqual(countsBefore, after) {
		t.Fatalf("counts changed by anonymising:\n before %+v\n after  %+v", countsBefore, after)
	}

	// Again, dropping answers: only the answers are left to remove.
	got, err = s.ErasePerson(ctx, store.Erasure{PersonID: pid, At: at(2 * time.Hour), DropAnswers: true})
	must(t, err)
	if want := (store.ErasureOutcome{Answers: len(before["Answer"])}); got != want {
		t.Fatalf("second ErasePerson = %+v, want %+v", got, want)
	}
	checkErasure(t, before, PersonalRecords(t, s, pid), true, 16) // no age given: the first one's stays
	if after := counts(); !reflect.DeepEqual(countsBefore, after) {
		t.Fatalf("counts changed by deleting:\n before %+v\n after  %+v", countsBefore, after)
	}
	if after := PersonalRecords(t, s, other.ID); !reflect.DeepEqual(otherBefore, after) {
		t.Fatalf("another person's records changed by deleting:\n before %+v\n after  %+v", otherBefore, after)
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
