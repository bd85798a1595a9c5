package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"xinling/store"
)

// The warm hand-off's contract: call-back requests filed on queue entries,
// slots, bookings that never exceed a slot's capacity, and the figures.

// HandoffTests are the hand-off's subtests, which Run runs with the rest.
var HandoffTests = []struct {
	Name string
	Fn   func(t *testing.T, s store.Store)
}{
	{"CallbackFiling", testCallbackFiling},
	{"CallbackLimitRace", testCallbackLimitRace},
	{"CallbackStates", testCallbackStates},
	{"CallbackErasure", testCallbackErasure},
	{"Slots", testSlots},
	{"Bookings", testBookings},
	{"BookingRace", testBookingRace},
	{"HandoffCounts", testHandoffCounts},
}

// callbackDraft is the entry draft assess sends with a call-back request.
func callbackDraft(at time.Time) store.WarningDraft {
	return store.WarningDraft{ID: store.NewID(), Level: 2, DueAt: at.Add(24 * time.Hour), Reasons: []store.Reason{{Rule: store.CallbackRule, Level: 2,
		Text: map[string]string{"zh-CN": "请求回电", "en": "Call-back requested"}}}}
}

func newCallback(sessionID string, created time.Time) store.Callback {
	return store.Callback{ID: store.NewID(), SessionID: sessionID, Phone: store.Sealed("13800138000"), Note: store.Sealed("下午方便"),
		PreferredFrom: created.Add(time.Hour), PreferredTo: created.Add(3 * time.Hour), Consent: true, ConsentVersion: "v1", CreatedAt: created}
}

// submitted returns a submitted session of person in unit, without a
// queue entry.
func submitted(t *testing.T, s store.Store, unit, person string) store.Session {
	t.Helper()
	sess := session(t, s, unit, person)
	_, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: T0,
		Results: []store.Result{{ID: store.NewID(), Instrument: "phq9", Version: "1.0.0", ContentHash: "h", Scores: map[string]float64{"total": 4}}}})
	must(t, err)
	got, err := s.GetSession(ctx, sess.ID)
	must(t, err)
	return got
}

func hasReason(w store.Warning, rule string) int {
	n := 0
	for _, r := range w.Reasons {
		if r.Rule == rule {
			n++
		}
	}
	return n
}

func events(w store.Warning, kind string) []store.WarningEvent {
	var out []store.WarningEvent
	for _, e := range w.History {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func testCallbackFiling(t *testing.T, s store.Store) {
	tree(t, s)
	p := person(t, s, "class1")

	// A session without an entry: a new level-2 entry, under the session's key.
	plain := submitted(t, s, "class1", p.ID)
	d := callbackDraft(at(time.Hour))
	c, w, err := s.CreateCallback(ctx, newCallback(plain.ID, at(time.Hour)), d)
	must(t, err)
	if c.WarningID != w.ID || w.ID != d.ID || c.Seq != 1 || c.PersonID != p.ID || c.State != store.CallbackRequested ||
		c.UnitID != "class1" || c.UnitPath != "/city/county/school/class1/" || !c.CreatedAt.Equal(at(time.Hour)) || c.Version != 1 {
		t.Fatalf("CreateCallback = %+v", c)
	}
	if w.Level != 2 || w.State != store.WarningOpen || w.SessionID != plain.ID || w.PersonID != p.ID || w.Key != plain.ID ||
		hasReason(w, store.CallbackRule) != 1 || !w.DueAt.Equal(d.DueAt) || w.UnitPath != "/city/county/school/class1/" {
		t.Fatalf("new entry = %+v", w)
	}
	full, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	if len(full.History) != 2 || full.History[0].Kind != store.EventCreated || full.History[1].Kind != store.EventCallback ||
		full.History[1].Note != store.CallbackNote(c.ID) || !store.HasCallback(full, c.ID) {
		t.Fatalf("history = %+v", full.History)
	}
	got, err := s.GetCallback(ctx, c.ID)
	must(t, err)
	if string(got.Phone) != "13800138000" || string(got.Note) != "下午方便" || !got.PreferredFrom.Equal(at(2*time.Hour)) ||
		!got.PreferredTo.Equal(at(4*time.Hour)) || !got.Consent || got.ConsentVersion != "v1" || got.WarningID != w.ID {
		t.Fatalf("GetCallback = %+v", got)
	}
	// The on-duty staff are owed the new entry and the request, written
	// with them (store/outbox.go).
	owed := func(w store.Warning) []string {
		t.Helper()
		ns, _, err := s.ListNotifications(ctx, store.NotificationFilter{WarningID: w.ID}, store.Page{})
		must(t, err)
		var ids []string
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := owed(w), []string{"callback:" + c.ID, "warning:" + w.ID + ":level2"}; !slices.Equal(got, want) {
		t.Fatalf("a request on a session without an entry owes %v, want %v", got, want)
	}
	// A second request joins that entry: no second entry, no second reason.
	c2, w2, err := s.CreateCallback(ctx, newCallback(plain.ID, at(2*time.Hour)), callbackDraft(at(2*time.Hour)))
	must(t, err)
	want2 := []string{"callback:" + c.ID, "callback:" + c2.ID, "warning:" + w.ID + ":level2"}
	slices.Sort(want2)
	if got, want := owed(w), want2; !slices.Equal(got, want) {
		t.Fatalf("a second request owes %v, want %v", got, want)
	}
	if w2.ID != w.ID || c2.Seq != 2 || hasReason(w2, store.CallbackRule) != 1 || !w2.DueAt.Equal(d.DueAt) {
		t.Fatalf("second request = %+v on %+v", c2, w2)
	}
	if all, _, _ := s.ListWarnings(ctx, store.WarningFilter{PersonID: p.ID}, store.Page{}); len(all) != 1 {
		t.Fatalf("%d entries for one session's requests", len(all))
	}
	_, _, err = s.CreateCallback(ctx, newCallback(plain.ID, at(3*time.Hour)), callbackDraft(at(3*time.Hour)))
	must(t, err)
	_, _, err = s.CreateCallback(ctx, newCallback(plain.ID, at(4*time.Hour)), callbackDraft(at(4*time.Hour)))
	wantErr(t, err, store.ErrLimit)

	// A flagged session: the request joins its level-1 entry, which stays level 1.
	w1 := flagged(t, s, "class1", 1, T0)
	c, w, err = s.CreateCallback(ctx, newCallback(w1.SessionID, at(time.Hour)), callbackDraft(at(time.Hour)))
	must(t, err)
	if w.ID != w1.ID || c.WarningID != w1.ID || w.Level != 1 || hasReason(w, store.CallbackRule) != 1 || len(w.Reasons) != 2 ||
		!w.DueAt.Equal(w1.DueAt) || w.Version != w1.Version+1 || !w.UpdatedAt.Equal(at(time.Hour)) {
		t.Fatalf("request on a level-1 entry: %+v", w)
	}
	// A level-3 entry rises to level 2 and takes the earlier deadline.
	w3 := flagged(t, s, "class2", 3, T0)
	_, w, err = s.CreateCallback(ctx, newCallback(w3.SessionID, at(time.Minute)), store.WarningDraft{ID: store.NewID(), Level: 2, DueAt: at(30 * time.Minute),
		Reasons: callbackDraft(T0).Reasons})
	must(t, err)
	if w.ID != w3.ID || w.Level != 2 || !w.DueAt.Equal(at(30*time.Minute)) {
		t.Fatalf("request on a level-3 entry: %+v", w)
	}
	// A claimed entry takes it as it is.
	wc := claimed(t, s, flagged(t, s, "class1", 2, T0), "staff1")
	_, w, err = s.CreateCallback(ctx, newCallback(wc.SessionID, at(time.Hour)), callbackDraft(at(time.Hour)))
	must(t, err)
	if w.ID != wc.ID || w.State != store.WarningClaimed || w.AssigneeID != "staff1" {
		t.Fatalf("request on a claimed entry: %+v", w)
	}
	// A closed entry is not reopened: the request opens an entry of its own.
	wd := claimed(t, s, flagged(t, s, "class1", 2, T0), "staff1")
	_, err = s.TransitionWarning(ctx, wd.ID, store.WarningChange{ActorID: "staff1", To: store.WarningClosed, Outcome: "no_risk", At: at(time.Minute)})
	must(t, err)
	c, w, err = s.CreateCallback(ctx, newCallback(wd.SessionID, at(time.Hour)), callbackDraft(at(time.Hour)))
	must(t, err)
	if w.ID == wd.ID || w.State != store.WarningOpen || w.Key != store.CallbackKey(c.ID) || w.SessionID != wd.SessionID || w.Level != 2 {
		t.Fatalf("request on a closed entry: %+v", w)
	}
	if old, _ := s.GetWarning(ctx, wd.ID); old.State != store.WarningClosed || store.HasCallback(old, c.ID) {
		t.Fatalf("the closed entry changed: %+v", old)
	}

	// A follow-up session files on the entry of the session that chained it.
	first := flagged(t, s, "class1", 1, T0)
	fu, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), TokenHash: []byte("h"), PersonID: first.PersonID, UnitID: "class1",
		FollowUpOf: first.SessionID, Instruments: []string{"asq"}, Consent: true, CreatedAt: T0})
	must(t, err)
	_, err = s.Submit(ctx, store.Submission{SessionID: fu.ID, At: at(time.Minute), Results: []store.Result{{ID: store.NewID(), Instrument: "asq"}}})
	must(t, err)
	_, w, err = s.CreateCallback(ctx, newCallback(fu.ID, at(time.Hour)), callbackDraft(at(time.Hour)))
	must(t, err)
	if w.ID != first.ID {
		t.Fatalf("a follow-up's request went to %s, not the chain's entry %s", w.ID, first.ID)
	}

	// Refused: unknown, open and purged sessions, and bad input.
	_, _, err = s.CreateCallback(ctx, newCallback("nope", T0), callbackDraft(T0))
	wantErr(t, err, store.ErrNotFound)
	open := session(t, s, "class1", "")
	_, _, err = s.CreateCallback(ctx, newCallback(open.ID, T0), callbackDraft(T0))
	wantErr(t, err, store.ErrInvalid)
	purged := session(t, s, "class1", "")
	if _, err := s.PurgeAnonymousSessions(ctx, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateCallback(ctx, newCallback(purged.ID, T0), callbackDraft(T0))
	wantErr(t, err, store.ErrSessionClosed)
	_, _, err = s.CreateCallback(ctx, newCallback(plain.ID, T0), store.WarningDraft{ID: "x", Level: 2})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.GetCallback(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	// Lists.
	mine, _, err := s.ListCallbacks(ctx, store.CallbackFilter{SessionID: plain.ID}, store.Page{})
	must(t, err)
	if len(mine) != 3 || mine[0].Seq != 1 || mine[2].Seq != 3 {
		t.Fatalf("ListCallbacks by session = %+v", mine)
	}
	page1, next, err := s.ListCallbacks(ctx, store.CallbackFilter{PersonID: p.ID}, store.Page{Limit: 2})
	must(t, err)
	page2, _, err := s.ListCallbacks(ctx, store.CallbackFilter{PersonID: p.ID}, store.Page{After: next, Limit: 2})
	must(t, err)
	if len(page1) != 2 || len(page2) != 1 || page2[0].ID == page1[1].ID {
		t.Fatalf("pages %+v / %+v", page1, page2)
	}
	byEntry, _, err := s.ListCallbacks(ctx, store.CallbackFilter{WarningIDs: []string{w1.ID, wc.ID}}, store.Page{})
	must(t, err)
	if len(byEntry) != 2 {
		t.Fatalf("ListCallbacks by entries = %+v", byEntry)
	}
	inClass2, _, err := s.ListCallbacks(ctx, store.CallbackFilter{UnitPath: "/city/county/school/class2/"}, store.Page{})
	must(t, err)
	if len(inClass2) != 1 || inClass2[0].WarningID != w3.ID {
		t.Fatalf("ListCallbacks in class2 = %+v", inClass2)
	}
	done, _, err := s.ListCallbacks(ctx, store.CallbackFilter{States: []store.CallbackState{store.CallbackDone}}, store.Page{})
	must(t, err)
	if len(done) != 0 {
		t.Fatalf("done requests before any was done: %+v", done)
	}
}

// testCallbackLimitRace: concurrent requests for one session without an
// entry make exactly one entry and no more than the limit of requests.
func testCallbackLimitRace(t *testing.T, s store.Store) {
	tree(t, s)
	sess := submitted(t, s, "class1", "")
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	entries := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, w, err := s.CreateCallback(ctx, newCallback(sess.ID, at(time.Duration(i)*time.Second)), callbackDraft(at(time.Minute)))
			errs[i], entries[i] = err, w.ID
		}()
	}
	wg.Wait()
	ok, entry := 0, ""
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			if entry != "" && entries[i] != entry {
				t.Fatalf("requests of one session filed on %s and %s", entry, entries[i])
			}
			entry = entries[i]
		case !errors.Is(err, store.ErrLimit):
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if ok != store.MaxCallbacksPerSession {
		t.Fatalf("%d of %d concurrent requests filed, want %d", ok, n, store.MaxCallbacksPerSession)
	}
	list, _, err := s.ListCallbacks(ctx, store.CallbackFilter{SessionID: sess.ID}, store.Page{})
	must(t, err)
	seqs := map[int]bool{}
	for _, c := range list {
		seqs[c.Seq] = true
		if c.WarningID != entry {
			t.Fatalf("request %+v is not on entry %s", c, entry)
		}
	}
	if len(list) != store.MaxCallbacksPerSession || len(seqs) != len(list) {
		t.Fatalf("stored requests = %+v", list)
	}
	all, _, err := s.ListWarnings(ctx, store.WarningFilter{}, store.Page{})
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("%d entries, want 1", len(all))
	}
	w, err := s.GetWarning(ctx, entry)
	must(t, err)
	if got := len(events(w, store.EventCallback)); got != store.MaxCallbacksPerSession || hasReason(w, store.CallbackRule) != 1 {
		t.Fatalf("entry has %d callback events and %d callback reasons: %+v", got, hasReason(w, store.CallbackRule), w)
	}
}

func testCallbackStates(t *testing.T, s store.Store) {
	tree(t, s)
	sess := submitted(t, s, "class1", "")
	c, w, err := s.CreateCallback(ctx, newCallback(sess.ID, T0), callbackDraft(T0))
	must(t, err)
	_, err = s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: store.CallbackRequested, ActorID: "staff1", At: at(time.Minute)})
	wantErr(t, err, store.ErrInvalidTransition)
	got, err := s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: store.CallbackUnreachable, ActorID: "staff1", At: at(time.Minute)})
	must(t, err)
	if got.State != store.CallbackUnreachable || !got.CalledAt.IsZero() || got.ActorID != "staff1" || got.Version != 2 {
		t.Fatalf("unreachable = %+v", got)
	}
	// The entry moved up the tree meanwhile: the call counts where it is now.
	_, err = s.EscalateWarning(ctx, w.ID, "school", w.DueAt.Add(time.Minute), w.DueAt.Add(time.Hour), "overdue")
	must(t, err)
	called := w.DueAt.Add(2 * time.Minute)
	got, err = s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: store.CallbackCalled, ActorID: "staff2", At: called})
	must(t, err)
	if got.State != store.CallbackCalled || !got.CalledAt.Equal(called) || got.UnitID != "school" || got.UnitPath != "/city/county/school/" {
		t.Fatalf("called = %+v", got)
	}
	got, err = s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: store.CallbackDone, ActorID: "staff2", At: called.Add(time.Hour)})
	must(t, err)
	if got.State != store.CallbackDone || !got.CalledAt.Equal(called) || !got.UpdatedAt.Equal(called.Add(time.Hour)) {
		t.Fatalf("done = %+v", got)
	}
	if again, _ := s.GetCallback(ctx, c.ID); again.State != store.CallbackDone || again.Version != 4 {
		t.Fatalf("GetCallback after moves = %+v", again)
	}
	_, err = s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: store.CallbackCalled, ActorID: "staff2", At: called.Add(2 * time.Hour)})
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.SetCallbackState(ctx, "nope", store.CallbackChange{To: store.CallbackCalled, At: T0})
	wantErr(t, err, store.ErrNotFound)
}

// testCallbackErasure: an erasure blanks the phone and note of a person's
// requests: those of their sessions, and those of an anonymous entry on
// which a case of theirs was recorded. Another person's stay.
func testCallbackErasure(t *testing.T, s store.Store) {
	tree(t, s)
	p, other := person(t, s, "class1"), person(t, s, "class1")
	own, _, err := s.CreateCallback(ctx, newCallback(submitted(t, s, "class1", p.ID).ID, T0), callbackDraft(T0))
	must(t, err)
	anon, w, err := s.CreateCallback(ctx, newCallback(submitted(t, s, "class1", "").ID, T0), callbackDraft(T0))
	must(t, err)
	_, err = s.CreateCase(ctx, store.Case{ID: store.NewID(), PersonID: p.ID, WarningID: w.ID, UnitID: "class1", CounsellorID: "staff1", At: T0, CreatedAt: T0})
	must(t, err)
	kept, _, err := s.CreateCallback(ctx, newCallback(submitted(t, s, "class1", other.ID).ID, T0), callbackDraft(T0))
	must(t, err)
	_, err = s.ErasePerson(ctx, store.Erasure{PersonID: p.ID, At: at(time.Hour)})
	must(t, err)
	for _, id := range []string{own.ID, anon.ID} {
		c, err := s.GetCallback(ctx, id)
		must(t, err)
		if len(c.Phone) != 0 || len(c.Note) != 0 || c.State != store.CallbackRequested || !c.PreferredFrom.Equal(at(time.Hour)) {
			t.Fatalf("after the erasure: %+v", c)
		}
	}
	if c, _ := s.GetCallback(ctx, kept.ID); string(c.Phone) != "13800138000" || string(c.Note) != "下午方便" {
		t.Fatalf("another person's request changed: %+v", c)
	}
}

func slot(t *testing.T, s store.Store, unit string, starts time.Time, capacity int) store.Slot {
	t.Helper()
	sl, err := s.CreateSlot(ctx, store.Slot{ID: store.NewID(), UnitID: unit, StartsAt: starts, EndsAt: starts.Add(time.Hour), Capacity: capacity,
		Location: "二楼咨询室", CreatedBy: "staff1", CreatedAt: T0})
	must(t, err)
	return sl
}

func book(s store.Store, slotID, person string) (store.Booking, error) {
	return s.BookSlot(ctx, store.Booking{ID: store.NewID(), SlotID: slotID, Phone: store.Sealed("13700137000"), PersonID: person, CreatedAt: T0})
}

func testSlots(t *testing.T, s store.Store) {
	tree(t, s)
	a := slot(t, s, "station", at(48*time.Hour), 2)
	if a.UnitPath != "/city/county2/station/" || a.Booked != 0 || a.Closed || a.Free() != 2 || a.Location != "二楼咨询室" || !a.EndsAt.Equal(at(49*time.Hour)) {
		t.Fatalf("CreateSlot = %+v", a)
	}
	b := slot(t, s, "station", at(24*time.Hour), 1)
	c := slot(t, s, "school", at(24*time.Hour), 1)
	d := slot(t, s, "school2", at(72*time.Hour), 1)
	for _, bad := range []store.Slot{
		{ID: "x", UnitID: "station", StartsAt: at(time.Hour), EndsAt: at(time.Hour), Capacity: 1},
		{ID: "x", UnitID: "station", StartsAt: at(time.Hour), EndsAt: at(2 * time.Hour), Capacity: 0},
		{ID: "x", UnitID: "station", StartsAt: at(time.Hour), EndsAt: at(2 * time.Hour), Capacity: store.MaxSlotCapacity + 1},
		{UnitID: "station", StartsAt: at(time.Hour), EndsAt: at(2 * time.Hour), Capacity: 1},
	} {
		_, err := s.CreateSlot(ctx, bad)
		wantErr(t, err, store.ErrInvalid)
	}
	_, err := s.CreateSlot(ctx, store.Slot{ID: "x", UnitID: "nope", StartsAt: at(time.Hour), EndsAt: at(2 * time.Hour), Capacity: 1})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateSlot(ctx, store.Slot{ID: a.ID, UnitID: "station", StartsAt: at(time.Hour), EndsAt: at(2 * time.Hour), Capacity: 1})
	wantErr(t, err, store.ErrConflict)

	ids := func(list []store.Slot) string {
		var out []string
		for _, v := range list {
			out = append(out, v.ID)
		}
		return fmt.Sprint(out)
	}
	all, _, err := s.ListSlots(ctx, store.SlotFilter{}, store.Page{})
	must(t, err)
	if len(all) != 4 || all[3].ID != d.ID || all[2].ID != a.ID {
		t.Fatalf("ListSlots = %s, ordered by start", ids(all))
	}
	county, _, err := s.ListSlots(ctx, store.SlotFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if len(county) != 1 || county[0].ID != c.ID {
		t.Fatalf("school's slots = %s (school2 is not school)", ids(county))
	}
	soon, _, err := s.ListSlots(ctx, store.SlotFilter{UnitID: "station", From: at(time.Hour), To: at(30 * time.Hour)}, store.Page{})
	must(t, err)
	if len(soon) != 1 || soon[0].ID != b.ID {
		t.Fatalf("station's slots within 30h = %s", ids(soon))
	}
	p1, next, err := s.ListSlots(ctx, store.SlotFilter{}, store.Page{Limit: 3})
	must(t, err)
	p2, _, err := s.ListSlots(ctx, store.SlotFilter{}, store.Page{After: next, Limit: 3})
	must(t, err)
	if len(p1) != 3 || len(p2) != 1 || p2[0].ID != d.ID {
		t.Fatalf("pages %s / %s", ids(p1), ids(p2))
	}

	// Full and closed slots are not bookable.
	_, err = book(s, b.ID, "")
	must(t, err)
	closed, err := s.CloseSlot(ctx, c.ID, at(time.Hour))
	must(t, err)
	if !closed.Closed || closed.Free() != 0 || !closed.UpdatedAt.Equal(at(time.Hour)) {
		t.Fatalf("CloseSlot = %+v", closed)
	}
	if again, err := s.CloseSlot(ctx, c.ID, at(2*time.Hour)); err != nil || !again.Closed {
		t.Fatalf("closing again = %+v, %v", again, err)
	}
	_, err = s.CloseSlot(ctx, "nope", T0)
	wantErr(t, err, store.ErrNotFound)
	open, _, err := s.ListSlots(ctx, store.SlotFilter{Bookable: true}, store.Page{})
	must(t, err)
	if ids(open) != ids([]store.Slot{a, d}) {
		t.Fatalf("bookable slots = %s, want %s", ids(open), ids([]store.Slot{a, d}))
	}
	got, err := s.GetSlot(ctx, b.ID)
	must(t, err)
	if got.Booked != 1 || got.Free() != 0 {
		t.Fatalf("GetSlot = %+v", got)
	}
	_, err = s.GetSlot(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testBookings(t *testing.T, s store.Store) {
	tree(t, s)
	p := person(t, s, "class1")
	sl := slot(t, s, "station", at(48*time.Hour), 2)
	sess := submitted(t, s, "class1", "")
	b1, err := s.BookSlot(ctx, store.Booking{ID: store.NewID(), SlotID: sl.ID, Phone: store.Sealed("13700137000"), PhoneIndex: "index-of-13700137000",
		SessionID: sess.ID, CreatedAt: at(time.Minute)})
	must(t, err)
	if b1.State != store.BookingBooked || b1.UnitID != "station" || b1.UnitPath != "/city/county2/station/" || !b1.StartsAt.Equal(sl.StartsAt) ||
		!b1.EndsAt.Equal(sl.EndsAt) || b1.SessionID != sess.ID || b1.Version != 1 || !b1.CreatedAt.Equal(at(time.Minute)) {
		t.Fatalf("BookSlot = %+v", b1)
	}
	got, err := s.GetBooking(ctx, b1.ID)
	must(t, err)
	if string(got.Phone) != "13700137000" || got.PhoneIndex != "index-of-13700137000" || got.SlotID != sl.ID || got.State != store.BookingBooked {
		t.Fatalf("GetBooking = %+v", got)
	}
	b2, err := book(s, sl.ID, p.ID)
	must(t, err)
	_, err = book(s, sl.ID, "")
	wantErr(t, err, store.ErrLimit)
	_, err = book(s, "nope", "")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.BookSlot(ctx, store.Booking{SlotID: sl.ID})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.GetBooking(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	// Cancelling gives the place back.
	c, err := s.SetBookingState(ctx, b2.ID, store.BookingChange{To: store.BookingCancelled, ActorID: "staff1", At: at(time.Hour)})
	must(t, err)
	if c.State != store.BookingCancelled || c.ActorID != "staff1" || c.Version != 2 || !c.UpdatedAt.Equal(at(time.Hour)) {
		t.Fatalf("cancelled = %+v", c)
	}
	if got, _ := s.GetSlot(ctx, sl.ID); got.Booked != 1 {
		t.Fatalf("slot after a cancellation = %+v", got)
	}
	_, err = s.SetBookingState(ctx, b2.ID, store.BookingChange{To: store.BookingKept, ActorID: "staff1", At: at(time.Hour)})
	wantErr(t, err, store.ErrInvalidTransition)
	b3, err := book(s, sl.ID, "")
	must(t, err)
	if got, _ := s.GetSlot(ctx, sl.ID); got.Booked != 2 {
		t.Fatalf("slot after rebooking = %+v", got)
	}

	// Outcomes, with a correction.
	k, err := s.SetBookingState(ctx, b1.ID, store.BookingChange{To: store.BookingNoShow, ActorID: "staff1", At: at(49 * time.Hour)})
	must(t, err)
	k, err = s.SetBookingState(ctx, k.ID, store.BookingChange{To: store.BookingKept, ActorID: "staff2", At: at(50 * time.Hour)})
	must(t, err)
	if k.State != store.BookingKept || k.ActorID != "staff2" {
		t.Fatalf("kept = %+v", k)
	}
	_, err = s.SetBookingState(ctx, b1.ID, store.BookingChange{To: store.BookingCancelled, ActorID: "staff1", At: at(50 * time.Hour)})
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.SetBookingState(ctx, "nope", store.BookingChange{To: store.BookingKept, At: T0})
	wantErr(t, err, store.ErrNotFound)
	if got, _ := s.GetSlot(ctx, sl.ID); got.Booked != 2 {
		t.Fatalf("outcomes changed the places taken: %+v", got)
	}

	// Linking to a person and a case.
	l, err := s.LinkBooking(ctx, b1.ID, p.ID, "", at(51*time.Hour))
	must(t, err)
	if l.PersonID != p.ID || l.CaseID != "" || string(l.Phone) != "13700137000" {
		t.Fatalf("linked = %+v", l)
	}
	l, err = s.LinkBooking(ctx, b1.ID, p.ID, "case-1", at(52*time.Hour))
	must(t, err)
	if l.CaseID != "case-1" || l.Version != 5 {
		t.Fatalf("linked to a case = %+v", l)
	}
	_, err = s.LinkBooking(ctx, b1.ID, "", "case-1", T0)
	wantErr(t, err, store.ErrInvalid)
	_, err = s.LinkBooking(ctx, "nope", p.ID, "", T0)
	wantErr(t, err, store.ErrNotFound)

	// Lists: by unit subtree, slot, person, state and time.
	other := slot(t, s, "school2", at(24*time.Hour), 3)
	_, err = book(s, other.ID, "")
	must(t, err)
	check := func(f store.BookingFilter, want ...string) {
		t.Helper()
		list, _, err := s.ListBookings(ctx, f, store.Page{})
		must(t, err)
		var got []string
		for _, b := range list {
			got = append(got, b.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ListBookings(%+v) = %v, want %v", f, got, want)
		}
	}
	list, _, err := s.ListBookings(ctx, store.BookingFilter{SlotID: sl.ID}, store.Page{})
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("bookings of the slot = %+v", list)
	}
	check(store.BookingFilter{UnitPath: "/city/county/school/"})
	check(store.BookingFilter{UnitPath: "/city/county2/", States: []store.BookingState{store.BookingKept}}, b1.ID)
	check(store.BookingFilter{UnitID: "station", States: []store.BookingState{store.BookingBooked}}, b3.ID)
	check(store.BookingFilter{PersonID: p.ID}, sortedIDs(b1.ID, b2.ID)...)
	check(store.BookingFilter{PhoneIndex: "index-of-13700137000"}, b1.ID)
	check(store.BookingFilter{PhoneIndex: "index-of-13700137000", States: []store.BookingState{store.BookingBooked}})
	check(store.BookingFilter{From: at(30 * time.Hour)}, sortedIDs(b1.ID, b2.ID, b3.ID)...)
	p1, next, err := s.ListBookings(ctx, store.BookingFilter{}, store.Page{Limit: 2})
	must(t, err)
	p2, _, err := s.ListBookings(ctx, store.BookingFilter{}, store.Page{After: next, Limit: 2})
	must(t, err)
	if len(p1) != 2 || len(p2) != 2 || p1[0].SlotID != other.ID {
		t.Fatalf("pages %+v / %+v", p1, p2)
	}
}

func sortedIDs(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// testBookingRace: of many concurrent bookers, exactly the slot's capacity
// get a place.
func testBookingRace(t *testing.T, s store.Store) {
	tree(t, s)
	const capacity, bookers = 5, 24
	sl := slot(t, s, "station", at(48*time.Hour), capacity)
	var wg sync.WaitGroup
	errs := make([]error, bookers)
	for i := range bookers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = book(s, sl.ID, "")
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrLimit):
			t.Fatalf("booker %d: %v", i, err)
		}
	}
	if ok != capacity {
		t.Fatalf("%d of %d concurrent bookers got a place in a slot of %d", ok, bookers, capacity)
	}
	got, err := s.GetSlot(ctx, sl.ID)
	must(t, err)
	list, _, err := s.ListBookings(ctx, store.BookingFilter{SlotID: sl.ID}, store.Page{})
	must(t, err)
	if got.Booked != capacity || len(list) != capacity {
		t.Fatalf("slot = %+v with %d bookings", got, len(list))
	}
}

func testHandoffCounts(t *testing.T, s store.Store) {
	tree(t, s)
	from, to := at(24*time.Hour), at(48*time.Hour)
	mark := func(unit string, when time.Time, states ...store.CallbackState) {
		t.Helper()
		c, _, err := s.CreateCallback(ctx, newCallback(submitted(t, s, unit, "").ID, T0), callbackDraft(T0))
		must(t, err)
		for _, st := range states {
			_, err = s.SetCallbackState(ctx, c.ID, store.CallbackChange{To: st, ActorID: "staff1", At: when})
			must(t, err)
		}
	}
	mark("class1", at(30*time.Hour), store.CallbackCalled)
	mark("class1", at(30*time.Hour), store.CallbackCalled, store.CallbackDone)
	mark("class1", at(30*time.Hour), store.CallbackUnreachable) // no call made
	mark("class1", at(30*time.Hour), store.CallbackDone)        // closed without a call
	mark("class3", at(30*time.Hour), store.CallbackCalled)
	mark("class1", at(50*time.Hour), store.CallbackCalled) // after the period
	mark("class1", at(30*time.Hour))                       // still requested

	in := slot(t, s, "station", at(30*time.Hour), 5)
	late := slot(t, s, "station", at(60*time.Hour), 5)
	outcome := func(sl store.Slot, to store.BookingState, caseID string) {
		t.Helper()
		b, err := book(s, sl.ID, "")
		must(t, err)
		_, err = s.SetBookingState(ctx, b.ID, store.BookingChange{To: to, ActorID: "staff1", At: sl.EndsAt})
		must(t, err)
		if caseID != "" {
			_, err = s.LinkBooking(ctx, b.ID, "p1", caseID, sl.EndsAt)
			must(t, err)
		}
	}
	outcome(in, store.BookingKept, "")
	outcome(in, store.BookingKept, "")
	outcome(in, store.BookingKept, "case-1") // counted as its case
	outcome(in, store.BookingNoShow, "")
	outcome(in, store.BookingCancelled, "")
	outcome(late, store.BookingKept, "")

	got, err := s.HandoffCounts(ctx, "/city/", from, to)
	must(t, err)
	want := []store.HandoffCount{{UnitID: "class1", CallbacksMade: 2}, {UnitID: "class3", CallbacksMade: 1}, {UnitID: "station", BookingsKept: 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("HandoffCounts = %+v, want %+v", got, want)
	}
	got, err = s.HandoffCounts(ctx, "/city/county/school/", from, to)
	must(t, err)
	if fmt.Sprint(got) != fmt.Sprint(want[:1]) {
		t.Fatalf("HandoffCounts in school = %+v (school2 is not school)", got)
	}
	got, err = s.HandoffCounts(ctx, "/city/", at(100*time.Hour), at(200*time.Hour))
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("HandoffCounts of an empty period = %+v", got)
	}
}
