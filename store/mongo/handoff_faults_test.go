package mongo

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"xinling/store"
)

// Fault injection for the hand-off's writes (handoff.go): each is stopped
// after every step and recovered by a retry or by the finisher.

func callbackDraftNow(at time.Time) store.WarningDraft {
	return store.WarningDraft{ID: store.NewID(), Level: 2, DueAt: at.Add(24 * time.Hour),
		Reasons: []store.Reason{{Rule: store.CallbackRule, Level: 2, Text: map[string]string{"zh-CN": "请求回电"}}}}
}

// submitted seeds a session and submits it, with a level-1 entry when
// flagged and none otherwise.
func submittedSession(t *testing.T, db *DB, flagged bool) store.Session {
	t.Helper()
	s := seed(t, db)
	sub := submission(s, time.Now().Add(-time.Minute))
	if !flagged {
		sub.Warning = nil
	}
	_, err := db.Submit(bg, sub)
	ok(t, err)
	return s
}

func TestCallbackSurvivesACrashAfterEveryStep(t *testing.T) {
	e := newFaultEnv(t)
	for _, flagged := range []bool{false, true} {
		for _, crashAt := range []string{stepCallbackIntent, stepCallbackEntry, stepCallbackSession} {
			for _, recovery := range []string{"retry", "finisher"} {
				t.Run(fmt.Sprintf("entry=%v/%s/%s", flagged, crashAt, recovery), func(t *testing.T) {
					crashing := e.open(crashAt)
					s := submittedSession(t, crashing, flagged)
					now := time.Now().Add(-time.Second)
					c := store.Callback{ID: store.NewID(), SessionID: s.ID, Phone: store.Sealed("13800138000"), PreferredFrom: now, PreferredTo: now.Add(time.Hour),
						Consent: true, ConsentVersion: "v1", CreatedAt: now}
					d := callbackDraftNow(now)
					if _, _, err := crashing.CreateCallback(bg, c, d); !errors.Is(err, errCrash) {
						t.Fatalf("the request did not crash at %q: %v", crashAt, err)
					}
					restarted := e.open("")
					switch recovery {
					case "retry":
						got, w, err := restarted.CreateCallback(bg, c, callbackDraftNow(time.Now()))
						ok(t, err)
						if got.ID != c.ID || got.WarningID != w.ID || got.Seq != 1 {
							t.Fatalf("retried request = %+v on %s", got, w.ID)
						}
					case "finisher":
						n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
						ok(t, err)
						if n < 1 {
							t.Fatal("the finisher found nothing to finish")
						}
					}
					got, err := restarted.GetCallback(bg, c.ID)
					ok(t, err)
					ws, _, err := restarted.ListWarnings(bg, store.WarningFilter{PersonID: s.PersonID}, store.Page{})
					ok(t, err)
					if len(ws) != 1 || got.WarningID != ws[0].ID || got.UnitID != "station" {
						t.Fatalf("request %+v, entries %+v", got, ws)
					}
					w, err := restarted.GetWarning(bg, got.WarningID)
					ok(t, err)
					filed := 0
					for _, ev := range w.History {
						if ev.Kind == store.EventCallback {
							filed++
						}
					}
					if filed != 1 || (flagged && w.Level != 1) || (!flagged && (w.ID != d.ID || w.Level != 2)) {
						t.Fatalf("entry after recovery (filed %d times): %+v", filed, w)
					}
					if sess, _ := get[sessionDoc](bg, restarted.c[cSessions], id(s.ID), "session", s.ID); sess.WarningID != w.ID {
						t.Fatalf("the session points at %q, not the entry %s", sess.WarningID, w.ID)
					}
					listed, _, err := restarted.ListCallbacks(bg, store.CallbackFilter{WarningIDs: []string{w.ID}}, store.Page{})
					ok(t, err)
					if len(listed) != 1 {
						t.Fatalf("the entry lists %d requests", len(listed))
					}
					if n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0); err != nil || n != 0 {
						t.Fatalf("finisher found %d more intents (%v) after recovery", n, err)
					}
				})
			}
		}
	}
}

func TestBookingSurvivesACrashAfterEveryStep(t *testing.T) {
	e := newFaultEnv(t)
	for _, crashAt := range []string{stepBookingWritten, stepBookingPlace} {
		t.Run(crashAt, func(t *testing.T) {
			crashing := e.open(crashAt)
			_ = seed(t, crashing)
			sl, err := crashing.CreateSlot(bg, store.Slot{ID: store.NewID(), UnitID: "station", StartsAt: time.Now().Add(24 * time.Hour),
				EndsAt: time.Now().Add(25 * time.Hour), Capacity: 1, CreatedAt: time.Now()})
			ok(t, err)
			b := store.Booking{ID: store.NewID(), SlotID: sl.ID, Phone: store.Sealed("13700137000"), CreatedAt: time.Now().Add(-time.Second)}
			if _, err := crashing.BookSlot(bg, b); !errors.Is(err, errCrash) {
				t.Fatalf("the booking did not crash at %q: %v", crashAt, err)
			}
			restarted := e.open("")
			// Nothing half-written is visible.
			if _, err := restarted.GetBooking(bg, b.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a pending booking is visible: %v", err)
			}
			if list, _, _ := restarted.ListBookings(bg, store.BookingFilter{SlotID: sl.ID}, store.Page{}); len(list) != 0 {
				t.Fatalf("a pending booking is listed: %+v", list)
			}
			n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
			ok(t, err)
			if n != 1 {
				t.Fatalf("the finisher finished %d intents, want 1", n)
			}
			got, gerr := restarted.GetBooking(bg, b.ID)
			slot, err := restarted.GetSlot(bg, sl.ID)
			ok(t, err)
			switch crashAt {
			case stepBookingWritten:
				// It never took its place: gone, and the place is free.
				if !errors.Is(gerr, store.ErrNotFound) || slot.Booked != 0 {
					t.Fatalf("booking %+v (%v), slot %+v", got, gerr, slot)
				}
				_, err := restarted.BookSlot(bg, store.Booking{ID: store.NewID(), SlotID: sl.ID, CreatedAt: time.Now()})
				ok(t, err)
			case stepBookingPlace:
				// It holds the place: published.
				if gerr != nil || got.State != store.BookingBooked || slot.Booked != 1 {
					t.Fatalf("booking %+v (%v), slot %+v", got, gerr, slot)
				}
				_, err := restarted.BookSlot(bg, store.Booking{ID: store.NewID(), SlotID: sl.ID, CreatedAt: time.Now()})
				if !errors.Is(err, store.ErrLimit) {
					t.Fatalf("a full slot took another booking: %v", err)
				}
			}
		})
	}
}

func TestCancellationSurvivesACrash(t *testing.T) {
	e := newFaultEnv(t)
	crashing := e.open(stepCancelMarked)
	_ = seed(t, crashing)
	sl, err := crashing.CreateSlot(bg, store.Slot{ID: store.NewID(), UnitID: "station", StartsAt: time.Now().Add(24 * time.Hour),
		EndsAt: time.Now().Add(25 * time.Hour), Capacity: 1, CreatedAt: time.Now()})
	ok(t, err)
	b, err := crashing.BookSlot(bg, store.Booking{ID: store.NewID(), SlotID: sl.ID, CreatedAt: time.Now()})
	ok(t, err)
	if _, err := crashing.SetBookingState(bg, b.ID, store.BookingChange{To: store.BookingCancelled, ActorID: "s", At: time.Now().Add(-time.Second)}); !errors.Is(err, errCrash) {
		t.Fatalf("the cancellation did not crash: %v", err)
	}
	restarted := e.open("")
	if got, _ := restarted.GetBooking(bg, b.ID); got.State != store.BookingCancelled {
		t.Fatalf("booking after the crash = %+v", got)
	}
	n, err := restarted.FinishInterrupted(bg, time.Now().Add(time.Minute), 0)
	ok(t, err)
	if n != 1 {
		t.Fatalf("the finisher finished %d intents, want 1", n)
	}
	if slot, _ := restarted.GetSlot(bg, sl.ID); slot.Booked != 0 {
		t.Fatalf("the cancelled booking still holds its place: %+v", slot)
	}
	_, err = restarted.BookSlot(bg, store.Booking{ID: store.NewID(), SlotID: sl.ID, CreatedAt: time.Now()})
	ok(t, err)
}
