package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xinling/store"
)

// NotifyFixture is a unit's settings with a value in every field: two
// endpoints (one with a secret), a contact by SMS on weekday hours, one by
// e-mail overnight and one on the WeCom robot at all hours.
func NotifyFixture(unitID string) store.NotifySettings {
	return store.NotifySettings{UnitID: unitID,
		Endpoints: []store.NotifyEndpoint{
			{Channel: store.ChannelWeCom, Address: store.Sealed("wecom-robot-key-7f3a")},
			{Channel: store.ChannelDingTalk, Address: store.Sealed("ding-token-91"), Secret: store.Sealed("SECding-secret-55")},
		},
		Contacts: []store.NotifyContact{
			{ID: "zhang", Name: "张医生", Channel: store.ChannelSMS, Address: store.Sealed("13700137000"), Locale: "zh-CN",
				Duty: []store.DutyWindow{{Days: []int{1, 2, 3, 4, 5}, From: 8 * 60, To: 18 * 60}}},
			{ID: "night", Name: "Night desk", Channel: store.ChannelEmail, Address: store.Sealed("night@example.cn"), Locale: "en",
				Duty: []store.DutyWindow{{From: 22 * 60, To: 8 * 60}}},
			{ID: "group", Name: "值班群", Channel: store.ChannelWeCom, Always: true},
		},
		Policy:         store.NotifyPolicy{Levels23: store.PolicyDigest, WorkHours: []store.DutyWindow{{Days: []int{1, 2, 3, 4, 5, 6}, From: 9 * 60, To: 17 * 60}}, DigestAt: []int{8*60 + 30, 17 * 60}},
		UnclaimedAfter: 20 * time.Minute,
		UpdatedBy:      "admin1",
		UpdatedAt:      T0,
	}
}

// testNotifySettings: a unit's settings are stored whole, replaced under
// their version, checked, and listed by subtree.
func testNotifySettings(t *testing.T, s store.Store) {
	tree(t, s)
	_, err := s.GetNotifySettings(ctx, "class1")
	wantErr(t, err, store.ErrNotFound)

	in := NotifyFixture("class1")
	got, err := s.PutNotifySettings(ctx, in)
	must(t, err)
	if got.Version != 1 || got.UnitPath != "/city/county/school/class1/" {
		t.Fatalf("put returned version %d, path %q", got.Version, got.UnitPath)
	}
	read, err := s.GetNotifySettings(ctx, "class1")
	must(t, err)
	want := in
	want.UnitPath, want.Version = got.UnitPath, 1
	if !reflect.DeepEqual(read, want) {
		t.Fatalf("read back\n %+v\nwant\n %+v", read, want)
	}

	// A second first write, and a stale version, are conflicts.
	_, err = s.PutNotifySettings(ctx, in)
	wantErr(t, err, store.ErrConflict)
	stale := in
	stale.Version = 7
	_, err = s.PutNotifySettings(ctx, stale)
	wantErr(t, err, store.ErrConflict)
	if again, _ := s.GetNotifySettings(ctx, "class1"); again.Version != 1 {
		t.Fatalf("a refused put changed the settings: %+v", again)
	}

	// A replacement drops what it leaves out and keeps the new order.
	next := read
	next.Endpoints = next.Endpoints[1:]
	next.Contacts = []store.NotifyContact{read.Contacts[1], read.Contacts[0]}
	next.Policy = store.NotifyPolicy{}
	next.UnclaimedAfter, next.UpdatedAt = 0, at(time.Hour)
	got, err = s.PutNotifySettings(ctx, next)
	must(t, err)
	read, err = s.GetNotifySettings(ctx, "class1")
	must(t, err)
	next.Version = 2
	if got.Version != 2 || !reflect.DeepEqual(read, next) {
		t.Fatalf("after replacement\n %+v\nwant\n %+v", read, next)
	}

	// Every backend checks the same rules, and names the field.
	bad := NotifyFixture("class2")
	bad.Endpoints = nil // the WeCom contact has no robot to post to
	_, err = s.PutNotifySettings(ctx, bad)
	wantErr(t, err, store.ErrInvalid)
	var se *store.SettingsError
	if !errors.As(err, &se) || se.Field != "contacts[2].channel" {
		t.Fatalf("invalid settings: %v", err)
	}
	_, err = s.PutNotifySettings(ctx, NotifyFixture("nowhere"))
	wantErr(t, err, store.ErrNotFound)

	// Subtrees: school and not school2 (the sibling prefix), or all.
	for _, u := range []string{"school", "class3", "station"} {
		_, err := s.PutNotifySettings(ctx, NotifyFixture(u))
		must(t, err)
	}
	units := func(path string) string {
		t.Helper()
		list, err := s.ListNotifySettings(ctx, path)
		must(t, err)
		var out []string
		for _, n := range list {
			out = append(out, n.UnitID)
			if len(n.Contacts) == 0 {
				t.Fatalf("%s listed without its contacts", n.UnitID)
			}
		}
		return fmt.Sprint(out)
	}
	if got := units("/city/county/school/"); got != "[school class1]" {
		t.Fatalf("school's subtree: %s", got)
	}
	if got := units(""); got != "[school class1 class3 station]" {
		t.Fatalf("all settings: %s", got)
	}

	// Of concurrent writers of one version, one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := next
			n.UpdatedBy = fmt.Sprint("admin", i)
			_, err := s.PutNotifySettings(ctx, n)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent writers of version 2 won, want 1", wins.Load())
	}
}

// testAppendWarningEvent: the system's own events join an entry's history
// and change nothing else about it, even while staff move the entry.
func testAppendWarningEvent(t *testing.T, s store.Store) {
	tree(t, s)
	w := claimed(t, s, flagged(t, s, "class1", 1, T0), "a")
	before, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	e := store.WarningEvent{At: at(2 * time.Minute), Kind: store.EventNotifySent, UnitID: "school",
		Note: `{"channel":"sms","contact":"zhang","attempt":1}`}
	must(t, s.AppendWarningEvent(ctx, w.ID, e))
	after, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	last := after.History[len(after.History)-1]
	if len(after.History) != len(before.History)+1 || !reflect.DeepEqual(last, e) {
		t.Fatalf("history after the append: %+v", after.History)
	}
	after.History, before.History = nil, nil
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("the append changed the entry:\n before %+v\n after  %+v", before, after)
	}
	wantErr(t, s.AppendWarningEvent(ctx, "nowhere", e), store.ErrNotFound)
	wantErr(t, s.AppendWarningEvent(ctx, w.ID, store.WarningEvent{At: T0}), store.ErrInvalid)

	// Appends racing the assignee's moves: every event of both lands.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				err := s.AppendWarningEvent(ctx, w.ID, store.WarningEvent{At: at(3 * time.Minute), Kind: store.EventNotifyFailed,
					Note: fmt.Sprintf(`{"attempt":%d,"contact":"c%d"}`, i, g)})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	if _, err := s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningFollowingUp, Note: "calling", At: at(4 * time.Minute)}); err != nil {
		t.Error(err)
	}
	if _, err := s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "a", To: store.WarningOpen, Note: "back", At: at(5 * time.Minute)}); err != nil {
		t.Error(err)
	}
	wg.Wait()
	final, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	kinds := map[string]int{}
	for _, e := range final.History {
		kinds[e.Kind]++
	}
	if kinds[store.EventNotifyFailed] != 20 || kinds[store.EventTransition] != 2 || final.State != store.WarningOpen {
		t.Fatalf("after racing appends and moves: state %s, events %v", final.State, kinds)
	}
}

// testOutboxRequeue: a dead notification can be given another round, and
// only a dead one.
func testOutboxRequeue(t *testing.T, s store.Store) {
	tree(t, s)
	n := store.Notification{ID: "d1", Kind: store.NotifyDelivery, UnitID: "class1", ParentID: "p", ContactID: "c", Channel: "sms",
		Level: 1, NotBefore: T0, CreatedAt: T0}
	_, err := s.EnqueueNotifications(ctx, []store.Notification{n})
	must(t, err)
	_, err = s.RequeueNotification(ctx, "d1", at(time.Minute))
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.RequeueNotification(ctx, "nowhere", at(time.Minute))
	wantErr(t, err, store.ErrNotFound)
	for i := range 2 {
		got, err := s.ClaimNotifications(ctx, "s1", at(time.Duration(i)*time.Minute), at(time.Hour), 10)
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("claim %d: %+v", i, got)
		}
		state := store.NotificationPending
		if i == 1 {
			state = store.NotificationDead
		}
		_, err = s.FinishNotification(ctx, "d1", "s1", store.NotificationFinish{State: state, NotBefore: at(time.Minute), Error: "sms: 503", At: at(time.Minute)})
		must(t, err)
	}
	back, err := s.RequeueNotification(ctx, "d1", at(30*time.Minute))
	must(t, err)
	if back.State != store.NotificationPending || back.Attempts != 0 || !back.NotBefore.Equal(at(30*time.Minute)) || back.LastError != "sms: 503" {
		t.Fatalf("requeued %+v", back)
	}
	if early, _ := s.ClaimNotifications(ctx, "s2", at(29*time.Minute), at(time.Hour), 10); len(early) != 0 {
		t.Fatalf("claimed before its new time: %+v", early)
	}
	got, err := s.ClaimNotifications(ctx, "s2", at(30*time.Minute), at(time.Hour), 10)
	must(t, err)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("claim after requeue: %+v", got)
	}
	_, err = s.RequeueNotification(ctx, "d1", at(time.Hour))
	wantErr(t, err, store.ErrInvalidTransition)
}

// testOutboxEnqueueLeased: a notification added with a lease is its
// owner's to finish, and no one else's to claim until the lease runs out.
func testOutboxEnqueueLeased(t *testing.T, s store.Store) {
	tree(t, s)
	n := store.Notification{ID: "d1", Kind: store.NotifyDelivery, UnitID: "class1", ParentID: "p", ContactID: "c", Channel: "webhook",
		Level: 1, NotBefore: T0, CreatedAt: T0, LeaseOwner: "s1", LeaseUntil: at(time.Minute), Attempts: 1}
	_, err := s.EnqueueNotifications(ctx, []store.Notification{n})
	must(t, err)
	got, err := s.GetNotification(ctx, "d1")
	must(t, err)
	if got.LeaseOwner != "s1" || !got.LeaseUntil.Equal(at(time.Minute)) || got.Attempts != 1 || got.State != store.NotificationPending {
		t.Fatalf("enqueued leased: %+v", got)
	}
	if c, _ := s.ClaimNotifications(ctx, "s2", at(30*time.Second), at(time.Hour), 10); len(c) != 0 {
		t.Fatalf("claimed under another's lease: %+v", c)
	}
	_, err = s.FinishNotification(ctx, "d1", "s2", store.NotificationFinish{State: store.NotificationSent, At: at(time.Second)})
	wantErr(t, err, store.ErrLeaseHeld)
	// The owner died: after the lease another server takes it.
	c, err := s.ClaimNotifications(ctx, "s2", at(time.Minute), at(time.Hour), 10)
	must(t, err)
	if len(c) != 1 || c[0].Attempts != 2 || c[0].LeaseOwner != "s2" {
		t.Fatalf("claimed after the lease: %+v", c)
	}
	_, err = s.FinishNotification(ctx, "d1", "s1", store.NotificationFinish{State: store.NotificationSent, At: at(time.Minute)})
	wantErr(t, err, store.ErrLeaseHeld)
}
