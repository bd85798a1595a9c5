package storetest

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/sealed"
)

// The contract's view of the personal-data inventory (store.Personal):
// one fixture that puts a value into every personal field, and one reader
// that gets every record of a person back by record type. The erasure
// contract, the sealed-at-rest contract and assess's export test iterate
// the inventory over them, so a field added to the inventory is checked
// everywhere once the fixture writes it (and a test says so until it does).

// PersonalStudentNo is the student number WritePersonal gives its person.
const PersonalStudentNo = "S-PII-0007"

// WritePersonal builds the contract's unit tree and writes, through s, one
// rostered student with a value in every field of the inventory: identity
// link, personal access code, a submitted session with its answer and a
// flagged result, a queue entry followed up and referred, a second one
// closed with an outcome, an open session, a closed case with all its free
// text, a case conference, a call-back request and a booking, an activity, a unit's
// notification settings and an audit line about the student. It returns
// the student's id.
func WritePersonal(t *testing.T, s store.Store) string {
	t.Helper()
	tree(t, s)
	// The keyed blind index the sealing layer would compute, so that a rekey
	// finds nothing to reindex and the student reads the same afterwards.
	index := TestKeys(t, TestKeySpec).Blind("school", PersonalStudentNo)
	p, err := s.CreatePerson(ctx, store.Person{ID: "pii-person", UnitID: "class1", SchoolID: "school", StudentNoIndex: index,
		Name: store.Sealed("王小明"), Phone: store.Sealed("13900139000"), StudentNo: store.Sealed(PersonalStudentNo),
		Sex: "m", BirthMonth: "2011-04", Age: 14, CreatedAt: T0})
	must(t, err)
	must(t, s.LinkIdentity(ctx, store.IdentityWeChat, "wx-hash-7", p.ID, T0))
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "pii-cp", UnitID: "school", Mode: "roster", CreatedAt: T0})
	must(t, err)
	must(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "PIICODE", CampaignID: "pii-cp", PersonID: p.ID, UnitID: "class1", CreatedAt: T0}}))

	newSession := func(code string) store.Session {
		t.Helper()
		sess, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), TokenHash: []byte("token-hash"), PersonID: p.ID, CampaignID: "pii-cp",
			AccessCode: code, UnitID: "class1", Instruments: []string{"phq9"}, Sex: "m", Age: 14, Consent: true, Locale: "zh-CN", CreatedAt: T0})
		must(t, err)
		return sess
	}
	submit := func(sess store.Session, level int, rule string) store.Warning {
		t.Helper()
		_, err := s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "phq9.q9", Value: 2, Seq: 1, At: T0})
		must(t, err)
		rid := store.NewID()
		out, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: at(time.Minute),
			Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", ContentHash: "h", Scores: map[string]float64{"total": 20},
				Bands: map[string]string{"total": "severe"}, Flags: []string{"too_fast"}, Payload: []byte(`{"complete":true}`)}},
			Warning: &store.WarningDraft{ID: store.NewID(), Level: level, DueAt: at(time.Hour),
				Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: rule, Level: level, Text: map[string]string{"zh-CN": "第9题"}}}}})
		must(t, err)
		return claimed(t, s, *out.Warning, "staff1")
	}

	w := submit(newSession("PIICODE"), 1, "item9")
	_, _, err = s.CreateCallback(ctx, store.Callback{ID: "pii-callback", SessionID: w.SessionID, Phone: store.Sealed("13900139001"),
		Note: store.Sealed("晚上打给王小明"), PreferredFrom: at(time.Hour), PreferredTo: at(3 * time.Hour), Consent: true, ConsentVersion: "v1",
		CreatedAt: at(90 * time.Second)}, callbackDraft(at(90*time.Second)))
	must(t, err)
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "staff1", To: store.WarningFollowingUp, Note: "给王小明母亲打了电话", At: at(2 * time.Minute)})
	must(t, err)
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "pii-ref", ToUnitID: "county", SenderID: "staff1", Note: store.Sealed("与祖母同住"), CreatedAt: at(3 * time.Minute)})
	must(t, err)
	w2 := submit(newSession(""), 2, "total")
	_, err = s.TransitionWarning(ctx, w2.ID, store.WarningChange{ActorID: "staff1", To: store.WarningClosed, Note: "情况好转", Outcome: "resolved", At: at(4 * time.Minute)})
	must(t, err)

	open := newSession("")
	_, err = s.SaveAnswer(ctx, store.Answer{SessionID: open.ID, Item: "phq9.q1", Value: 1, Seq: 1, At: T0})
	must(t, err)

	_, err = s.CreateCase(ctx, store.Case{ID: "pii-case", PersonID: p.ID, WarningID: w.ID, UnitID: "school", CounsellorID: "staff1",
		SelfEvaluation: store.Sealed("自评：睡不好"), LifeEvents: store.Sealed("家庭变故"), OtherProblems: store.Sealed("厌学"), Advice: store.Sealed("建议复诊"),
		GroupNotified: true, At: at(5 * time.Minute), Closed: true, ClosedAt: at(6 * time.Minute), Outcome: "转介后好转，王小明已返校", CreatedAt: at(5 * time.Minute)})
	must(t, err)
	_, err = s.CreateSlot(ctx, store.Slot{ID: "pii-slot", UnitID: "station", StartsAt: at(48 * time.Hour), EndsAt: at(49 * time.Hour),
		Capacity: 2, Location: "驿站二楼", CreatedAt: T0})
	must(t, err)
	_, err = s.BookSlot(ctx, store.Booking{ID: "pii-booking", SlotID: "pii-slot", Phone: store.Sealed("13900139002"), PhoneIndex: "index-of-13900139002", PersonID: p.ID, CreatedAt: at(time.Minute)})
	must(t, err)
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "pii-cp", PersonID: p.ID, Reason: store.Sealed("病假：住院"), UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	_, err = s.CreateMeeting(ctx, store.Meeting{ID: "pii-conference", Kind: store.MeetingConference, PersonID: p.ID, CaseID: "pii-case",
		WarningID: w.ID, UnitID: "school", Date: at(7 * time.Minute), Attendees: store.Sealed("班主任李老师、心理老师"),
		Decision: store.DecisionParentMeeting, Agreed: store.Sealed("约王小明父母面谈"), Notes: store.Sealed("王小明近期失眠"),
		AuthorID: "staff1", CreatedAt: at(7 * time.Minute)})
	must(t, err)
	_, err = s.AddActivity(ctx, store.Activity{ID: "pii-act", UnitID: "station", Date: T0, Type: "clinic", Reached: 3, Note: "家访王小明", CreatedAt: T0})
	must(t, err)
	// A unit's notification settings: no respondent's data, but sealed
	// staff contacts and credentials that a rekey must move too.
	_, err = s.PutNotifySettings(ctx, NotifyFixture("school"))
	must(t, err)
	must(t, s.AppendAudit(ctx, store.AuditEntry{ID: "pii-audit", At: T0, ActorID: "staff1", Action: "read_person",
		TargetKind: "person", TargetID: p.ID, UnitPath: "/city/county/school/class1/", Detail: "家长来电询问"}))
	return p.ID
}

// PersonalRecords reads back everything s holds about one person, by
// record type of the inventory: the person, their identity links and
// personal access codes, sessions, answers, results (superseded ones too),
// queue entries with their history events and reasons, cases, referrals,
// call-back requests and bookings, case conferences and parent meetings,
// the audit lines about them, every
// activity (an activity belongs to no person) and every unit's
// notification endpoints and contacts (which belong to no respondent).
// Lists are in the store's order, so two reads line up. It
// fails the test if the inventory names a record type it does not read.
func PersonalRecords(t *testing.T, s store.Store, personID string) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	add := func(record string, recs ...any) { out[record] = append(out[record], recs...) }
	pg := store.Page{Limit: store.MaxLimit}

	p, err := s.GetPerson(ctx, personID)
	must(t, err)
	add("Person", p)
	ids, err := s.ListIdentities(ctx, personID)
	must(t, err)
	for _, v := range ids {
		add("Identity", v)
	}
	codes, err := s.ListPersonAccessCodes(ctx, personID)
	must(t, err)
	for _, v := range codes {
		add("AccessCode", v)
	}
	sessions, _, err := s.ListSessions(ctx, store.SessionFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range sessions {
		add("Session", v)
		answers, err := s.ListAnswers(ctx, v.ID)
		must(t, err)
		for _, a := range answers {
			add("Answer", a)
		}
	}
	results, _, err := s.ListResults(ctx, store.ResultFilter{PersonID: personID, WithSuperseded: true}, pg)
	must(t, err)
	for _, v := range results {
		add("Result", v)
	}
	warnings, _, err := s.ListWarnings(ctx, store.WarningFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range warnings {
		w, err := s.GetWarning(ctx, v.ID)
		must(t, err)
		add("Warning", w)
		for _, e := range w.History {
			add("WarningEvent", e)
		}
		for _, r := range w.Reasons {
			add("Reason", r)
		}
	}
	cases, _, err := s.ListCases(ctx, store.CaseFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range cases {
		add("Case", v)
	}
	refs, _, err := s.ListReferrals(ctx, store.ReferralFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range refs {
		add("Referral", v)
	}
	acts, _, err := s.ListActivities(ctx, store.ActivityFilter{}, pg)
	must(t, err)
	for _, v := range acts {
		add("Activity", v)
	}
	callbacks, _, err := s.ListCallbacks(ctx, store.CallbackFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range callbacks {
		add("Callback", v)
	}
	bookings, _, err := s.ListBookings(ctx, store.BookingFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range bookings {
		add("Booking", v)
	}
	absences, err := s.ListAbsences(ctx, store.AbsenceFilter{PersonID: personID})
	must(t, err)
	for _, v := range absences {
		add("Absence", v)
	}
	meetings, _, err := s.ListMeetings(ctx, store.MeetingFilter{PersonID: personID}, pg)
	must(t, err)
	for _, v := range meetings {
		add("Meeting", v)
	}
	settings, err := s.ListNotifySettings(ctx, "")
	must(t, err)
	for _, n := range settings {
		for _, e := range n.Endpoints {
			add("NotifyEndpoint", e)
		}
		for _, c := range n.Contacts {
			add("NotifyContact", c)
		}
	}
	audit, _, err := s.ListAudit(ctx, store.AuditFilter{TargetID: personID}, pg)
	must(t, err)
	for _, v := range audit {
		add("AuditEntry", v)
	}

	read := []string{"Person", "Identity", "AccessCode", "Session", "Answer", "Result", "Warning", "WarningEvent", "Reason",
		"Case", "Referral", "Absence", "Callback", "Booking", "Meeting", "Activity", "AuditEntry", "NotifyEndpoint", "NotifyContact"}
	for _, f := range store.Personal {
		if !slices.Contains(read, f.Record) {
			t.Fatalf("the inventory has %s records, which PersonalRecords (store/storetest/personal.go) does not read", f.Record)
		}
	}
	return out
}

// Blank reports whether a field's value is blank: zero, or an empty slice
// or map (a backend may return an empty value for a NULL).
func Blank(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}

// requireEveryField fails the test unless the records hold a value in every
// field of the inventory: a check that the fixture still covers it.
func requireEveryField(t *testing.T, recs map[string][]any) {
	t.Helper()
	for _, f := range store.Personal {
		set := false
		for _, r := range recs[f.Record] {
			set = set || !Blank(f.Of(r))
		}
		if !set {
			t.Fatalf("WritePersonal writes no %s: give it a value (store/storetest/personal.go), so that erasure, sealing and export are checked for it", f.Name())
		}
	}
}

// checkErasure compares, field by field of the inventory, what the store
// returns after an erasure with what it returned before: erased fields are
// blank, deleted records are gone, kept fields are unchanged. dropped says
// whether the erasures so far asked to drop the answers; age is the age at
// erasure the person should now have.
func checkErasure(t *testing.T, before, after map[string][]any, dropped bool, age int) {
	t.Helper()
	for _, f := range store.Personal {
		b, a := before[f.Record], after[f.Record]
		what := f.Erase
		if what == store.EraseOnRequest {
			what = store.EraseKeep
			if dropped {
				what = store.EraseDelete
			}
		}
		if what == store.EraseDelete {
			if len(a) != 0 {
				t.Errorf("%s: an erasure deletes %s records, %d are left", f.Name(), f.Record, len(a))
			}
			continue
		}
		if len(a) != len(b) {
			t.Errorf("%s: %d %s records before the erasure, %d after: it must keep them", f.Name(), len(b), f.Record, len(a))
			continue
		}
		for i := range a {
			bv, av := f.Of(b[i]), f.Of(a[i])
			switch what {
			case store.EraseBlank:
				if !Blank(av) {
					t.Errorf("%s is not blank after the erasure: %v", f.Name(), av.Interface())
				}
			case store.EraseToAge:
				if av.Int() != int64(age) {
					t.Errorf("%s = %d after the erasure, want the age at erasure %d", f.Name(), av.Int(), age)
				}
			case store.EraseKeep:
				if !reflect.DeepEqual(bv.Interface(), av.Interface()) {
					t.Errorf("%s changed by the erasure, which keeps it:\n before %v\n after  %v", f.Name(), bv.Interface(), av.Interface())
				}
			}
		}
	}
}

// testSealedInventory: through the sealing layer, every field the inventory
// marks sealed is ciphertext in the backend and no other field is changed
// at rest; a rekey moves every one of those values (so each backend's
// Reseal covers every sealed field), and afterwards everything reads the
// same under the new key alone.
func testSealedInventory(t *testing.T, raw store.Store) {
	s := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK1))
	id := WritePersonal(t, s)
	plain := PersonalRecords(t, s, id)
	requireEveryField(t, plain)
	atRest := PersonalRecords(t, raw, id)
	values := 0
	for _, f := range store.Personal {
		p, r := plain[f.Record], atRest[f.Record]
		if len(p) != len(r) {
			t.Fatalf("%s: %d records through the sealing layer, %d in the backend", f.Record, len(p), len(r))
		}
		for i := range p {
			pv, rv := f.Of(p[i]), f.Of(r[i])
			clear := f.Sealed == "" || Blank(pv)
			if e, ok := p[i].(store.WarningEvent); ok && !store.NoteSealed(e.Kind) {
				clear = true // the store's own note of a created or merged event
			}
			if clear {
				if !reflect.DeepEqual(pv.Interface(), rv.Interface()) {
					t.Errorf("%s differs at rest (%v) from what the sealing layer returns (%v), but the inventory keeps it in clear",
						f.Name(), rv.Interface(), pv.Interface())
				}
				continue
			}
			stored, text := bytesOf(rv), bytesOf(pv)
			if !sealed.IsSealed(stored) || bytes.Contains(stored, text) {
				t.Errorf("%s is not sealed at rest: %q", f.Name(), stored)
			}
			values++
		}
	}
	k21 := TestKeys(t, testIndexKey+","+testK2+","+testK1)
	rep, err := sealed.Rekey(ctx, raw, k21, 3)
	must(t, err)
	if rep.Moved != values || rep.Visited != values || rep.Reindexed != 0 {
		t.Errorf("rekey = %+v; the inventory's sealed fields hold %d values: a backend's Reseal misses a sealed field", rep, values)
	}
	again := PersonalRecords(t, sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK2)), id)
	if !reflect.DeepEqual(plain, again) {
		t.Errorf("after the rekey the records read differently:\n before %+v\n after  %+v", plain, again)
	}
}

func bytesOf(v reflect.Value) []byte {
	if v.Kind() == reflect.String {
		return []byte(v.String())
	}
	return v.Bytes()
}
