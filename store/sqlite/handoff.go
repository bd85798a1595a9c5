package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

// The warm hand-off: call-back requests, slots and bookings. Each write is
// one operation of the group-commit writer, so it is one transaction: a
// call-back request and the queue entry it is filed on, a booking and the
// place it takes in its slot, are written together or not at all, and the
// single writer serializes concurrent bookers of one slot.

const callbackCols = "id, session_id, person_id, warning_id, unit_id, unit_path, seq, phone, note, preferred_from, preferred_to, consent, consent_version, state, called_at, actor_id, created_at, updated_at, version"

func scanCallback(r interface{ Scan(...any) error }) (store.Callback, error) {
	var c store.Callback
	var phone, note []byte
	var consent int
	var from, to, called, created, updated int64
	err := r.Scan(&c.ID, &c.SessionID, &c.PersonID, &c.WarningID, &c.UnitID, &c.UnitPath, &c.Seq, &phone, &note, &from, &to,
		&consent, &c.ConsentVersion, &c.State, &called, &c.ActorID, &created, &updated, &c.Version)
	c.Phone, c.Note, c.Consent = phone, note, consent != 0
	c.PreferredFrom, c.PreferredTo, c.CalledAt, c.CreatedAt, c.UpdatedAt = tm(from), tm(to), tm(called), tm(created), tm(updated)
	return c, err
}

func (w *wtx) loadCallback(id string) (store.Callback, error) {
	c, err := scanCallback(w.queryRow("SELECT "+callbackCols+" FROM callbacks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("callback", id)
	}
	return c, err
}

// insertWarning writes a new entry with its first events.
func (w *wtx) insertWarning(v store.Warning, events ...store.WarningEvent) error {
	_, err := w.exec("INSERT INTO warnings("+warningCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		v.ID, v.Key, v.PersonID, v.SessionID, jsonText(v.ResultIDs), v.UnitID, v.UnitPath, v.Level, jsonText(v.Reasons), string(v.State),
		v.AssigneeID, ms(v.LeaseUntil), ms(v.DueAt), v.Escalations, v.Outcome, ms(v.CreatedAt), ms(v.UpdatedAt), v.Version)
	if err != nil {
		return mapErr(err)
	}
	for _, e := range events {
		if err := w.event(v.ID, e); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) CreateCallback(ctx context.Context, c store.Callback, d store.WarningDraft) (store.Callback, store.Warning, error) {
	if err := store.CheckCallback(c, d); err != nil {
		return c, store.Warning{}, err
	}
	at := store.Millis(c.CreatedAt)
	c.CreatedAt, c.UpdatedAt, c.State, c.Version, c.CalledAt, c.ActorID = at, at, store.CallbackRequested, 1, time.Time{}, ""
	c.PreferredFrom, c.PreferredTo = store.Millis(c.PreferredFrom), store.Millis(c.PreferredTo)
	var out store.Callback
	var outW store.Warning
	err := db.write(ctx, func(w *wtx) error {
		var warningID string
		s, err := scanSession(w.queryRow("SELECT "+sessionCols+", warning_id FROM sessions WHERE id = ?", c.SessionID), &warningID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("session", c.SessionID)
		}
		if err != nil {
			return err
		}
		switch s.State {
		case store.SessionOpen:
			return invalid("session %s is not submitted yet", s.ID)
		case store.SessionPurged:
			return fmt.Errorf("%w: session %s is purged", store.ErrSessionClosed, s.ID)
		}
		cb := c
		if err := w.queryRow("SELECT count(*) FROM callbacks WHERE session_id = ?", s.ID).Scan(&cb.Seq); err != nil {
			return err
		}
		if cb.Seq >= store.MaxCallbacksPerSession {
			return fmt.Errorf("%w: session %s holds %d call-back requests", store.ErrLimit, s.ID, cb.Seq)
		}
		cb.Seq++
		cb.PersonID = s.PersonID

		key := s.ID
		if s.FollowUpOf != "" {
			key = s.FollowUpOf
		}
		var cur store.Warning
		found := false
		for _, by := range [][2]string{{"id", warningID}, {"key", key}} {
			if found || by[1] == "" {
				continue
			}
			cur, err = w.loadWarning(by[0], by[1])
			switch {
			case err == nil:
				found = true
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		var entry store.Warning
		if found && store.Workable(cur) {
			ev := store.AttachCallback(&cur, cb.ID, d, at)
			if _, err := w.exec("UPDATE warnings SET level = ?, reasons = ?, due_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
				cur.Level, jsonText(cur.Reasons), ms(cur.DueAt), ms(at), cur.ID); err != nil {
				return err
			}
			if err := w.event(cur.ID, ev); err != nil {
				return err
			}
			entry = cur
		} else {
			newKey := key
			if found {
				newKey = store.CallbackKey(cb.ID) // the session's own entry is closed or referred
			}
			entry = store.NewCallbackWarning(s, newKey, d, at)
			ev := store.WarningEvent{At: at, Kind: store.EventCallback, From: store.WarningOpen, To: store.WarningOpen, Note: store.CallbackNote(cb.ID)}
			if err := w.insertWarning(entry, store.CreatedEvent(at), ev); err != nil {
				return err
			}
		}
		if entry.ID != warningID {
			// Retention keeps the session while the entry it now points
			// to is being worked.
			if _, err := w.exec(qSessionWarning, entry.ID, s.ID); err != nil {
				return err
			}
		}
		cb.WarningID, cb.UnitID, cb.UnitPath = entry.ID, entry.UnitID, entry.UnitPath
		if _, err := w.exec("INSERT INTO callbacks("+callbackCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			cb.ID, cb.SessionID, cb.PersonID, cb.WarningID, cb.UnitID, cb.UnitPath, cb.Seq, []byte(cb.Phone), []byte(cb.Note),
			ms(cb.PreferredFrom), ms(cb.PreferredTo), b2i(cb.Consent), cb.ConsentVersion, string(cb.State), 0, cb.ActorID,
			ms(cb.CreatedAt), ms(cb.UpdatedAt), cb.Version); err != nil {
			return mapErr(err)
		}
		if outW, err = w.loadWarning("id", entry.ID); err != nil {
			return err
		}
		// The debts to the on-duty staff, in the same transaction: the
		// entry's level (new, or raised by the request) and the request.
		if _, err := w.enqueue(store.WarningNotification(outW, at), store.CallbackNotification(cb.ID, outW, at)); err != nil {
			return err
		}
		out = cb
		return nil
	})
	return out, outW, err
}

func (db *DB) GetCallback(ctx context.Context, id string) (store.Callback, error) {
	c, err := scanCallback(db.rdb.QueryRowContext(ctx, "SELECT "+callbackCols+" FROM callbacks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("callback", id)
	}
	return c, err
}

func (db *DB) ListCallbacks(ctx context.Context, f store.CallbackFilter, p store.Page) ([]store.Callback, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("session_id", f.SessionID)
	w.eq("person_id", f.PersonID)
	in(&w, "warning_id", f.WarningIDs)
	in(&w, "state", f.States)
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+callbackCols+" FROM callbacks", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Callback, store.Cursor, error) {
			v, err := scanCallback(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

func (db *DB) SetCallbackState(ctx context.Context, id string, ch store.CallbackChange) (store.Callback, error) {
	at := store.Millis(ch.At)
	var out store.Callback
	err := db.write(ctx, func(w *wtx) error {
		c, err := w.loadCallback(id)
		if err != nil {
			return err
		}
		if !store.CanMoveCallback(c.State, ch.To) {
			return fmt.Errorf("%w: call-back request %s → %s", store.ErrInvalidTransition, c.State, ch.To)
		}
		if err := w.queryRow("SELECT unit_id, unit_path FROM warnings WHERE id = ?", c.WarningID).Scan(&c.UnitID, &c.UnitPath); err != nil {
			return mapErr(err)
		}
		c.State, c.ActorID, c.UpdatedAt = ch.To, ch.ActorID, at
		if ch.To == store.CallbackCalled && c.CalledAt.IsZero() {
			c.CalledAt = at
		}
		c.Version++
		if _, err := w.exec("UPDATE callbacks SET state = ?, called_at = ?, actor_id = ?, unit_id = ?, unit_path = ?, updated_at = ?, version = ? WHERE id = ?",
			string(c.State), ms(c.CalledAt), c.ActorID, c.UnitID, c.UnitPath, ms(c.UpdatedAt), c.Version, c.ID); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// Slots.

const slotCols = "id, unit_id, unit_path, starts_at, ends_at, capacity, booked, location, closed, created_by, created_at, updated_at"

func scanSlot(r interface{ Scan(...any) error }) (store.Slot, error) {
	var s store.Slot
	var closed int
	var starts, ends, created, updated int64
	err := r.Scan(&s.ID, &s.UnitID, &s.UnitPath, &starts, &ends, &s.Capacity, &s.Booked, &s.Location, &closed, &s.CreatedBy, &created, &updated)
	s.Closed = closed != 0
	s.StartsAt, s.EndsAt, s.CreatedAt, s.UpdatedAt = tm(starts), tm(ends), tm(created), tm(updated)
	return s, err
}

func (w *wtx) loadSlot(id string) (store.Slot, error) {
	s, err := scanSlot(w.queryRow("SELECT "+slotCols+" FROM slots WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("slot", id)
	}
	return s, err
}

func (db *DB) CreateSlot(ctx context.Context, s store.Slot) (store.Slot, error) {
	if err := store.CheckSlot(s); err != nil {
		return s, err
	}
	s.StartsAt, s.EndsAt, s.CreatedAt = store.Millis(s.StartsAt), store.Millis(s.EndsAt), store.Millis(s.CreatedAt)
	s.UpdatedAt, s.Booked, s.Closed = s.CreatedAt, 0, false
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(s.UnitID)
		if err != nil {
			return err
		}
		s.UnitPath = p
		_, err = w.exec("INSERT INTO slots("+slotCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", s.ID, s.UnitID, s.UnitPath, ms(s.StartsAt), ms(s.EndsAt),
			s.Capacity, 0, s.Location, 0, s.CreatedBy, ms(s.CreatedAt), ms(s.UpdatedAt))
		return mapErr(err)
	})
	return s, err
}

func (db *DB) GetSlot(ctx context.Context, id string) (store.Slot, error) {
	s, err := scanSlot(db.rdb.QueryRowContext(ctx, "SELECT "+slotCols+" FROM slots WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("slot", id)
	}
	return s, err
}

func (db *DB) ListSlots(ctx context.Context, f store.SlotFilter, p store.Page) ([]store.Slot, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("unit_id", f.UnitID)
	w.timeRange("starts_at", f.From, f.To)
	if f.Bookable {
		w.add("closed = 0 AND booked < capacity")
	}
	if err := w.after("starts_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+slotCols+" FROM slots", &w, "starts_at, id", p,
		func(r *sql.Rows) (store.Slot, store.Cursor, error) {
			v, err := scanSlot(r)
			return v, store.Cursor{At: ms(v.StartsAt), ID: v.ID}, err
		})
}

func (db *DB) CloseSlot(ctx context.Context, id string, at time.Time) (store.Slot, error) {
	var out store.Slot
	err := db.write(ctx, func(w *wtx) error {
		s, err := w.loadSlot(id)
		if err != nil {
			return err
		}
		if !s.Closed {
			s.Closed, s.UpdatedAt = true, store.Millis(at)
			if _, err := w.exec("UPDATE slots SET closed = 1, updated_at = ? WHERE id = ?", ms(s.UpdatedAt), id); err != nil {
				return err
			}
		}
		out = s
		return nil
	})
	return out, err
}

// Bookings.

const bookingCols = "id, slot_id, unit_id, unit_path, starts_at, ends_at, phone, phone_index, person_id, session_id, case_id, state, actor_id, created_at, updated_at, version"

func scanBooking(r interface{ Scan(...any) error }) (store.Booking, error) {
	var b store.Booking
	var phone []byte
	var starts, ends, created, updated int64
	err := r.Scan(&b.ID, &b.SlotID, &b.UnitID, &b.UnitPath, &starts, &ends, &phone, &b.PhoneIndex, &b.PersonID, &b.SessionID, &b.CaseID, &b.State,
		&b.ActorID, &created, &updated, &b.Version)
	b.Phone = phone
	b.StartsAt, b.EndsAt, b.CreatedAt, b.UpdatedAt = tm(starts), tm(ends), tm(created), tm(updated)
	return b, err
}

func (w *wtx) loadBooking(id string) (store.Booking, error) {
	b, err := scanBooking(w.queryRow("SELECT "+bookingCols+" FROM bookings WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("booking", id)
	}
	return b, err
}

func (db *DB) BookSlot(ctx context.Context, b store.Booking) (store.Booking, error) {
	if b.ID == "" || b.SlotID == "" {
		return b, invalid("a booking needs an id and a slot")
	}
	b.CreatedAt = store.Millis(b.CreatedAt)
	b.UpdatedAt, b.State, b.Version, b.ActorID, b.CaseID = b.CreatedAt, store.BookingBooked, 1, "", ""
	var out store.Booking
	err := db.write(ctx, func(w *wtx) error {
		s, err := w.loadSlot(b.SlotID)
		if err != nil {
			return err
		}
		if s.Free() == 0 {
			return fmt.Errorf("%w: slot %s is full or closed", store.ErrLimit, s.ID)
		}
		if _, err := w.exec("UPDATE slots SET booked = booked + 1 WHERE id = ?", s.ID); err != nil {
			return err
		}
		v := b
		v.UnitID, v.UnitPath, v.StartsAt, v.EndsAt = s.UnitID, s.UnitPath, s.StartsAt, s.EndsAt
		if _, err := w.exec("INSERT INTO bookings("+bookingCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", v.ID, v.SlotID, v.UnitID, v.UnitPath,
			ms(v.StartsAt), ms(v.EndsAt), []byte(v.Phone), v.PhoneIndex, v.PersonID, v.SessionID, v.CaseID, string(v.State), v.ActorID,
			ms(v.CreatedAt), ms(v.UpdatedAt), v.Version); err != nil {
			return mapErr(err)
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) GetBooking(ctx context.Context, id string) (store.Booking, error) {
	b, err := scanBooking(db.rdb.QueryRowContext(ctx, "SELECT "+bookingCols+" FROM bookings WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("booking", id)
	}
	return b, err
}

func (db *DB) ListBookings(ctx context.Context, f store.BookingFilter, p store.Page) ([]store.Booking, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("unit_id", f.UnitID)
	w.eq("slot_id", f.SlotID)
	w.eq("person_id", f.PersonID)
	w.eq("phone_index", f.PhoneIndex)
	in(&w, "state", f.States)
	w.timeRange("starts_at", f.From, f.To)
	if err := w.after("starts_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+bookingCols+" FROM bookings", &w, "starts_at, id", p,
		func(r *sql.Rows) (store.Booking, store.Cursor, error) {
			v, err := scanBooking(r)
			return v, store.Cursor{At: ms(v.StartsAt), ID: v.ID}, err
		})
}

func (db *DB) SetBookingState(ctx context.Context, id string, ch store.BookingChange) (store.Booking, error) {
	var out store.Booking
	err := db.write(ctx, func(w *wtx) error {
		b, err := w.loadBooking(id)
		if err != nil {
			return err
		}
		if !store.CanMoveBooking(b.State, ch.To) {
			return fmt.Errorf("%w: booking %s → %s", store.ErrInvalidTransition, b.State, ch.To)
		}
		if ch.To == store.BookingCancelled {
			if _, err := w.exec("UPDATE slots SET booked = booked - 1 WHERE id = ? AND booked > 0", b.SlotID); err != nil {
				return err
			}
		}
		b.State, b.ActorID, b.UpdatedAt = ch.To, ch.ActorID, store.Millis(ch.At)
		b.Version++
		if _, err := w.exec("UPDATE bookings SET state = ?, actor_id = ?, updated_at = ?, version = ? WHERE id = ?",
			string(b.State), b.ActorID, ms(b.UpdatedAt), b.Version, b.ID); err != nil {
			return err
		}
		out = b
		return nil
	})
	return out, err
}

func (db *DB) LinkBooking(ctx context.Context, id, personID, caseID string, at time.Time) (store.Booking, error) {
	if personID == "" {
		return store.Booking{}, invalid("a booking is linked to a person")
	}
	var out store.Booking
	err := db.write(ctx, func(w *wtx) error {
		b, err := w.loadBooking(id)
		if err != nil {
			return err
		}
		b.PersonID, b.UpdatedAt = personID, store.Millis(at)
		if caseID != "" {
			b.CaseID = caseID
		}
		b.Version++
		if _, err := w.exec("UPDATE bookings SET person_id = ?, case_id = ?, updated_at = ?, version = ? WHERE id = ?",
			b.PersonID, b.CaseID, ms(b.UpdatedAt), b.Version, b.ID); err != nil {
			return err
		}
		out = b
		return nil
	})
	return out, err
}

func (db *DB) HandoffCounts(ctx context.Context, path string, from, to time.Time) ([]store.HandoffCount, error) {
	lo, hi, ok := store.PathRange(path)
	if !ok {
		lo, hi = "", "\U0010FFFF"
	}
	f, t := ms(store.Millis(from)), ms(store.Millis(to))
	if t == 0 {
		t = 1<<63 - 1
	}
	byUnit := map[string]*store.HandoffCount{}
	get := func(id string) *store.HandoffCount {
		if byUnit[id] == nil {
			byUnit[id] = &store.HandoffCount{UnitID: id}
		}
		return byUnit[id]
	}
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql string
		add func(c *store.HandoffCount, n int)
	}{
		{"SELECT unit_id, count(*) FROM callbacks WHERE unit_path >= ? AND unit_path < ? AND called_at > 0 AND called_at >= ? AND called_at < ? GROUP BY unit_id",
			func(c *store.HandoffCount, n int) { c.CallbacksMade += n }},
		// A booking linked to a case is counted as that case.
		{"SELECT unit_id, count(*) FROM bookings WHERE unit_path >= ? AND unit_path < ? AND starts_at >= ? AND starts_at < ? AND state = 'kept' AND case_id = '' GROUP BY unit_id",
			func(c *store.HandoffCount, n int) { c.BookingsKept += n }},
	} {
		rows, err := tx.QueryContext(ctx, q.sql, lo, hi, f, t)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			q.add(get(id), n)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	out := make([]store.HandoffCount, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortHandoffCounts(out)
	return out, nil
}
