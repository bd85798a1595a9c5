package sqlite

import (
	"context"
	"database/sql"
	"time"

	"xinling/store"
)

const activityCols = "id, unit_id, unit_path, date, type, reached, materials, note, created_by, created_at"

func (db *DB) AddActivity(ctx context.Context, a store.Activity) (store.Activity, error) {
	if a.ID == "" || a.UnitID == "" || a.Type == "" {
		return a, invalid("activity needs id, unit and type")
	}
	a.Date, a.CreatedAt = store.Millis(a.Date), store.Millis(a.CreatedAt)
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(a.UnitID)
		if err != nil {
			return err
		}
		a.UnitPath = p
		_, err = w.exec("INSERT INTO activities("+activityCols+") VALUES (?,?,?,?,?,?,?,?,?,?)",
			a.ID, a.UnitID, a.UnitPath, ms(a.Date), a.Type, a.Reached, a.Materials, a.Note, a.CreatedBy, ms(a.CreatedAt))
		return mapErr(err)
	})
	return a, err
}

func (db *DB) ListActivities(ctx context.Context, f store.ActivityFilter, p store.Page) ([]store.Activity, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.timeRange("date", f.From, f.To)
	if err := w.after("date", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+activityCols+" FROM activities", &w, "date, id", p,
		func(r *sql.Rows) (store.Activity, store.Cursor, error) {
			var a store.Activity
			var date, created int64
			err := r.Scan(&a.ID, &a.UnitID, &a.UnitPath, &date, &a.Type, &a.Reached, &a.Materials, &a.Note, &a.CreatedBy, &created)
			a.Date, a.CreatedAt = tm(date), tm(created)
			return a, store.Cursor{At: date, ID: a.ID}, err
		})
}

func (db *DB) UnitCounts(ctx context.Context, path string, from, to time.Time) ([]store.UnitCounts, error) {
	lo, hi, ok := store.PathRange(path)
	if !ok {
		lo, hi = "", "\U0010FFFF"
	}
	f, t := ms(store.Millis(from)), ms(store.Millis(to))
	if t == 0 {
		t = 1<<63 - 1
	}
	byUnit := map[string]*store.UnitCounts{}
	get := func(id string) *store.UnitCounts {
		c, ok := byUnit[id]
		if !ok {
			c = &store.UnitCounts{UnitID: id, WarningsByLevel: map[int]int{}, Activities: map[string]int{}, ActivityReached: map[string]int{}}
			byUnit[id] = c
		}
		return c
	}
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	type q struct {
		sql  string
		scan func(*sql.Rows) error
	}
	qs := []q{
		{"SELECT unit_id, count(*) FROM results WHERE unit_path >= ? AND unit_path < ? AND created_at >= ? AND created_at < ? AND superseded_by = '' GROUP BY unit_id",
			func(r *sql.Rows) error {
				var id string
				var n int
				err := r.Scan(&id, &n)
				get(id).Results += n
				return err
			}},
		{"SELECT unit_id, level, count(*) FROM warnings WHERE unit_path >= ? AND unit_path < ? AND created_at >= ? AND created_at < ? GROUP BY unit_id, level",
			func(r *sql.Rows) error {
				var id string
				var l, n int
				err := r.Scan(&id, &l, &n)
				get(id).WarningsByLevel[l] += n
				return err
			}},
		{"SELECT from_unit_id, count(*) FROM referrals WHERE from_unit_path >= ? AND from_unit_path < ? AND created_at >= ? AND created_at < ? GROUP BY from_unit_id",
			func(r *sql.Rows) error {
				var id string
				var n int
				err := r.Scan(&id, &n)
				get(id).Referrals += n
				return err
			}},
		{"SELECT unit_id, count(*) FROM cases WHERE unit_path >= ? AND unit_path < ? AND at >= ? AND at < ? GROUP BY unit_id",
			func(r *sql.Rows) error {
				var id string
				var n int
				err := r.Scan(&id, &n)
				get(id).Cases += n
				return err
			}},
		{"SELECT unit_id, count(*) FROM cases WHERE unit_path >= ? AND unit_path < ? AND closed = 1 AND closed_at >= ? AND closed_at < ? GROUP BY unit_id",
			func(r *sql.Rows) error {
				var id string
				var n int
				err := r.Scan(&id, &n)
				get(id).CasesClosed += n
				return err
			}},
		{"SELECT unit_id, type, count(*), sum(reached), sum(materials) FROM activities WHERE unit_path >= ? AND unit_path < ? AND date >= ? AND date < ? GROUP BY unit_id, type",
			func(r *sql.Rows) error {
				var id, typ string
				var n, reached, materials int
				err := r.Scan(&id, &typ, &n, &reached, &materials)
				c := get(id)
				c.Activities[typ] += n
				c.ActivityReached[typ] += reached
				c.MaterialsHandout += materials
				return err
			}},
	}
	for _, q := range qs {
		rows, err := tx.QueryContext(ctx, q.sql, lo, hi, f, t)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return nil, err
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	out := make([]store.UnitCounts, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortCounts(out)
	return out, nil
}
