package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

// A unit's notification settings live in three tables: the settings row
// (policy as JSON), its endpoints and its contacts, one row each, so that
// Reseal finds every sealed column as it finds the others'.

const notifySettingsCols = "unit_id, unit_path, policy, unclaimed_after_ms, updated_by, updated_at, version"

func scanNotifySettings(r interface{ Scan(...any) error }) (store.NotifySettings, error) {
	var s store.NotifySettings
	var policy string
	var after, updated int64
	if err := r.Scan(&s.UnitID, &s.UnitPath, &policy, &after, &s.UpdatedBy, &updated, &s.Version); err != nil {
		return s, err
	}
	s.UnclaimedAfter, s.UpdatedAt = time.Duration(after)*time.Millisecond, tm(updated)
	return s, fromJSON(policy, &s.Policy)
}

// The reads of one unit's settings, prepared together (readTx).
var (
	qNotifySettings  = "SELECT " + notifySettingsCols + " FROM notify_settings WHERE unit_id = ?"
	qNotifyEndpoints = "SELECT channel, address, secret FROM notify_endpoints WHERE unit_id = ? ORDER BY channel"
	qNotifyContacts  = "SELECT id, name, channel, address, locale, always, duty FROM notify_contacts WHERE unit_id = ? ORDER BY pos"
)

// querier is a read connection or transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// loadNotifyParts reads the endpoints and contacts of the settings in ss.
func loadNotifyParts(ctx context.Context, q querier, ss []store.NotifySettings) error {
	for i := range ss {
		s := &ss[i]
		rows, err := q.QueryContext(ctx, qNotifyEndpoints, s.UnitID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e store.NotifyEndpoint
			var addr, secret []byte
			if err := rows.Scan(&e.Channel, &addr, &secret); err != nil {
				rows.Close()
				return err
			}
			e.Address, e.Secret = store.Sealed(addr), store.Sealed(secret)
			s.Endpoints = append(s.Endpoints, e)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		s.SortEndpoints()
		rows, err = q.QueryContext(ctx, qNotifyContacts, s.UnitID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c store.NotifyContact
			var addr []byte
			var always int
			var duty string
			if err := rows.Scan(&c.ID, &c.Name, &c.Channel, &addr, &c.Locale, &always, &duty); err != nil {
				rows.Close()
				return err
			}
			c.Address, c.Always = store.Sealed(addr), always != 0
			if err := fromJSON(duty, &c.Duty); err != nil {
				rows.Close()
				return err
			}
			if len(c.Duty) == 0 {
				c.Duty = nil
			}
			s.Contacts = append(s.Contacts, c)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) GetNotifySettings(ctx context.Context, unitID string) (store.NotifySettings, error) {
	// The dispatcher asks each unit up the tree for every warning, so
	// most answers are "none": a plain read says so without the cost of
	// beginning and ending a transaction (a third of what it was).
	var one int
	switch err := db.rdb.QueryRowContext(ctx, "SELECT 1 FROM notify_settings WHERE unit_id = ?", unitID).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return store.NotifySettings{}, notFound("notification settings of unit", unitID)
	case err != nil:
		return store.NotifySettings{}, err
	}
	// One read transaction, so the settings and their parts agree; its
	// queries are prepared (two thirds of what they were unprepared).
	tx, err := db.rdb.beginRead(ctx, qNotifySettings, qNotifyEndpoints, qNotifyContacts)
	if err != nil {
		return store.NotifySettings{}, err
	}
	defer tx.Rollback()
	s, err := scanNotifySettings(tx.QueryRowContext(ctx, qNotifySettings, unitID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("notification settings of unit", unitID)
	}
	if err != nil {
		return s, err
	}
	ss := []store.NotifySettings{s}
	if err := loadNotifyParts(ctx, tx, ss); err != nil {
		return s, err
	}
	return ss[0], nil
}

func (db *DB) ListNotifySettings(ctx context.Context, path string) ([]store.NotifySettings, error) {
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var w where
	w.subtree("unit_path", path)
	rows, err := tx.QueryContext(ctx, "SELECT "+notifySettingsCols+" FROM notify_settings"+w.sql()+" ORDER BY unit_path", w.args...)
	if err != nil {
		return nil, err
	}
	var out []store.NotifySettings
	for rows.Next() {
		s, err := scanNotifySettings(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return out, loadNotifyParts(ctx, tx, out)
}

func (db *DB) PutNotifySettings(ctx context.Context, s store.NotifySettings) (store.NotifySettings, error) {
	if err := s.Check(); err != nil {
		return s, err
	}
	s.UpdatedAt = store.Millis(s.UpdatedAt)
	old := s.Version
	err := db.write(ctx, func(w *wtx) error {
		path, err := w.unitPath(s.UnitID)
		if err != nil {
			return err
		}
		var current int64
		err = w.queryRow("SELECT version FROM notify_settings WHERE unit_id = ?", s.UnitID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if current != old {
			return fmt.Errorf("%w: the notification settings of unit %s changed since read (version %d, not %d)", store.ErrConflict, s.UnitID, current, old)
		}
		s.UnitPath, s.Version = path, old+1
		if _, err := w.exec("INSERT INTO notify_settings("+notifySettingsCols+") VALUES (?,?,?,?,?,?,?) "+
			"ON CONFLICT(unit_id) DO UPDATE SET unit_path=excluded.unit_path, policy=excluded.policy, "+
			"unclaimed_after_ms=excluded.unclaimed_after_ms, updated_by=excluded.updated_by, updated_at=excluded.updated_at, version=excluded.version",
			s.UnitID, s.UnitPath, jsonText(s.Policy), s.UnclaimedAfter.Milliseconds(), s.UpdatedBy, ms(s.UpdatedAt), s.Version); err != nil {
			return err
		}
		if _, err := w.exec("DELETE FROM notify_endpoints WHERE unit_id = ?", s.UnitID); err != nil {
			return err
		}
		if _, err := w.exec("DELETE FROM notify_contacts WHERE unit_id = ?", s.UnitID); err != nil {
			return err
		}
		for _, e := range s.Endpoints {
			if _, err := w.exec("INSERT INTO notify_endpoints(unit_id, channel, address, secret) VALUES (?,?,?,?)",
				s.UnitID, e.Channel, nullBytes(e.Address), nullBytes(e.Secret)); err != nil {
				return err
			}
		}
		for i, c := range s.Contacts {
			if _, err := w.exec("INSERT INTO notify_contacts(unit_id, id, pos, name, channel, address, locale, always, duty) VALUES (?,?,?,?,?,?,?,?,?)",
				s.UnitID, c.ID, i, c.Name, c.Channel, nullBytes(c.Address), c.Locale, b2i(c.Always), jsonText(c.Duty)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.Version = old
	}
	return s, err
}

// nullBytes stores an empty value as NULL, as the other sealed columns.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
