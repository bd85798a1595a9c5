package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"xinling/store"
)

// Units.

const unitCols = "id, COALESCE(parent_id, ''), kind, name, path, created_at"

func scanUnit(r interface{ Scan(...any) error }) (store.Unit, error) {
	var u store.Unit
	var at int64
	err := r.Scan(&u.ID, &u.ParentID, &u.Kind, &u.Name, &u.Path, &at)
	u.CreatedAt = tm(at)
	return u, err
}

func (db *DB) CreateUnit(ctx context.Context, u store.Unit) (store.Unit, error) {
	if !store.ValidID(u.ID) {
		return store.Unit{}, invalid("unit id %q", u.ID)
	}
	if u.ParentID != "" && !store.ValidID(u.ParentID) {
		return store.Unit{}, invalid("parent id %q", u.ParentID)
	}
	u.CreatedAt = store.Millis(u.CreatedAt)
	err := db.write(ctx, func(w *wtx) error {
		parentPath := ""
		if u.ParentID != "" {
			p, err := w.unitPath(u.ParentID)
			if err != nil {
				return err
			}
			parentPath = p
		}
		u.Path = store.ChildPath(parentPath, u.ID)
		var parent any
		if u.ParentID != "" {
			parent = u.ParentID
		}
		_, err := w.exec("INSERT INTO units(id, parent_id, kind, name, path, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			u.ID, parent, u.Kind, u.Name, u.Path, ms(u.CreatedAt))
		return mapErr(err)
	})
	return u, err
}

func (db *DB) GetUnit(ctx context.Context, id string) (store.Unit, error) {
	u, err := scanUnit(db.rdb.QueryRowContext(ctx, "SELECT "+unitCols+" FROM units WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("unit", id)
	}
	return u, err
}

func (db *DB) RenameUnit(ctx context.Context, id, name, kind string) (store.Unit, error) {
	var out store.Unit
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec("UPDATE units SET name = ?, kind = ? WHERE id = ?", name, kind, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("unit", id)
		}
		out, err = scanUnit(w.queryRow("SELECT "+unitCols+" FROM units WHERE id = ?", id))
		return err
	})
	return out, err
}

func (db *DB) ListUnits(ctx context.Context, path string) ([]store.Unit, error) {
	var w where
	w.subtree("path", path)
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+unitCols+" FROM units"+w.sql()+" ORDER BY path", w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Staff.

// Persons.
