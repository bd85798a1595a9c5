package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

const warningCols = "id, key, person_id, session_id, result_ids, unit_id, unit_path, level, reasons, state, assignee_id, lease_until, due_at, escalations, outcome, created_at, updated_at, version"

func scanWarning(r interface{ Scan(...any) error }) (store.Warning, error) {
	var v store.Warning
	var ids, reasons string
	var lease, due, created, updated int64
	err := r.Scan(&v.ID, &v.Key, &v.PersonID, &v.SessionID, &ids, &v.UnitID, &v.UnitPath, &v.Level, &reasons, &v.State,
		&v.AssigneeID, &lease, &due, &v.Escalations, &v.Outcome, &created, &updated, &v.Version)
	if err != nil {
		return v, err
	}
	v.LeaseUntil, v.DueAt, v.CreatedAt, v.UpdatedAt = tm(lease), tm(due), tm(created), tm(updated)
	return v, errors.Join(fromJSON(ids, &v.ResultIDs), fromJSON(reasons, &v.Reasons))
}

// loadWarning reads an entry by "id" or "key" on the writer connection.
func (w *wtx) loadWarning(col, v string) (store.Warning, error) {
	wr, err := scanWarning(w.queryRow("SELECT "+warningCols+" FROM warnings WHERE "+col+" = ?", v))
	if errors.Is(err, sql.ErrNoRows) {
		return wr, notFound("warning", v)
	}
	return wr, err
}

func (w *wtx) event(id string, e store.WarningEvent) error {
	_, err := w.exec(`INSERT INTO warning_events(warning_id, seq, at, actor_id, kind, from_state, to_state, note, outcome, unit_id)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM warning_events WHERE warning_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, id, ms(e.At), e.ActorID, e.Kind, string(e.From), string(e.To), e.Note, e.Outcome, e.UnitID)
	return err
}

// setWarning writes an entry's mutable fields back and appends the event.
func (w *wtx) setWarning(v *store.Warning, e store.WarningEvent) error {
	v.UpdatedAt = e.At
	v.Version++
	if _, err := w.exec(`UPDATE warnings SET unit_id=?, unit_path=?, state=?, assignee_id=?, lease_until=?, due_at=?,
		escalations=?, outcome=?, updated_at=?, version=? WHERE id=?`,
		v.UnitID, v.UnitPath, string(v.State), v.AssigneeID, ms(v.LeaseUntil), ms(v.DueAt), v.Escalations, v.Outcome,
		ms(v.UpdatedAt), v.Version, v.ID); err != nil {
		return err
	}
	return w.event(v.ID, e)
}

func (db *DB) AppendWarningEvent(ctx context.Context, id string, e store.WarningEvent) error {
	if e.Kind == "" || e.At.IsZero() {
		return invalid("a history event needs a kind and a time")
	}
	e.At = store.Millis(e.At)
	return db.write(ctx, func(w *wtx) error {
		var n int
		if err := w.queryRow("SELECT count(*) FROM warnings WHERE id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("warning", id)
		}
		return w.event(id, e)
	})
}

// The reads of one queue entry, prepared together (readTx).
var (
	qWarningByID    = "SELECT " + warningCols + " FROM warnings WHERE id = ?"
	qWarningHistory = `SELECT at, actor_id, kind, from_state, to_state, note, outcome, unit_id
		FROM warning_events WHERE warning_id = ? ORDER BY seq`
)

func (db *DB) GetWarning(ctx context.Context, id string) (store.Warning, error) {
	// One read transaction, so the entry and its history agree.
	tx, err := db.rdb.beginRead(ctx, qWarningByID, qWarningHistory)
	if err != nil {
		return store.Warning{}, err
	}
	defer tx.Rollback()
	v, err := scanWarning(tx.QueryRowContext(ctx, qWarningByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("warning", id)
	}
	if err != nil {
		return v, err
	}
	rows, err := tx.QueryContext(ctx, qWarningHistory, id)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		var e store.WarningEvent
		var at int64
		if err := rows.Scan(&at, &e.ActorID, &e.Kind, &e.From, &e.To, &e.Note, &e.Outcome, &e.UnitID); err != nil {
			return v, err
		}
		e.At = tm(at)
		v.History = append(v.History, e)
	}
	return v, rows.Err()
}

func (db *DB) ListWarnings(ctx context.Context, f store.WarningFilter, p store.Page) ([]store.Warning, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	if len(f.Levels) > 0 {
		args := make([]any, len(f.Levels))
		for i, l := range f.Levels {
			args[i] = l
		}
		w.add("level IN ("+placeholders(len(args))+")", args...)
	}
	in(&w, "state", f.States)
	w.eq("assignee_id", f.AssigneeID)
	w.eq("person_id", f.PersonID)
	if !f.OverdueAt.IsZero() {
		w.add("due_at > 0 AND due_at < ?", ms(store.Millis(f.OverdueAt)))
	}
	c, ok, err := store.DecodeCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	if ok {
		w.add("(level, created_at, id) > (?, ?, ?)", c.Level, c.At, c.ID)
	}
	return list(ctx, db, "SELECT "+warningCols+" FROM warnings", &w, "level, created_at, id", p,
		func(r *sql.Rows) (store.Warning, store.Cursor, error) {
			v, err := scanWarning(r)
			return v, store.Cursor{Level: v.Level, At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

func (db *DB) ClaimWarning(ctx context.Context, id, staffID string, at, leaseUntil time.Time) (store.Warning, error) {
	if staffID == "" {
		return store.Warning{}, invalid("claim needs a staff id")
	}
	at, leaseUntil = store.Millis(at), store.Millis(leaseUntil)
	var out store.Warning
	err := db.write(ctx, func(w *wtx) error {
		v, err := w.loadWarning("id", id)
		if err != nil {
			return err
		}
		from := v.State
		if err := store.CheckClaim(v, staffID, at); err != nil {
			return err
		}
		if v.State == store.WarningOpen {
			v.State = store.WarningClaimed
		}
		v.AssigneeID, v.LeaseUntil = staffID, leaseUntil
		if err := w.setWarning(&v, store.WarningEvent{At: at, ActorID: staffID, Kind: store.EventClaimed, From: from, To: v.State}); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) AssignWarning(ctx context.Context, id, actorID, assigneeID string, at, leaseUntil time.Time, note string) (store.Warning, error) {
	if assigneeID == "" {
		return store.Warning{}, invalid("assign needs an assignee")
	}
	at, leaseUntil = store.Millis(at), store.Millis(leaseUntil)
	var out store.Warning
	err := db.write(ctx, func(w *wtx) error {
		v, err := w.loadWarning("id", id)
		if err != nil {
			return err
		}
		from := v.State
		switch v.State {
		case store.WarningOpen:
			v.State = store.WarningClaimed
		case store.WarningClaimed, store.WarningFollowingUp:
		default:
			return fmt.Errorf("%w: assign a %s entry", store.ErrInvalidTransition, v.State)
		}
		v.AssigneeID, v.LeaseUntil = assigneeID, leaseUntil
		if err := w.setWarning(&v, store.WarningEvent{At: at, ActorID: actorID, Kind: store.EventAssigned, From: from, To: v.State,
			Note: note + " → " + assigneeID}); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) TransitionWarning(ctx context.Context, id string, ch store.WarningChange) (store.Warning, error) {
	ch.At = store.Millis(ch.At)
	var out store.Warning
	err := db.write(ctx, func(w *wtx) error {
		v, err := w.loadWarning("id", id)
		if err != nil {
			return err
		}
		from := v.State
		if err := store.ApplyChange(&v, ch); err != nil {
			return err
		}
		if err := w.setWarning(&v, store.WarningEvent{At: ch.At, ActorID: ch.ActorID, Kind: store.EventTransition,
			From: from, To: v.State, Note: ch.Note, Outcome: ch.Outcome}); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) EscalateWarning(ctx context.Context, id, toUnitID string, at, newDue time.Time, note string) (store.Warning, error) {
	at, newDue = store.Millis(at), store.Millis(newDue)
	var out store.Warning
	err := db.write(ctx, func(w *wtx) error {
		v, err := w.loadWarning("id", id)
		if err != nil {
			return err
		}
		if err := store.CheckEscalate(v, at); err != nil {
			return err
		}
		path, err := w.unitPath(toUnitID)
		if err != nil {
			return err
		}
		v.UnitID, v.UnitPath, v.DueAt = toUnitID, path, newDue
		v.Escalations++
		if err := w.setWarning(&v, store.WarningEvent{At: at, Kind: store.EventEscalated, From: v.State, To: v.State,
			Note: note, UnitID: toUnitID}); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) ScanOverdue(ctx context.Context, now time.Time, limit int) ([]store.Warning, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	return db.queryWarnings(ctx, " WHERE state = 'open' AND due_at > 0 AND due_at < ? ORDER BY due_at, id LIMIT ?", ms(store.Millis(now)), limit)
}

// queryWarnings reads whole entries (without history) by a WHERE clause.
func (db *DB) queryWarnings(ctx context.Context, where string, args ...any) ([]store.Warning, error) {
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+warningCols+" FROM warnings"+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Warning
	for rows.Next() {
		v, err := scanWarning(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// QueueLevels reads the open entries only: warnings_due leads with state.
func (db *DB) QueueLevels(ctx context.Context, now time.Time) ([]store.QueueLevel, error) {
	if err := db.readable(); err != nil {
		return nil, err
	}
	defer db.closeMu.RUnlock()
	rows, err := db.rdb.QueryContext(ctx, `SELECT level, count(*), min(created_at), sum(due_at > 0 AND due_at < ?)
		FROM warnings INDEXED BY warnings_due WHERE state = 'open' GROUP BY level ORDER BY level`, ms(store.Millis(now)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.QueueLevel
	for rows.Next() {
		var l store.QueueLevel
		var oldest int64
		if err := rows.Scan(&l.Level, &l.Open, &oldest, &l.Overdue); err != nil {
			return nil, err
		}
		l.Oldest = tm(oldest)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Referrals.

// Cases.

// WarningsChangedSince scans the table: warnings hold only flagged
// results, and one embedded store serves one process, which needs no
// feed; the method exists for the contract and for tools.
func (db *DB) WarningsChangedSince(ctx context.Context, since time.Time, limit int) ([]store.Warning, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	return db.queryWarnings(ctx, " WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?", ms(store.Millis(since)), limit)
}
