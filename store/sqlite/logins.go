package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"xinling/store"
)

func (db *DB) CreateLogin(ctx context.Context, l store.Login) error {
	if l.ID == "" || l.StaffID == "" {
		return invalid("login needs an id and a staff id")
	}
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO logins(id, staff_id, csrf, ip, created_at, expires_at) VALUES (?,?,?,?,?,?)",
			l.ID, l.StaffID, l.CSRF, l.IP, ms(store.Millis(l.CreatedAt)), ms(store.Millis(l.ExpiresAt)))
		return mapErr(err)
	})
}

func (db *DB) GetLogin(ctx context.Context, id string) (store.Login, error) {
	var l store.Login
	var created, expires int64
	err := db.rdb.QueryRowContext(ctx, "SELECT id, staff_id, csrf, ip, created_at, expires_at FROM logins WHERE id = ?", id).
		Scan(&l.ID, &l.StaffID, &l.CSRF, &l.IP, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return l, notFound("login", "(hidden)")
	}
	l.CreatedAt, l.ExpiresAt = tm(created), tm(expires)
	return l, err
}

func (db *DB) DeleteLogin(ctx context.Context, id string) error {
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec("DELETE FROM logins WHERE id = ?", id)
		return err
	})
}

func (db *DB) DeleteLogins(ctx context.Context, staffID string) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec("DELETE FROM logins WHERE staff_id = ?", staffID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (db *DB) DeleteExpiredLogins(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec("DELETE FROM logins WHERE expires_at < ?", ms(store.Millis(before)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
