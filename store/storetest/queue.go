package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"xinling/store"
)

func testSubmit(t *testing.T, s store.Store) {
	tree(t, s)
	p := person(t, s, "class1")
	sess := session(t, s, "class1", p.ID)
	r1, r2 := store.NewID(), store.NewID()
	sub := store.Submission{SessionID: sess.ID, At: at(time.Hour), Results: []store.Result{
		{ID: r1, Instrument: "phq9", Version: "1.0.0", ContentHash: "h9", Scores: map[string]float64{"total": 22},
			Bands: map[string]string{"total": "severe"}, Flags: []string{"too_fast"}, Payload: []byte(`{"x":1}`)},
		{ID: r2, Instrument: "gad7", Version: "1.0.0", ContentHash: "h7", Scores: map[string]float64{"total": 3}},
	}, Warning: &store.WarningDraft{ID: "w1", Level: 2, DueAt: at(2 * time.Hour), Reasons: []store.Reason{
		{ResultID: r1, Instrument: "phq9", Rule: "total", Level: 2},
		{ResultID: r1, Instrument: "phq9", Rule: "item9", Level: 1, Text: map[string]string{"zh-CN": "第9题", "en": "item 9"}},
	}}}
	out, err := s.Submit(ctx, sub)
	must(t, err)
	if out.Replayed || len(out.Results) != 2 || out.Warning == nil {
		t.Fatalf("Submit = %+v", out)
	}
	w := out.Warning
	sameAsStored(t, s, *w)
	// One entry for the person's battery, listing every reason, at the most severe level.
	if w.Level != 1 || len(w.Reasons) != 2 || w.State != store.WarningOpen || w.PersonID != p.ID || w.SessionID != sess.ID ||
		w.UnitPath != "/city/county/school/class1/" || !w.DueAt.Equal(at(2*time.Hour)) || w.Reasons[1].Text["zh-CN"] != "第9题" {
		t.Fatalf("warning = %+v", w)
	}
	again, err := s.Submit(ctx, sub)
	must(t, err)
	if !again.Replayed || again.Warning == nil || again.Warning.ID != w.ID || len(again.Results) != 2 {
		t.Fatalf("replayed submit = %+v", again)
	}
	all, _, err := s.ListWarnings(ctx, store.WarningFilter{}, store.Page{})
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("%d warnings after a replayed submit, want 1", len(all))
	}
	res, err := s.GetResult(ctx, r1)
	must(t, err)
	if res.PersonID != p.ID || res.SessionID != sess.ID || res.Scores["total"] != 22 || res.Bands["total"] != "severe" ||
		!eqStrings(res.Flags, []string{"too_fast"}) || string(res.Payload) != `{"x":1}` || res.ContentHash != "h9" || !res.CreatedAt.Equal(at(time.Hour)) {
		t.Fatalf("GetResult = %+v", res)
	}
	got, err := s.GetSession(ctx, sess.ID)
	must(t, err)
	if got.State != store.SessionSubmitted {
		t.Fatalf("session state %s after submit", got.State)
	}
	_, err = s.Submit(ctx, store.Submission{SessionID: "nope", At: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Submit(ctx, store.Submission{SessionID: sess.ID, Results: []store.Result{{Instrument: "phq9"}}})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.Submit(ctx, store.Submission{SessionID: sess.ID, Warning: &store.WarningDraft{Level: 4}})
	wantErr(t, err, store.ErrInvalid)

	// A submission without warnings creates none.
	s2 := session(t, s, "class1", p.ID)
	out, err = s.Submit(ctx, store.Submission{SessionID: s2.ID, At: T0, Results: []store.Result{{ID: store.NewID(), Instrument: "gad7"}}})
	must(t, err)
	if out.Warning != nil {
		t.Fatalf("unflagged submit made warning %+v", out.Warning)
	}
}

// testSubmitAtomic: a submission that fails leaves nothing behind, and no
// result is ever visible without its warning, even to concurrent readers.
func testSubmitAtomic(t *testing.T, s store.Store) {
	tree(t, s)
	first := flagged(t, s, "class1", 1, T0)
	sess := session(t, s, "class1", "")
	rid := store.NewID()
	// The second result reuses an existing id: the whole submission fails.
	_, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: T0, Results: []store.Result{
		{ID: rid, Instrument: "phq9"}, {ID: first.ResultIDs[0], Instrument: "gad7"}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, Reasons: []store.Reason{{ResultID: rid, Level: 1}}}})
	wantErr(t, err, store.ErrConflict)
	if _, err := s.GetResult(ctx, rid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed submit left its result: %v", err)
	}
	ws, _, err := s.ListWarnings(ctx, store.WarningFilter{}, store.Page{})
	must(t, err)
	if len(ws) != 1 {
		t.Fatalf("failed submit left a warning: %d entries", len(ws))
	}
	if got, _ := s.GetSession(ctx, sess.ID); got.State != store.SessionOpen {
		t.Fatalf("failed submit changed the session to %s", got.State)
	}

	// Readers racing with submits never see a flagged result without its entry.
	const n = 20
	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan string, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			rs, _, err := s.ListResults(ctx, store.ResultFilter{Instrument: "asq"}, store.Page{Limit: store.MaxLimit})
			if err != nil {
				continue
			}
			for _, r := range rs {
				ws, _, err := s.ListWarnings(ctx, store.WarningFilter{PersonID: r.PersonID}, store.Page{})
				if err == nil && len(ws) == 0 {
					select {
					case bad <- r.ID:
					default:
					}
				}
			}
		}
	}()
	for i := 0; i < n; i++ {
		p := person(t, s, "class2")
		ss := session(t, s, "class2", p.ID)
		rid := store.NewID()
		_, err := s.Submit(ctx, store.Submission{SessionID: ss.ID, At: T0, Results: []store.Result{{ID: rid, Instrument: "asq"}},
			Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, Reasons: []store.Reason{{ResultID: rid, Level: 1}}}})
		must(t, err)
	}
	close(stop)
	wg.Wait()
	select {
	case id := <-bad:
		t.Fatalf("result %s was visible without its warning", id)
	default:
	}
}

// testSubmitMerge: a follow-up session passes the first session's key, so
// one person's flags stay in one entry that links both results.
func testSubmitMerge(t *testing.T, s store.Store) {
	tree(t, s)
	first := flagged(t, s, "class1", 2, T0)
	sess, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), PersonID: first.PersonID, UnitID: "class1",
		FollowUpOf: first.SessionID, Instruments: []string{"asq"}, CreatedAt: at(time.Minute)})
	must(t, err)
	rid := store.NewID()
	out, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: at(2 * time.Minute), Results: []store.Result{{ID: rid, Instrument: "asq"}},
		Warning: &store.WarningDraft{ID: store.NewID(), Key: first.Key, Level: 1, DueAt: at(30 * time.Minute),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "asq", Rule: "acute", Level: 1}}}})
	must(t, err)
	w := out.Warning
	if w == nil || w.ID != first.ID || w.Level != 1 || len(w.Reasons) != 2 || len(w.ResultIDs) != 2 || w.ResultIDs[1] != rid ||
		!w.DueAt.Equal(at(30*time.Minute)) {
		t.Fatalf("merged warning = %+v", w)
	}
	sameAsStored(t, s, *w)
	full, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	if len(full.History) != 2 || full.History[0].Kind != store.EventCreated || full.History[1].Kind != store.EventMerged {
		t.Fatalf("history = %+v", full.History)
	}
	again, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: at(3 * time.Minute)})
	must(t, err)
	if !again.Replayed || again.Warning == nil || again.Warning.ID != first.ID {
		t.Fatalf("replay of follow-up = %+v", again)
	}
}

func testResults(t *testing.T, s store.Store) {
	tree(t, s)
	for i, u := range []string{"class1", "class2", "class3", "station"} {
		p := person(t, s, u)
		sess := session(t, s, u, p.ID)
		_, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: at(time.Duration(i) * time.Hour),
			Results: []store.Result{{ID: store.NewID(), Instrument: "phq9"}, {ID: store.NewID(), Instrument: "gad7"}}})
		must(t, err)
	}
	count := func(f store.ResultFilter) int {
		t.Helper()
		rs, _, err := s.ListResults(ctx, f, store.Page{})
		must(t, err)
		return len(rs)
	}
	if n := count(store.ResultFilter{UnitPath: "/city/county/school/"}); n != 4 {
		t.Fatalf("school results = %d, want 4", n)
	}
	if n := count(store.ResultFilter{Instrument: "gad7"}); n != 4 {
		t.Fatalf("gad7 results = %d, want 4", n)
	}
	if n := count(store.ResultFilter{From: at(time.Hour), To: at(3 * time.Hour)}); n != 4 {
		t.Fatalf("results in window = %d, want 4", n)
	}
	_, err := s.GetResult(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testClaimRace(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "class1", 1, T0)
	const n = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			staff := "staff" + string(rune('A'+i))
			_, err := s.ClaimWarning(ctx, w.ID, staff, at(time.Minute), at(time.Hour))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, staff)
				mu.Unlock()
			case !errors.Is(err, store.ErrLeaseHeld):
				t.Errorf("claim: %v", err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d claimers won: %v", len(winners), winners)
	}
	got, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	if got.AssigneeID != winners[0] || got.State != store.WarningClaimed {
		t.Fatalf("entry = %+v, winner %s", got, winners[0])
	}
	claims := 0
	for _, e := range got.History {
		if e.Kind == store.EventClaimed {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("history records %d claims", claims)
	}
}

func testClaimLease(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "class1", 1, T0)
	_, err := s.ClaimWarning(ctx, w.ID, "a", at(time.Minute), at(10*time.Minute))
	must(t, err)
	_, err = s.ClaimWarning(ctx, w.ID, "b", at(5*time.Minute), at(20*time.Minute))
	wantErr(t, err, store.ErrLeaseHeld)
	renewed, err := s.ClaimWarning(ctx, w.ID, "a", at(6*time.Minute), at(30*time.Minute))
	must(t, err)
	if !renewed.LeaseUntil.Equal(at(30 * time.Minute)) {
		t.Fatalf("renewal lease = %v", renewed.LeaseUntil)
	}
	taken, err := s.ClaimWarning(ctx, w.ID, "b", at(31*time.Minute), at(time.Hour))
	must(t, err)
	if taken.AssigneeID != "b" {
		t.Fatalf("expired lease not taken over: %+v", taken)
	}
	_, err = s.ClaimWarning(ctx, "nope", "b", T0, T0)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ClaimWarning(ctx, w.ID, "", T0, T0)
	wantErr(t, err, store.ErrInvalid)
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "b", To: store.WarningClosed, Outcome: "resolved", At: at(time.Hour)})
	must(t, err)
	_, err = s.ClaimWarning(ctx, w.ID, "b", at(2*time.Hour), at(3*time.Hour))
	wantErr(t, err, store.ErrInvalidTransition)
}

func testTransitions(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "class1", 1, T0)
	_, err := s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningFollowingUp, At: T0})
	wantErr(t, err, store.ErrInvalidTransition) // open cannot skip the claim
	claimed(t, s, w, "a")
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "b", To: store.WarningFollowingUp, At: T0})
	wantErr(t, err, store.ErrLeaseHeld)
	v, err := s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningFollowingUp, Note: "called", At: at(2 * time.Minute)})
	must(t, err)
	if v.State != store.WarningFollowingUp {
		t.Fatalf("state = %s", v.State)
	}
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningClaimed, At: T0})
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningClosed, At: T0})
	wantErr(t, err, store.ErrInvalid) // closing needs an outcome
	v, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningOpen, Note: "release", At: at(3 * time.Minute)})
	must(t, err)
	if v.State != store.WarningOpen || v.AssigneeID != "" || !v.LeaseUntil.IsZero() {
		t.Fatalf("released = %+v", v)
	}
	claimed(t, s, w, "c")
	v, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "c", To: store.WarningClosed, Outcome: "false_positive", Note: "ok", At: at(4 * time.Minute)})
	must(t, err)
	if v.State != store.WarningClosed || v.Outcome != "false_positive" {
		t.Fatalf("closed = %+v", v)
	}
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "c", To: store.WarningOpen, At: T0})
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.TransitionWarning(ctx, "nope", store.WarningChange{ActorID: "c", To: store.WarningOpen, At: T0})
	wantErr(t, err, store.ErrNotFound)

	full, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	var kinds []string
	for _, e := range full.History {
		kinds = append(kinds, e.Kind+":"+string(e.To))
	}
	want := []string{"created:open", "claimed:claimed", "transition:following_up", "transition:open", "claimed:claimed", "transition:closed"}
	if !eqStrings(kinds, want) {
		t.Fatalf("history = %v, want %v", kinds, want)
	}
	if full.History[2].Note != "called" || full.History[5].Outcome != "false_positive" || !full.History[2].At.Equal(at(2*time.Minute)) {
		t.Fatalf("history details = %+v", full.History)
	}
	_, err = s.GetWarning(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testAssignEscalate(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "class1", 1, T0)
	v, err := s.AssignWarning(ctx, w.ID, "lead", "b", at(time.Minute), at(time.Hour), "yours")
	must(t, err)
	if v.State != store.WarningClaimed || v.AssigneeID != "b" {
		t.Fatalf("assigned = %+v", v)
	}
	_, err = s.AssignWarning(ctx, w.ID, "lead", "", T0, T0, "")
	wantErr(t, err, store.ErrInvalid)
	_, err = s.AssignWarning(ctx, "nope", "lead", "b", T0, T0, "")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.EscalateWarning(ctx, w.ID, "county", at(2*time.Hour), at(3*time.Hour), "sla")
	wantErr(t, err, store.ErrInvalidTransition) // claimed entries are being handled

	o := flagged(t, s, "class2", 1, T0)
	late := flagged(t, s, "class3", 1, at(time.Hour))
	due, err := s.ScanOverdue(ctx, at(90*time.Minute), 10)
	must(t, err)
	if len(due) != 1 || due[0].ID != o.ID {
		t.Fatalf("ScanOverdue = %+v", due)
	}
	due, err = s.ScanOverdue(ctx, at(3*time.Hour), 10)
	must(t, err)
	if len(due) != 2 || due[0].ID != o.ID || due[1].ID != late.ID {
		t.Fatalf("ScanOverdue order = %v", due)
	}
	_, err = s.EscalateWarning(ctx, o.ID, "nope", at(2*time.Hour), at(3*time.Hour), "sla")
	wantErr(t, err, store.ErrNotFound)
	e, err := s.EscalateWarning(ctx, o.ID, "school", at(2*time.Hour), at(4*time.Hour), "sla")
	must(t, err)
	if e.UnitID != "school" || e.UnitPath != "/city/county/school/" || e.Escalations != 1 || !e.DueAt.Equal(at(4*time.Hour)) {
		t.Fatalf("escalated = %+v", e)
	}
	due, err = s.ScanOverdue(ctx, at(3*time.Hour), 10)
	must(t, err)
	if len(due) != 1 || due[0].ID != late.ID {
		t.Fatalf("ScanOverdue after escalation = %v", due)
	}
	// A second server that scanned before the move must not escalate it
	// again: it is no longer overdue.
	_, err = s.EscalateWarning(ctx, o.ID, "school", at(2*time.Hour), at(4*time.Hour), "sla")
	wantErr(t, err, store.ErrInvalidTransition)
	full, err := s.GetWarning(ctx, o.ID)
	must(t, err)
	if full.Escalations != 1 || len(full.History) != 2 {
		t.Fatalf("after a repeated escalation: %d escalations, history %+v", full.Escalations, full.History)
	}
	last := full.History[len(full.History)-1]
	if last.Kind != store.EventEscalated || last.UnitID != "school" || last.Note != "sla" {
		t.Fatalf("escalation event = %+v", last)
	}
	_, err = s.EscalateWarning(ctx, "nope", "school", T0, T0, "")
	wantErr(t, err, store.ErrNotFound)

	// Servers racing to escalate the same overdue entry: exactly one moves it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.EscalateWarning(ctx, late.ID, "class3", at(3*time.Hour), at(5*time.Hour), "sla")
			if err != nil && !errors.Is(err, store.ErrInvalidTransition) {
				t.Errorf("racing escalation: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			}
		}()
	}
	wg.Wait()
	raced, err := s.GetWarning(ctx, late.ID)
	must(t, err)
	if won != 1 || raced.Escalations != 1 {
		t.Fatalf("racing escalations: %d won, entry escalated %d times", won, raced.Escalations)
	}
}

// testQueueScope: a subtree query never returns rows from outside it, in
// particular not from a sibling whose id shares a prefix (school, school2).
func testQueueScope(t *testing.T, s store.Store) {
	units := tree(t, s)
	want := map[string]int{}
	for i, u := range []string{"class1", "class2", "school", "class3", "school2", "station", "county", "class1", "class3"} {
		w := flagged(t, s, u, 1+i%3, at(time.Duration(i)*time.Minute))
		want[w.UnitPath]++
	}
	for _, scope := range []string{"school", "school2", "class1", "county", "county2", "city"} {
		path := units[scope].Path
		ws, _, err := s.ListWarnings(ctx, store.WarningFilter{UnitPath: path}, store.Page{Limit: store.MaxLimit})
		must(t, err)
		n := 0
		for p, c := range want {
			if store.InSubtree(p, path) {
				n += c
			}
		}
		if len(ws) != n {
			t.Fatalf("scope %s: %d entries, want %d", scope, len(ws), n)
		}
		for _, w := range ws {
			if !store.InSubtree(w.UnitPath, path) {
				t.Fatalf("scope %s leaked entry in %s", scope, w.UnitPath)
			}
		}
	}
	// Filters and order: level, then age.
	ws, _, err := s.ListWarnings(ctx, store.WarningFilter{Levels: []int{1, 2}}, store.Page{})
	must(t, err)
	for i := 1; i < len(ws); i++ {
		a, b := ws[i-1], ws[i]
		if a.Level > b.Level || a.Level == b.Level && a.CreatedAt.After(b.CreatedAt) {
			t.Fatalf("order broken at %d: %+v then %+v", i, a, b)
		}
		if b.Level == 3 {
			t.Fatal("level filter let level 3 through")
		}
	}
	claimed(t, s, ws[0], "a")
	open, _, err := s.ListWarnings(ctx, store.WarningFilter{States: []store.WarningState{store.WarningOpen}}, store.Page{Limit: 100})
	must(t, err)
	if len(open) != 8 {
		t.Fatalf("open entries = %d, want 8", len(open))
	}
	mine, _, err := s.ListWarnings(ctx, store.WarningFilter{AssigneeID: "a"}, store.Page{})
	must(t, err)
	if len(mine) != 1 || mine[0].ID != ws[0].ID {
		t.Fatalf("assignee filter = %+v", mine)
	}
	over, _, err := s.ListWarnings(ctx, store.WarningFilter{OverdueAt: at(63 * time.Minute)}, store.Page{})
	must(t, err)
	if len(over) != 3 { // created at 0, 1, 2 minutes, due an hour later
		t.Fatalf("overdue entries = %d, want 3", len(over))
	}
}

// testQueuePagination: entries inserted between pages (before and after the
// cursor) never make an entry appear twice or vanish.
func testQueuePagination(t *testing.T, s store.Store) {
	tree(t, s)
	orig := map[string]bool{}
	for i := 0; i < 12; i++ {
		w := flagged(t, s, "class1", 1+i%3, at(time.Duration(i)*time.Minute))
		orig[w.ID] = false
	}
	seen := map[string]bool{}
	after := ""
	pages := 0
	for {
		ws, next, err := s.ListWarnings(ctx, store.WarningFilter{UnitPath: "/city/county/"}, store.Page{After: after, Limit: 4})
		must(t, err)
		for _, w := range ws {
			if seen[w.ID] {
				t.Fatalf("entry %s seen twice", w.ID)
			}
			seen[w.ID] = true
		}
		pages++
		// Inserts on both sides of the cursor: an old level-1 and a new level-3 entry.
		flagged(t, s, "class2", 1, at(-time.Duration(pages)*time.Minute))
		flagged(t, s, "class2", 3, at(time.Duration(100+pages)*time.Minute))
		if next == "" {
			break
		}
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		after = next
	}
	for id := range orig {
		if !seen[id] {
			t.Fatalf("entry %s vanished while paging", id)
		}
	}
	_, _, err := s.ListWarnings(ctx, store.WarningFilter{}, store.Page{After: "###"})
	wantErr(t, err, store.ErrInvalid)
}

// testChangeFeed: servers sharing a store learn of each other's queue
// changes through WarningsChangedSince, oldest change first.
func testChangeFeed(t *testing.T, s store.Store) {
	feed, ok := s.(store.ChangeFeed)
	if !ok {
		t.Fatal("the backend does not implement store.ChangeFeed")
	}
	tree(t, s)
	a := flagged(t, s, "class1", 1, T0)
	b := flagged(t, s, "class2", 2, at(time.Minute))
	claimed, err := s.ClaimWarning(ctx, a.ID, "x", at(2*time.Minute), at(time.Hour))
	must(t, err)
	ids := func(ws []store.Warning) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	for _, c := range []struct {
		since time.Time
		limit int
		want  []string
	}{
		{T0, 10, []string{b.ID, a.ID}},
		{at(time.Minute), 10, []string{b.ID, a.ID}}, // at or after
		{at(90 * time.Second), 10, []string{a.ID}},
		{at(3 * time.Minute), 10, nil},
		{T0, 1, []string{b.ID}},
	} {
		got, err := feed.WarningsChangedSince(ctx, c.since, c.limit)
		must(t, err)
		if fmt.Sprint(ids(got)) != fmt.Sprint(c.want) {
			t.Fatalf("since %v limit %d: %v, want %v", c.since, c.limit, ids(got), c.want)
		}
	}
	got, err := feed.WarningsChangedSince(ctx, at(90*time.Second), 10)
	must(t, err)
	if got[0].Version != claimed.Version || got[0].State != store.WarningClaimed || got[0].UnitPath == "" {
		t.Fatalf("changed entry = %+v, want the claimed version %d", got[0], claimed.Version)
	}
}

// sameAsStored checks that the warning a submit returned is the entry as
// stored, version included: a backend may build it instead of reading it
// back, but must not make it up.
func sameAsStored(t *testing.T, s store.Store, w store.Warning) {
	t.Helper()
	got, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	got.History = nil
	for _, p := range []struct{ a, b *time.Time }{{&w.LeaseUntil, &got.LeaseUntil}, {&w.DueAt, &got.DueAt},
		{&w.CreatedAt, &got.CreatedAt}, {&w.UpdatedAt, &got.UpdatedAt}} {
		if !p.a.Equal(*p.b) {
			t.Fatalf("submit returned times %v, stored %v", *p.a, *p.b)
		}
		*p.a, *p.b = time.Time{}, time.Time{}
	}
	if fmt.Sprintf("%#v", w) != fmt.Sprintf("%#v", got) {
		t.Fatalf("submit returned warning\n%#v\nstored\n%#v", w, got)
	}
}
