package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

const notificationCols = "id, kind, warning_id, unit_id, unit_path, level, due_at, parent_id, contact_id, channel, state, " +
	"not_before, attempts, lease_owner, lease_until, last_error, created_at, updated_at, sent_at"

func scanNotification(r interface{ Scan(...any) error }) (store.Notification, error) {
	var n store.Notification
	var due, notBefore, lease, created, updated, sent int64
	err := r.Scan(&n.ID, &n.Kind, &n.WarningID, &n.UnitID, &n.UnitPath, &n.Level, &due, &n.ParentID, &n.ContactID, &n.Channel,
		&n.State, &notBefore, &n.Attempts, &n.LeaseOwner, &lease, &n.LastError, &created, &updated, &sent)
	n.DueAt, n.NotBefore, n.LeaseUntil, n.CreatedAt, n.UpdatedAt, n.SentAt = tm(due), tm(notBefore), tm(lease), tm(created), tm(updated), tm(sent)
	return n, err
}

// enqueue inserts the notifications whose id is new, inside the caller's
// transaction (a queue change and the debt it owes commit together).
func (w *wtx) enqueue(ns ...store.Notification) (int, error) {
	added := 0
	for _, n := range ns {
		if n.ID == "" || n.Kind == "" {
			return added, invalid("notification needs an id and a kind")
		}
		if n.UnitID != "" && n.UnitPath == "" {
			p, err := w.unitPath(n.UnitID)
			if err != nil {
				return added, err
			}
			n.UnitPath = p
		}
		if n.State == "" {
			n.State = store.NotificationPending
		}
		res, err := w.exec("INSERT OR IGNORE INTO notifications("+notificationCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			n.ID, n.Kind, n.WarningID, n.UnitID, n.UnitPath, n.Level, ms(store.Millis(n.DueAt)), n.ParentID, n.ContactID, n.Channel,
			string(n.State), ms(store.Millis(n.NotBefore)), n.Attempts, n.LeaseOwner, ms(store.Millis(n.LeaseUntil)), n.LastError, ms(store.Millis(n.CreatedAt)),
			ms(store.Millis(n.CreatedAt)), 0)
		if err != nil {
			return added, mapErr(err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			added++
		}
	}
	return added, nil
}

// owe enqueues the debt of an entry at its current level (see
// store.WarningNotification): putWarning's last step, so no write files an
// entry without it.
func (w *wtx) owe(v store.Warning, at time.Time) error {
	_, err := w.enqueue(store.WarningNotification(v, at))
	return err
}

func (db *DB) EnqueueNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	var added int
	err := db.write(ctx, func(w *wtx) error {
		var err error
		added, err = w.enqueue(ns...)
		return err
	})
	return added, err
}

func (db *DB) ClaimNotifications(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]store.Notification, error) {
	if owner == "" {
		return nil, invalid("a claim needs an owner")
	}
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	var out []store.Notification
	err := db.write(ctx, func(w *wtx) error {
		out = nil
		rows, err := w.query("SELECT "+notificationCols+" FROM notifications WHERE state = 'pending' AND not_before <= ? AND lease_until <= ? "+
			"ORDER BY not_before, id LIMIT ?", ms(now), ms(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			n, err := scanNotification(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The single writer runs this read and these updates in one
		// transaction, so no other claim can take the same rows.
		for i := range out {
			n := &out[i]
			n.LeaseOwner, n.LeaseUntil, n.Attempts, n.UpdatedAt = owner, store.Millis(leaseUntil), n.Attempts+1, store.Millis(now)
			if _, err := w.exec("UPDATE notifications SET lease_owner = ?, lease_until = ?, attempts = ?, updated_at = ? WHERE id = ?",
				owner, ms(n.LeaseUntil), n.Attempts, ms(n.UpdatedAt), n.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (db *DB) FinishNotification(ctx context.Context, id, owner string, f store.NotificationFinish) (store.Notification, error) {
	if err := f.Check(); err != nil {
		return store.Notification{}, err
	}
	var out store.Notification
	err := db.write(ctx, func(w *wtx) error {
		n, err := scanNotification(w.queryRow("SELECT "+notificationCols+" FROM notifications WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("notification", id)
		}
		if err != nil {
			return err
		}
		if n.State != store.NotificationPending || n.LeaseOwner != owner {
			return fmt.Errorf("%w: notification %s is held by %q (%s)", store.ErrLeaseHeld, id, n.LeaseOwner, n.State)
		}
		at := store.Millis(f.At)
		n.State, n.LastError, n.LeaseOwner, n.LeaseUntil, n.UpdatedAt = f.State, f.Error, "", time.Time{}, at
		if f.State == store.NotificationPending {
			n.NotBefore = store.Millis(f.NotBefore)
		}
		if f.State == store.NotificationSent {
			n.SentAt = at
		}
		_, err = w.exec("UPDATE notifications SET state = ?, last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?, not_before = ?, sent_at = ? WHERE id = ?",
			string(n.State), n.LastError, ms(at), ms(n.NotBefore), ms(n.SentAt), id)
		out = n
		return err
	})
	return out, err
}

func (db *DB) RequeueNotification(ctx context.Context, id string, at time.Time) (store.Notification, error) {
	at = store.Millis(at)
	var out store.Notification
	err := db.write(ctx, func(w *wtx) error {
		n, err := scanNotification(w.queryRow("SELECT "+notificationCols+" FROM notifications WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("notification", id)
		}
		if err != nil {
			return err
		}
		if n.State != store.NotificationDead {
			return fmt.Errorf("%w: requeue a %s notification", store.ErrInvalidTransition, n.State)
		}
		n.State, n.NotBefore, n.Attempts, n.UpdatedAt, n.LeaseOwner, n.LeaseUntil = store.NotificationPending, at, 0, at, "", time.Time{}
		_, err = w.exec("UPDATE notifications SET state = ?, not_before = ?, attempts = 0, updated_at = ?, lease_owner = '', lease_until = 0 WHERE id = ?",
			string(n.State), ms(at), ms(at), id)
		out = n
		return err
	})
	return out, err
}

func (db *DB) GetNotification(ctx context.Context, id string) (store.Notification, error) {
	n, err := scanNotification(db.rdb.QueryRowContext(ctx, "SELECT "+notificationCols+" FROM notifications WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, notFound("notification", id)
	}
	return n, err
}

func (db *DB) ListNotifications(ctx context.Context, f store.NotificationFilter, p store.Page) ([]store.Notification, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("warning_id", f.WarningID)
	w.eq("parent_id", f.ParentID)
	in(&w, "kind", f.Kinds)
	in(&w, "state", f.States)
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+notificationCols+" FROM notifications", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Notification, store.Cursor, error) {
			n, err := scanNotification(r)
			return n, store.Cursor{At: ms(n.CreatedAt), ID: n.ID}, err
		})
}

func (db *DB) NotificationCounts(ctx context.Context) ([]store.NotificationCount, error) {
	rows, err := db.rdb.QueryContext(ctx, "SELECT kind, channel, state, COUNT(*) FROM notifications GROUP BY kind, channel, state ORDER BY kind, channel, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.NotificationCount
	for rows.Next() {
		var c store.NotificationCount
		if err := rows.Scan(&c.Kind, &c.Channel, &c.State, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
