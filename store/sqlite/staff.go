package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"xinling/store"
)

const staffCols = "id, login, name, role, unit_id, unit_path, password_hash, failed_logins, locked_until, disabled, created_at, updated_at, version, must_change_password, permissions"

func scanStaff(r interface{ Scan(...any) error }) (store.Staff, error) {
	var s store.Staff
	var locked, created, updated int64
	var disabled, mustChange int
	var perms string
	err := r.Scan(&s.ID, &s.Login, &s.Name, &s.Role, &s.UnitID, &s.UnitPath, &s.PasswordHash,
		&s.FailedLogins, &locked, &disabled, &created, &updated, &s.Version, &mustChange, &perms)
	s.LockedUntil, s.CreatedAt, s.UpdatedAt, s.Disabled = tm(locked), tm(created), tm(updated), disabled != 0
	s.MustChangePassword = mustChange != 0
	if perms != "" {
		s.Permissions = strings.Split(perms, ",")
	}
	return s, err
}

func (db *DB) CreateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	if s.ID == "" || s.Login == "" || s.UnitID == "" {
		return store.Staff{}, invalid("staff needs id, login and unit")
	}
	s.CreatedAt = store.Millis(s.CreatedAt)
	s.UpdatedAt = s.CreatedAt
	s.LockedUntil = store.Millis(s.LockedUntil)
	s.Version = 1
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(s.UnitID)
		if err != nil {
			return err
		}
		s.UnitPath = p
		s.Permissions = store.SortedSet(s.Permissions)
		_, err = w.exec("INSERT INTO staff("+staffCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			s.ID, s.Login, s.Name, string(s.Role), s.UnitID, s.UnitPath, s.PasswordHash, s.FailedLogins,
			ms(s.LockedUntil), b2i(s.Disabled), ms(s.CreatedAt), ms(s.UpdatedAt), s.Version, b2i(s.MustChangePassword),
			strings.Join(s.Permissions, ","))
		return mapErr(err)
	})
	return s, err
}

func (db *DB) GetStaff(ctx context.Context, id string) (store.Staff, error) {
	s, err := scanStaff(db.rdb.QueryRowContext(ctx, "SELECT "+staffCols+" FROM staff WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("staff", id)
	}
	return s, err
}

func (db *DB) GetStaffByLogin(ctx context.Context, login string) (store.Staff, error) {
	s, err := scanStaff(db.rdb.QueryRowContext(ctx, "SELECT "+staffCols+" FROM staff WHERE login = ?", login))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("staff login", login)
	}
	return s, err
}

func (db *DB) UpdateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	var out store.Staff
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(s.UnitID)
		if err != nil {
			return err
		}
		res, err := w.exec(`UPDATE staff SET name=?, role=?, unit_id=?, unit_path=?, password_hash=?, failed_logins=?,
			locked_until=?, disabled=?, must_change_password=?, permissions=?, updated_at=?, version=version+1 WHERE id=? AND version=?`,
			s.Name, string(s.Role), s.UnitID, p, s.PasswordHash, s.FailedLogins, ms(store.Millis(s.LockedUntil)),
			b2i(s.Disabled), b2i(s.MustChangePassword), strings.Join(store.SortedSet(s.Permissions), ","),
			ms(store.Millis(s.UpdatedAt)), s.ID, s.Version)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return w.versionMiss("staff", s.ID)
		}
		out, err = scanStaff(w.queryRow("SELECT "+staffCols+" FROM staff WHERE id = ?", s.ID))
		return err
	})
	return out, err
}

func (db *DB) ListStaff(ctx context.Context, f store.StaffFilter, p store.Page) ([]store.Staff, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("role", string(f.Role))
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+staffCols+" FROM staff", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Staff, store.Cursor, error) {
			s, err := scanStaff(r)
			return s, store.Cursor{At: ms(s.CreatedAt), ID: s.ID}, err
		})
}

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
