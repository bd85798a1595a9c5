package mongo

// The warm hand-off: call-back requests, slots and bookings. Two writes
// span documents and are written as ordered, idempotent single-document
// steps (docs/storage.md states the rule for a crash between any two):
//
//   - CreateCallback: (1) the request is inserted carrying its filing (the
//     entry it joins, or the entry it opens and under which key): the
//     decision point, and a unique (session, seq) index keeps a session to
//     MaxCallbacksPerSession requests however many servers race; (2) the
//     entry is joined (compare-and-swap on its version; its history then
//     names the request, so a repeat sees it done) or created (its id comes
//     from the request, so a repeat collides); (3) the session points at
//     the entry; (4) the request is published with its entry and the
//     filing cleared.
//   - BookSlot: (1) the booking is inserted, marked pending (invisible to
//     reads); (2) it takes a place in the slot by compare-and-swap on the
//     slot's version, which lists the bookings holding its places, so no
//     more than the capacity can ever hold one: the decision point; (3) the
//     mark is cleared. A booking that finds the slot full is deleted. A
//     cancellation marks the booking first (cancelled, place to release),
//     then releases the place, then clears the mark.
//
// FinishInterrupted (finishHandoff) completes what a crash left: a filing,
// a pending booking (published if it holds a place, else deleted), a place
// still to release.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

const (
	cCallbacks, cSlots, cBookings = "callbacks", "slots", "bookings"
)

// handoffCollections are opened with the others.
var handoffCollections = []string{cCallbacks, cSlots, cBookings}

// Step names, for fault injection.
const (
	stepCallbackIntent  = "callback: request recorded with its filing"
	stepCallbackEntry   = "callback: queue entry joined or created"
	stepCallbackSession = "callback: session points at the entry"
	stepBookingWritten  = "booking: written, pending"
	stepBookingPlace    = "booking: place taken in the slot"
	stepCancelMarked    = "booking: cancelled, place to release"
)

type callbackDoc struct {
	Key            string `bson:"_id"`
	store.Callback `bson:",inline"`
	// Pending is the filing decided for this request and not yet finished.
	Pending *pendingCallback `bson:"pending,omitempty"`
}

// pendingCallback is where a request is filed: on Target, an entry being
// worked, or else on a new entry (Draft.ID) under Key.
type pendingCallback struct {
	At     time.Time          `bson:"at"`
	Draft  store.WarningDraft `bson:"draft"`
	Target string             `bson:"target"`
	Key    string             `bson:"key"`
}

type slotDoc struct {
	Key        string `bson:"_id"`
	store.Slot `bson:",inline"`
	// Seats lists the bookings that hold a place; Booked is its length and
	// Free what is left (0 once closed), so that a query finds bookable
	// slots without arithmetic.
	Seats   []string `bson:"seats"`
	Free    int      `bson:"free"`
	Version int64    `bson:"version"`
}

type bookingDoc struct {
	Key           string `bson:"_id"`
	store.Booking `bson:",inline"`
	// PendingAt is set until the booking holds its place (step 1 to 3).
	PendingAt *time.Time `bson:"pendingat,omitempty"`
	// ReleaseAt is set on a cancelled booking until its place is given
	// back to the slot.
	ReleaseAt *time.Time `bson:"releaseat,omitempty"`
}

// handoffIndexes are the hand-off's indexes, which indexes() adds.
func handoffIndexes(ix func(unique bool, keys ...string) mongo.IndexModel, sparse func(key string) mongo.IndexModel) map[string][]mongo.IndexModel {
	return map[string][]mongo.IndexModel{
		cCallbacks: {ix(true, fCallback.SessionID, fCallback.Seq), ix(false, fCallback.WarningID, fCallback.CreatedAt, fID),
			ix(false, fCallback.PersonID, fCallback.CreatedAt, fID), ix(false, fCallback.UnitPath, fCallback.CreatedAt, fID),
			ix(false, fCallback.CalledAt), sparse(fCallback.PendingAt)},
		cSlots: {ix(false, fSlot.UnitPath, fSlot.StartsAt, fID), ix(false, fSlot.StartsAt, fID)},
		cBookings: {ix(false, fBooking.UnitPath, fBooking.StartsAt, fID), ix(false, fBooking.SlotID), ix(false, fBooking.PersonID, fBooking.StartsAt, fID), ix(false, fBooking.PhoneIndex, fBooking.StartsAt, fID),
			sparse(fBooking.PendingAt), sparse(fBooking.ReleaseAt)},
	}
}

// unpublished matches the documents that lack field: those no write of
// the hand-off still has in hand.
func unpublished(field string) bson.E {
	return bson.E{Key: field, Value: bson.D{{Key: "$exists", Value: false}}}
}

// Call-back requests.

func (db *DB) CreateCallback(ctx context.Context, c store.Callback, d store.WarningDraft) (store.Callback, store.Warning, error) {
	if err := store.CheckCallback(c, d); err != nil {
		return c, store.Warning{}, err
	}
	at := store.Millis(c.CreatedAt)
	c.CreatedAt, c.UpdatedAt, c.State, c.Version, c.CalledAt, c.ActorID = at, at, store.CallbackRequested, 1, time.Time{}, ""
	c.PreferredFrom, c.PreferredTo, c.WarningID, c.UnitID, c.UnitPath = store.Millis(c.PreferredFrom), store.Millis(c.PreferredTo), "", "", ""
	d.DueAt = store.Millis(d.DueAt)
	s, err := get[sessionDoc](ctx, db.c[cSessions], id(c.SessionID), "session", c.SessionID)
	if err != nil {
		return c, store.Warning{}, err
	}
	switch s.State {
	case store.SessionOpen:
		return c, store.Warning{}, invalid("session %s is not submitted yet", s.Key)
	case store.SessionPurged:
		return c, store.Warning{}, fmt.Errorf("%w: session %s is purged", store.ErrSessionClosed, s.Key)
	}
	c.PersonID = s.PersonID
	p := &pendingCallback{At: at, Draft: d, Key: sessionKey(s.Session)}
	cur, found, err := db.sessionEntry(ctx, s)
	if err != nil {
		return c, store.Warning{}, err
	}
	switch {
	case found && store.Workable(cur):
		p.Target = cur.ID
	case found:
		p.Key = store.CallbackKey(c.ID) // the session's own entry is closed or referred
	}
	for i := 0; i < maxCASRetries; i++ {
		n, err := db.c[cCallbacks].CountDocuments(ctx, bson.D{{Key: fCallback.SessionID, Value: s.Key}})
		if err != nil {
			return c, store.Warning{}, err
		}
		if n >= store.MaxCallbacksPerSession {
			return c, store.Warning{}, fmt.Errorf("%w: session %s holds %d call-back requests", store.ErrLimit, s.Key, n)
		}
		c.Seq = int(n) + 1
		doc := callbackDoc{Key: c.ID, Callback: c, Pending: p}
		_, err = db.c[cCallbacks].InsertOne(ctx, doc)
		if mongo.IsDuplicateKeyError(err) {
			if mine, gerr := get[callbackDoc](ctx, db.c[cCallbacks], id(c.ID), "callback", c.ID); gerr == nil {
				if mine.Pending == nil { // a retry of a request already filed
					w, err := db.GetWarning(ctx, mine.WarningID)
					w.History = nil
					return mine.Callback, w, err
				}
				return db.finishCallback(ctx, mine)
			}
			continue // another request took this seq: count again
		}
		if err != nil {
			return c, store.Warning{}, err
		}
		if err := db.step(stepCallbackIntent); err != nil {
			return c, store.Warning{}, err
		}
		return db.finishCallback(ctx, doc)
	}
	return c, store.Warning{}, fmt.Errorf("%w: session %s is too contended", store.ErrConflict, s.Key)
}

// sessionKey is the key under which a session's entry is filed: a
// follow-up's is the chain's first session.
func sessionKey(s store.Session) string {
	if s.FollowUpOf != "" {
		return s.FollowUpOf
	}
	return s.ID
}

// sessionEntry finds the queue entry a session points at, or else the one
// filed under its key.
func (db *DB) sessionEntry(ctx context.Context, s sessionDoc) (store.Warning, bool, error) {
	filters := []bson.D{{{Key: fWarning.Key, Value: sessionKey(s.Session)}}}
	if s.WarningID != "" {
		filters = append([]bson.D{id(s.WarningID)}, filters...)
	}
	for _, f := range filters {
		w, err := get[warningDoc](ctx, db.c[cWarnings], f, "warning", s.Key)
		if err == nil {
			return w.Warning, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Warning{}, false, err
		}
	}
	return store.Warning{}, false, nil
}

// finishCallback runs steps 2 to 4 of a recorded filing.
func (db *DB) finishCallback(ctx context.Context, d callbackDoc) (store.Callback, store.Warning, error) {
	p := d.Pending
	entry := p.Target
	if entry == "" {
		s, err := get[sessionDoc](ctx, db.c[cSessions], id(d.SessionID), "session", d.SessionID)
		if err != nil {
			return d.Callback, store.Warning{}, err
		}
		w := store.NewCallbackWarning(s.Session, p.Key, p.Draft, p.At)
		w.History = []store.WarningEvent{store.CreatedEvent(p.At),
			{At: p.At, Kind: store.EventCallback, From: store.WarningOpen, To: store.WarningOpen, Note: store.CallbackNote(d.Key)}}
		_, err = db.c[cWarnings].InsertOne(ctx, warningDoc{Key: w.ID, Warning: w})
		switch {
		case err == nil:
			entry = w.ID
		case mongo.IsDuplicateKeyError(err):
			// Ours, written before a crash; or another request (or a
			// submission) opened an entry under this key meanwhile: join it.
			cur, gerr := get[warningDoc](ctx, db.c[cWarnings], bson.D{{Key: fWarning.Key, Value: p.Key}}, "warning", p.Key)
			if gerr != nil {
				return d.Callback, store.Warning{}, gerr
			}
			entry = cur.Key
		default:
			return d.Callback, store.Warning{}, err
		}
	}
	w, err := db.joinCallback(ctx, entry, d.Key, p)
	if err != nil {
		return d.Callback, store.Warning{}, err
	}
	// The debts to the on-duty staff, idempotent like every step here.
	if _, err := db.enqueue(ctx, store.WarningNotification(w, p.At), store.CallbackNotification(d.Key, w, p.At)); err != nil {
		return d.Callback, store.Warning{}, err
	}
	if err := db.step(stepCallbackEntry); err != nil {
		return d.Callback, store.Warning{}, err
	}
	// Retention keeps the session while the entry it points to is worked.
	if _, err := db.c[cSessions].UpdateOne(ctx, id(d.SessionID), bson.D{{Key: "$set", Value: bson.D{{Key: fSession.WarningID, Value: w.ID}}}}); err != nil {
		return d.Callback, store.Warning{}, err
	}
	if err := db.step(stepCallbackSession); err != nil {
		return d.Callback, store.Warning{}, err
	}
	c := d.Callback
	c.WarningID, c.UnitID, c.UnitPath = w.ID, w.UnitID, w.UnitPath
	if _, err := db.c[cCallbacks].UpdateOne(ctx, bson.D{{Key: fID, Value: d.Key}, {Key: fCallback.Pending, Value: bson.D{{Key: "$exists", Value: true}}}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: fCallback.WarningID, Value: c.WarningID}, {Key: fCallback.UnitID, Value: c.UnitID}, {Key: fCallback.UnitPath, Value: c.UnitPath}}},
		{Key: "$unset", Value: bson.D{{Key: fCallback.Pending, Value: ""}}}}); err != nil {
		return c, store.Warning{}, err
	}
	w.History = nil
	return c, w, nil
}

// joinCallback files request cid on entry, unless its history shows it
// filed already.
func (db *DB) joinCallback(ctx context.Context, entry, cid string, p *pendingCallback) (store.Warning, error) {
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[warningDoc](ctx, db.c[cWarnings], id(entry), "warning", entry)
		if err != nil {
			return store.Warning{}, err
		}
		w := d.Warning
		if store.HasCallback(w, cid) {
			return w, nil
		}
		e := store.AttachCallback(&w, cid, p.Draft, p.At)
		if w.UpdatedAt.Before(d.UpdatedAt) {
			w.UpdatedAt = d.UpdatedAt // a late finish never moves the feed back
		}
		w.Version = d.Version + 1
		res, err := db.fencedUpdate(ctx, cWarnings, entry, version(d.Version), bson.D{{Key: fID, Value: entry}, {Key: fVersion, Value: d.Version}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: fWarning.Level, Value: w.Level}, {Key: fWarning.Reasons, Value: w.Reasons}, {Key: fWarning.DueAt, Value: w.DueAt},
				{Key: fWarning.UpdatedAt, Value: w.UpdatedAt}, {Key: fVersion, Value: w.Version}}},
			{Key: "$push", Value: bson.D{{Key: fWarning.History, Value: e}}}})
		if err != nil {
			return store.Warning{}, err
		}
		if res.MatchedCount == 1 {
			w.History = append(w.History, e)
			return w, nil
		}
	}
	return store.Warning{}, fmt.Errorf("%w: warning %s is too contended", store.ErrConflict, entry)
}

func (db *DB) GetCallback(ctx context.Context, cid string) (store.Callback, error) {
	d, err := get[callbackDoc](ctx, db.c[cCallbacks], id(cid), "callback", cid)
	return d.Callback, err
}

func (db *DB) ListCallbacks(ctx context.Context, f store.CallbackFilter, p store.Page) ([]store.Callback, string, error) {
	q := subtree(bson.D{}, fCallback.UnitPath, f.UnitPath)
	q = eq(eq(q, fCallback.SessionID, f.SessionID), fCallback.PersonID, f.PersonID)
	q = in(in(q, fCallback.WarningID, f.WarningIDs), fCallback.State, f.States)
	q, err := after(q, fCallback.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCallbacks], q, byTime(fCallback.CreatedAt), p, func(d callbackDoc) (store.Callback, store.Cursor) {
		return d.Callback, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) SetCallbackState(ctx context.Context, cid string, ch store.CallbackChange) (store.Callback, error) {
	at := store.Millis(ch.At)
	d, err := cas(ctx, db, cCallbacks, cid, "callback", func(d *callbackDoc) *int64 { return &d.Version },
		func(d *callbackDoc) (bson.D, error) {
			if !store.CanMoveCallback(d.State, ch.To) {
				return nil, fmt.Errorf("%w: call-back request %s → %s", store.ErrInvalidTransition, d.State, ch.To)
			}
			if d.WarningID != "" {
				w, err := db.GetWarning(ctx, d.WarningID)
				if err != nil {
					return nil, err
				}
				d.UnitID, d.UnitPath = w.UnitID, w.UnitPath
			}
			d.State, d.ActorID, d.UpdatedAt = ch.To, ch.ActorID, at
			if ch.To == store.CallbackCalled && d.CalledAt.IsZero() {
				d.CalledAt = at
			}
			return bson.D{{Key: fCallback.State, Value: string(d.State)}, {Key: fCallback.ActorID, Value: d.ActorID}, {Key: fCallback.UpdatedAt, Value: at},
				{Key: fCallback.CalledAt, Value: d.CalledAt}, {Key: fCallback.UnitID, Value: d.UnitID}, {Key: fCallback.UnitPath, Value: d.UnitPath}}, nil
		})
	return d.Callback, err
}

// Slots.

func (db *DB) CreateSlot(ctx context.Context, s store.Slot) (store.Slot, error) {
	if err := store.CheckSlot(s); err != nil {
		return s, err
	}
	path, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	s.UnitPath, s.StartsAt, s.EndsAt, s.CreatedAt = path, store.Millis(s.StartsAt), store.Millis(s.EndsAt), store.Millis(s.CreatedAt)
	s.UpdatedAt, s.Booked, s.Closed = s.CreatedAt, 0, false
	_, err = db.c[cSlots].InsertOne(ctx, slotDoc{Key: s.ID, Slot: s, Seats: []string{}, Free: s.Capacity, Version: 1})
	return s, mapErr(err)
}

func (db *DB) GetSlot(ctx context.Context, sid string) (store.Slot, error) {
	d, err := get[slotDoc](ctx, db.c[cSlots], id(sid), "slot", sid)
	return d.Slot, err
}

func (db *DB) ListSlots(ctx context.Context, f store.SlotFilter, p store.Page) ([]store.Slot, string, error) {
	q := eq(subtree(bson.D{}, fSlot.UnitPath, f.UnitPath), fSlot.UnitID, f.UnitID)
	q = timeRange(q, fSlot.StartsAt, f.From, f.To)
	if f.Bookable {
		q = append(q, bson.E{Key: fSlot.Free, Value: bson.D{{Key: "$gt", Value: 0}}})
	}
	q, err := after(q, fSlot.StartsAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cSlots], q, byTime(fSlot.StartsAt), p, func(d slotDoc) (store.Slot, store.Cursor) {
		return d.Slot, cursor(d.StartsAt, d.Key)
	})
}

func (db *DB) CloseSlot(ctx context.Context, sid string, at time.Time) (store.Slot, error) {
	d, err := cas(ctx, db, cSlots, sid, "slot", func(d *slotDoc) *int64 { return &d.Version },
		func(d *slotDoc) (bson.D, error) {
			if !d.Closed {
				d.Closed, d.UpdatedAt = true, store.Millis(at)
			}
			d.Free = 0
			return bson.D{{Key: fSlot.Closed, Value: true}, {Key: fSlot.Free, Value: 0}, {Key: fSlot.UpdatedAt, Value: d.UpdatedAt}}, nil
		})
	return d.Slot, err
}

// seat takes (or, with release, gives back) booking bid's place in slot
// sid. It is idempotent: a booking that holds a place already keeps it.
func (db *DB) seat(ctx context.Context, sid, bid string, release bool) error {
	_, err := cas(ctx, db, cSlots, sid, "slot", func(d *slotDoc) *int64 { return &d.Version },
		func(d *slotDoc) (bson.D, error) {
			held := slices.Contains(d.Seats, bid)
			switch {
			case release:
				d.Seats = slices.DeleteFunc(d.Seats, func(s string) bool { return s == bid })
			case held:
			case d.Closed || len(d.Seats) >= d.Capacity:
				return nil, fmt.Errorf("%w: slot %s is full or closed", store.ErrLimit, sid)
			default:
				d.Seats = append(d.Seats, bid)
			}
			d.Booked = len(d.Seats)
			if !d.Closed {
				d.Free = d.Capacity - d.Booked
			}
			return bson.D{{Key: fSlot.Seats, Value: d.Seats}, {Key: fSlot.Booked, Value: d.Booked}, {Key: fSlot.Free, Value: d.Free}}, nil
		})
	return err
}

// Bookings.

func (db *DB) BookSlot(ctx context.Context, b store.Booking) (store.Booking, error) {
	if b.ID == "" || b.SlotID == "" {
		return b, invalid("a booking needs an id and a slot")
	}
	s, err := db.GetSlot(ctx, b.SlotID)
	if err != nil {
		return b, err
	}
	if s.Free() == 0 {
		return b, fmt.Errorf("%w: slot %s is full or closed", store.ErrLimit, s.ID)
	}
	b.CreatedAt = store.Millis(b.CreatedAt)
	b.UpdatedAt, b.State, b.Version, b.ActorID, b.CaseID = b.CreatedAt, store.BookingBooked, 1, "", ""
	b.UnitID, b.UnitPath, b.StartsAt, b.EndsAt = s.UnitID, s.UnitPath, s.StartsAt, s.EndsAt
	pending := b.CreatedAt
	if _, err := db.c[cBookings].InsertOne(ctx, bookingDoc{Key: b.ID, Booking: b, PendingAt: &pending}); err != nil {
		return b, mapErr(err)
	}
	if err := db.step(stepBookingWritten); err != nil {
		return b, err
	}
	if err := db.seat(ctx, b.SlotID, b.ID, false); err != nil {
		if _, derr := db.c[cBookings].DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: fID, Value: b.ID}, {Key: fBooking.PendingAt, Value: bson.D{{Key: "$exists", Value: true}}}}); derr != nil {
			return b, errors.Join(err, derr)
		}
		return b, err
	}
	if err := db.step(stepBookingPlace); err != nil {
		return b, err
	}
	return b, db.publishBooking(ctx, b.ID)
}

func (db *DB) publishBooking(ctx context.Context, bid string) error {
	_, err := db.c[cBookings].UpdateOne(ctx, id(bid), bson.D{{Key: "$unset", Value: bson.D{{Key: fBooking.PendingAt, Value: ""}}}})
	return err
}

func (db *DB) GetBooking(ctx context.Context, bid string) (store.Booking, error) {
	d, err := get[bookingDoc](ctx, db.c[cBookings], bson.D{{Key: fID, Value: bid}, unpublished(fBooking.PendingAt)}, "booking", bid)
	return d.Booking, err
}

func (db *DB) ListBookings(ctx context.Context, f store.BookingFilter, p store.Page) ([]store.Booking, string, error) {
	q := eq(subtree(bson.D{}, fBooking.UnitPath, f.UnitPath), fBooking.UnitID, f.UnitID)
	q = eq(eq(eq(q, fBooking.SlotID, f.SlotID), fBooking.PersonID, f.PersonID), fBooking.PhoneIndex, f.PhoneIndex)
	q = in(q, fBooking.State, f.States)
	q = append(timeRange(q, fBooking.StartsAt, f.From, f.To), unpublished(fBooking.PendingAt))
	q, err := after(q, fBooking.StartsAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cBookings], q, byTime(fBooking.StartsAt), p, func(d bookingDoc) (store.Booking, store.Cursor) {
		return d.Booking, cursor(d.StartsAt, d.Key)
	})
}

// moveBooking is a compare-and-swap on a published booking.
func (db *DB) moveBooking(ctx context.Context, bid string, change func(*bookingDoc) (bson.D, error)) (store.Booking, error) {
	d, err := cas(ctx, db, cBookings, bid, "booking", func(d *bookingDoc) *int64 { return &d.Version },
		func(d *bookingDoc) (bson.D, error) {
			if d.PendingAt != nil {
				return nil, notFound("booking", bid)
			}
			return change(d)
		})
	return d.Booking, err
}

func (db *DB) SetBookingState(ctx context.Context, bid string, ch store.BookingChange) (store.Booking, error) {
	at := store.Millis(ch.At)
	b, err := db.moveBooking(ctx, bid, func(d *bookingDoc) (bson.D, error) {
		if !store.CanMoveBooking(d.State, ch.To) {
			return nil, fmt.Errorf("%w: booking %s → %s", store.ErrInvalidTransition, d.State, ch.To)
		}
		d.State, d.ActorID, d.UpdatedAt = ch.To, ch.ActorID, at
		set := bson.D{{Key: fBooking.State, Value: string(ch.To)}, {Key: fBooking.ActorID, Value: ch.ActorID}, {Key: fBooking.UpdatedAt, Value: at}}
		if ch.To == store.BookingCancelled {
			set = append(set, bson.E{Key: fBooking.ReleaseAt, Value: at})
		}
		return set, nil
	})
	if err != nil || ch.To != store.BookingCancelled {
		return b, err
	}
	if err := db.step(stepCancelMarked); err != nil {
		return b, err
	}
	return b, db.release(ctx, b)
}

// release gives a cancelled booking's place back and clears the mark.
func (db *DB) release(ctx context.Context, b store.Booking) error {
	if err := db.seat(ctx, b.SlotID, b.ID, true); err != nil {
		return err
	}
	_, err := db.c[cBookings].UpdateOne(ctx, id(b.ID), bson.D{{Key: "$unset", Value: bson.D{{Key: fBooking.ReleaseAt, Value: ""}}}})
	return err
}

func (db *DB) LinkBooking(ctx context.Context, bid, personID, caseID string, at time.Time) (store.Booking, error) {
	if personID == "" {
		return store.Booking{}, invalid("a booking is linked to a person")
	}
	at = store.Millis(at)
	return db.moveBooking(ctx, bid, func(d *bookingDoc) (bson.D, error) {
		d.PersonID, d.UpdatedAt = personID, at
		if caseID != "" {
			d.CaseID = caseID
		}
		return bson.D{{Key: fBooking.PersonID, Value: d.PersonID}, {Key: fBooking.CaseID, Value: d.CaseID}, {Key: fBooking.UpdatedAt, Value: at}}, nil
	})
}

// HandoffCounts reads the few matching documents and counts in Go, as
// UnitCounts does for what not every server aggregates alike.
func (db *DB) HandoffCounts(ctx context.Context, path string, from, to time.Time) ([]store.HandoffCount, error) {
	byUnit := map[string]*store.HandoffCount{}
	get := func(id string) *store.HandoffCount {
		if byUnit[id] == nil {
			byUnit[id] = &store.HandoffCount{UnitID: id}
		}
		return byUnit[id]
	}
	// Never marked called: CalledAt is the zero time.
	calledAt := bson.D{{Key: "$gt", Value: time.Time{}}}
	if !from.IsZero() {
		calledAt = append(calledAt, bson.E{Key: "$gte", Value: store.Millis(from)})
	}
	if !to.IsZero() {
		calledAt = append(calledAt, bson.E{Key: "$lt", Value: store.Millis(to)})
	}
	called := append(subtree(bson.D{}, fCallback.UnitPath, path), bson.E{Key: fCallback.CalledAt, Value: calledAt})
	callbacks, err := findAll[callbackDoc](ctx, db.c[cCallbacks], called)
	if err != nil {
		return nil, err
	}
	for _, c := range callbacks {
		get(c.UnitID).CallbacksMade++
	}
	// A booking linked to a case is counted as that case.
	kept := timeRange(subtree(bson.D{}, fBooking.UnitPath, path), fBooking.StartsAt, from, to)
	kept = append(kept, bson.E{Key: fBooking.State, Value: string(store.BookingKept)}, bson.E{Key: fBooking.CaseID, Value: ""})
	bookings, err := findAll[bookingDoc](ctx, db.c[cBookings], kept)
	if err != nil {
		return nil, err
	}
	for _, b := range bookings {
		get(b.UnitID).BookingsKept++
	}
	out := make([]store.HandoffCount, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortHandoffCounts(out)
	return out, nil
}

// finishHandoff completes the hand-off's writes recorded before before.
func (db *DB) finishHandoff(ctx context.Context, before time.Time) (int, error) {
	n := 0
	filings, err := findAll[callbackDoc](ctx, db.c[cCallbacks], bson.D{{Key: fCallback.PendingAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, d := range filings {
		if _, _, err := db.finishCallback(ctx, d); err != nil {
			return n, fmt.Errorf("finishing call-back request %s: %w", d.Key, err)
		}
		n++
	}
	pending, err := findAll[bookingDoc](ctx, db.c[cBookings], bson.D{{Key: fBooking.PendingAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, d := range pending {
		s, err := get[slotDoc](ctx, db.c[cSlots], id(d.SlotID), "slot", d.SlotID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		if slices.Contains(s.Seats, d.Key) {
			err = db.publishBooking(ctx, d.Key)
		} else {
			// It never took a place; its booker was told it failed.
			_, err = db.c[cBookings].DeleteOne(ctx, bson.D{{Key: fID, Value: d.Key}, {Key: fBooking.PendingAt, Value: bson.D{{Key: "$exists", Value: true}}}})
		}
		if err != nil {
			return n, err
		}
		n++
	}
	releases, err := findAll[bookingDoc](ctx, db.c[cBookings], bson.D{{Key: fBooking.ReleaseAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, d := range releases {
		if err := db.release(ctx, d.Booking); err != nil {
			return n, fmt.Errorf("releasing the place of booking %s: %w", d.Key, err)
		}
		n++
	}
	return n, nil
}

// eraseHandoff blanks the phone numbers and notes of a person's call-back
// requests (of their sessions, of their entries, and of an anonymous entry
// a case of theirs was recorded on) and bookings, for ErasePerson.
func (db *DB) eraseHandoff(ctx context.Context, personID string) error {
	entries := bson.A{}
	ws, err := db.c[cWarnings].Find(ctx, bson.D{{Key: fWarning.PersonID, Value: personID}}, options.Find().SetProjection(bson.D{{Key: fID, Value: 1}}))
	if err != nil {
		return err
	}
	var wdocs []warningDoc
	if err := ws.All(ctx, &wdocs); err != nil {
		return err
	}
	for _, w := range wdocs {
		entries = append(entries, w.Key)
	}
	cs, err := findAll[caseDoc](ctx, db.c[cCases], bson.D{{Key: fCase.PersonID, Value: personID}})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.WarningID != "" {
			entries = append(entries, c.WarningID)
		}
	}
	of := bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: fCallback.PersonID, Value: personID}}, bson.D{{Key: fCallback.WarningID, Value: bson.D{{Key: "$in", Value: entries}}}}}}},
		bson.D{{Key: "$or", Value: eraseCallback.held}},
	}}}
	if _, err := db.c[cCallbacks].UpdateMany(ctx, of, bson.D{{Key: "$set", Value: eraseCallback.set}}); err != nil {
		return err
	}
	_, err = db.c[cBookings].UpdateMany(ctx, bson.D{{Key: fBooking.PersonID, Value: personID}, {Key: "$or", Value: eraseBooking.held}},
		bson.D{{Key: "$set", Value: eraseBooking.set}})
	return err
}
