package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"xinling/store"
)

// testOutboxWithWarnings: an entry's debt to the on-duty staff is written
// with the entry, once per level it reaches, and never by a replay.
func testOutboxWithWarnings(t *testing.T, s store.Store) {
	tree(t, s)
	owed := func(w store.Warning) []store.Notification {
		t.Helper()
		ns, _, err := s.ListNotifications(ctx, store.NotificationFilter{WarningID: w.ID}, store.Page{})
		must(t, err)
		return ns
	}
	first := flagged(t, s, "class1", 2, T0)
	ns := owed(first)
	if len(ns) != 1 || ns[0].ID != fmt.Sprintf("warning:%s:level2", first.ID) || ns[0].Kind != store.NotifyWarning ||
		ns[0].Level != 2 || ns[0].UnitID != "class1" || ns[0].UnitPath != "/city/county/school/class1/" ||
		ns[0].State != store.NotificationPending || !ns[0].NotBefore.Equal(T0) || !ns[0].DueAt.Equal(first.DueAt) {
		t.Fatalf("a new level-2 entry owes %+v", ns)
	}
	// A replayed submit owes nothing more.
	if _, err := s.Submit(ctx, store.Submission{SessionID: first.SessionID, At: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if len(owed(first)) != 1 {
		t.Fatal("a replay added a notification")
	}
	// A follow-up at the same level joins the entry and owes nothing new; one
	// that raises it to level 1 owes the level-1 message.
	join := func(level int, minute time.Duration) {
		t.Helper()
		sess, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), PersonID: first.PersonID, UnitID: "class1",
			FollowUpOf: first.SessionID, Instruments: []string{"asq"}, CreatedAt: at(minute)})
		must(t, err)
		rid := store.NewID()
		_, err = s.Submit(ctx, store.Submission{SessionID: sess.ID, At: at(minute + time.Minute), Results: []store.Result{{ID: rid, Instrument: "asq"}},
			Warning: &store.WarningDraft{ID: store.NewID(), Key: first.Key, Level: level, DueAt: at(30 * time.Minute),
				Reasons: []store.Reason{{ResultID: rid, Instrument: "asq", Rule: "r", Level: level}}}})
		must(t, err)
	}
	join(2, time.Minute)
	if len(owed(first)) != 1 {
		t.Fatalf("a merge at the same level owes %+v", owed(first))
	}
	join(1, 5*time.Minute)
	ns = owed(first)
	if len(ns) != 2 || ns[1].ID != fmt.Sprintf("warning:%s:level1", first.ID) || ns[1].Level != 1 {
		t.Fatalf("a merge that raised the level owes %+v", ns)
	}
	// A submit without a warning owes nothing.
	calm := session(t, s, "class2", "")
	_, err := s.Submit(ctx, store.Submission{SessionID: calm.ID, At: T0, Results: []store.Result{{ID: store.NewID(), Instrument: "phq9"}}})
	must(t, err)
	all, _, err := s.ListNotifications(ctx, store.NotificationFilter{}, store.Page{})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("%d notifications in all, want 2", len(all))
	}
}

// testOutboxDelivery: enqueueing is idempotent; a claim leases due
// notifications to one owner; only the owner finishes; retries wait;
// dead ones form the dead-letter list; counts add up.
func testOutboxDelivery(t *testing.T, s store.Store) {
	tree(t, s)
	mk := func(id, unit string, notBefore time.Time) store.Notification {
		return store.Notification{ID: id, Kind: store.NotifyDelivery, UnitID: unit, ParentID: "parent-" + unit, ContactID: "c1",
			Channel: "wecom", Level: 1, NotBefore: notBefore, CreatedAt: T0}
	}
	added, err := s.EnqueueNotifications(ctx, []store.Notification{mk("a", "class1", T0), mk("b", "class3", T0), mk("later", "class1", at(time.Hour))})
	must(t, err)
	again, err := s.EnqueueNotifications(ctx, []store.Notification{mk("a", "class1", T0), mk("c", "station", T0)})
	must(t, err)
	if added != 3 || again != 1 {
		t.Fatalf("enqueued %d then %d, want 3 then 1", added, again)
	}
	_, err = s.EnqueueNotifications(ctx, []store.Notification{mk("x", "nowhere", T0)})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.EnqueueNotifications(ctx, []store.Notification{{Kind: store.NotifyDelivery}})
	wantErr(t, err, store.ErrInvalid)

	// Only due ones are claimed, each by one owner.
	got, err := s.ClaimNotifications(ctx, "s1", at(time.Minute), at(2*time.Minute), 10)
	must(t, err)
	ids := func(ns []store.Notification) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		slices.Sort(out)
		return out
	}
	if fmt.Sprint(ids(got)) != "[a b c]" || got[0].Attempts != 1 || got[0].LeaseOwner != "s1" {
		t.Fatalf("claimed %v (%+v)", ids(got), got)
	}
	if other, err := s.ClaimNotifications(ctx, "s2", at(time.Minute), at(2*time.Minute), 10); err != nil || len(other) != 0 {
		t.Fatalf("a second server claimed leased ones: %v %v", ids(other), err)
	}
	// Only the owner finishes.
	_, err = s.FinishNotification(ctx, "a", "s2", store.NotificationFinish{State: store.NotificationSent, At: at(time.Minute)})
	wantErr(t, err, store.ErrLeaseHeld)
	_, err = s.FinishNotification(ctx, "a", "s1", store.NotificationFinish{State: "lost", At: at(time.Minute)})
	wantErr(t, err, store.ErrInvalid)
	sent, err := s.FinishNotification(ctx, "a", "s1", store.NotificationFinish{State: store.NotificationSent, At: at(time.Minute)})
	must(t, err)
	if sent.State != store.NotificationSent || !sent.SentAt.Equal(at(time.Minute)) || sent.LeaseOwner != "" {
		t.Fatalf("sent = %+v", sent)
	}
	_, err = s.FinishNotification(ctx, "a", "s1", store.NotificationFinish{State: store.NotificationSent, At: at(time.Minute)})
	wantErr(t, err, store.ErrLeaseHeld)
	// A retry waits for its time; a dead one is listed.
	_, err = s.FinishNotification(ctx, "b", "s1", store.NotificationFinish{State: store.NotificationPending, NotBefore: at(10 * time.Minute),
		Error: "wecom: 502", At: at(time.Minute)})
	must(t, err)
	_, err = s.FinishNotification(ctx, "c", "s1", store.NotificationFinish{State: store.NotificationDead, Error: "sms: invalid signature", At: at(time.Minute)})
	must(t, err)
	if early, _ := s.ClaimNotifications(ctx, "s2", at(5*time.Minute), at(6*time.Minute), 10); len(early) != 0 {
		t.Fatalf("claimed before its retry time: %v", ids(early))
	}
	retry, err := s.ClaimNotifications(ctx, "s2", at(10*time.Minute), at(11*time.Minute), 10)
	must(t, err)
	if fmt.Sprint(ids(retry)) != "[b]" || retry[0].Attempts != 2 || retry[0].LastError != "wecom: 502" {
		t.Fatalf("retry claimed %+v", retry)
	}
	// A lease that ran out goes to another server.
	taken, err := s.ClaimNotifications(ctx, "s3", at(20*time.Minute), at(21*time.Minute), 10)
	must(t, err)
	if fmt.Sprint(ids(taken)) != "[b]" || taken[0].Attempts != 3 {
		t.Fatalf("expired lease claimed %+v", taken)
	}
	_, err = s.FinishNotification(ctx, "b", "s2", store.NotificationFinish{State: store.NotificationSent, At: at(20 * time.Minute)})
	wantErr(t, err, store.ErrLeaseHeld)
	dead, _, err := s.ListNotifications(ctx, store.NotificationFilter{States: []store.NotificationState{store.NotificationDead}}, store.Page{})
	must(t, err)
	if fmt.Sprint(ids(dead)) != "[c]" || dead[0].LastError != "sms: invalid signature" {
		t.Fatalf("dead letters %+v", dead)
	}
	scoped, _, err := s.ListNotifications(ctx, store.NotificationFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if fmt.Sprint(ids(scoped)) != "[a later]" {
		t.Fatalf("school's notifications %v", ids(scoped))
	}
	byParent, _, err := s.ListNotifications(ctx, store.NotificationFilter{ParentID: "parent-class3"}, store.Page{})
	must(t, err)
	if fmt.Sprint(ids(byParent)) != "[b]" {
		t.Fatalf("by parent %v", ids(byParent))
	}
	counts, err := s.NotificationCounts(ctx)
	must(t, err)
	want := map[store.NotificationState]int{store.NotificationSent: 1, store.NotificationPending: 2, store.NotificationDead: 1}
	for _, c := range counts {
		if c.Kind != store.NotifyDelivery || c.Channel != "wecom" || c.Count != want[c.State] {
			t.Fatalf("counts %+v", counts)
		}
		delete(want, c.State)
	}
	if len(want) != 0 {
		t.Fatalf("counts %+v miss %v", counts, want)
	}
}

// testOutboxClaimRace: servers claiming at once never share a notification.
func testOutboxClaimRace(t *testing.T, s store.Store) {
	tree(t, s)
	var ns []store.Notification
	for i := range 12 {
		ns = append(ns, store.Notification{ID: fmt.Sprintf("n%02d", i), Kind: store.NotifyWarning, UnitID: "class1", NotBefore: T0, CreatedAt: T0})
	}
	_, err := s.EnqueueNotifications(ctx, ns)
	must(t, err)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("server%d", i)
			got, err := s.ClaimNotifications(ctx, owner, at(time.Minute), at(time.Hour), 4)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, n := range got {
				if prev, dup := seen[n.ID]; dup {
					t.Errorf("%s claimed by %s and %s", n.ID, prev, owner)
				}
				seen[n.ID] = owner
			}
		}()
	}
	wg.Wait()
	for id, owner := range seen {
		n, err := s.GetNotification(ctx, id)
		must(t, err)
		if n.LeaseOwner != owner || n.Attempts != 1 {
			t.Fatalf("%s is held by %s with %d attempts, claimed by %s", id, n.LeaseOwner, n.Attempts, owner)
		}
	}
}
