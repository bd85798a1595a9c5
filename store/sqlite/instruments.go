package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

func scanInstrument(r interface{ Scan(...any) error }, withSource bool) (store.InstrumentDoc, error) {
	var d store.InstrumentDoc
	var created, published, retired int64
	var public int
	dst := []any{&d.ID, &d.Version, &d.ContentHash, &d.State, &d.UnitID, &d.CreatedBy, &created, &published, &retired, &public}
	if withSource {
		dst = append(dst, &d.Source)
	}
	err := r.Scan(dst...)
	d.CreatedAt, d.PublishedAt, d.RetiredAt, d.Public = tm(created), tm(published), tm(retired), public != 0
	return d, err
}

const instrumentCols = "id, version, content_hash, state, unit_id, created_by, created_at, published_at, retired_at, public"

func (db *DB) SaveInstrumentDraft(ctx context.Context, d store.InstrumentDoc) (store.InstrumentDoc, error) {
	if d.ID == "" || d.Version == "" {
		return d, invalid("instrument needs id and version")
	}
	d.State, d.CreatedAt, d.PublishedAt = store.InstrumentDraft, store.Millis(d.CreatedAt), time.Time{}
	err := db.write(ctx, func(w *wtx) error {
		var st, unit string
		err := w.queryRow("SELECT state, unit_id FROM instruments WHERE id = ? AND version = ?", d.ID, d.Version).Scan(&st, &unit)
		if err == nil && st != string(store.InstrumentDraft) {
			return fmt.Errorf("%w: %s %s", store.ErrImmutable, d.ID, d.Version)
		}
		if err == nil && unit != d.UnitID {
			return fmt.Errorf("%w: another unit has a draft %s %s", store.ErrConflict, d.ID, d.Version)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = w.exec(`INSERT INTO instruments(id, version, content_hash, source, state, unit_id, created_by, created_at, published_at)
			VALUES (?,?,?,?,?,?,?,?,0) ON CONFLICT(id, version) DO UPDATE SET content_hash=excluded.content_hash,
			source=excluded.source, unit_id=excluded.unit_id, created_by=excluded.created_by, created_at=excluded.created_at`,
			d.ID, d.Version, d.ContentHash, d.Source, string(d.State), d.UnitID, d.CreatedBy, ms(d.CreatedAt))
		return mapErr(err)
	})
	return d, err
}

func (db *DB) PublishInstrument(ctx context.Context, id, version string, at time.Time) (store.InstrumentDoc, error) {
	var out store.InstrumentDoc
	err := db.write(ctx, func(w *wtx) error {
		d, err := scanInstrument(w.queryRow("SELECT "+instrumentCols+", source FROM instruments WHERE id = ? AND version = ?", id, version), true)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("instrument", id+" "+version)
		}
		if err != nil {
			return err
		}
		if d.State != store.InstrumentDraft {
			return fmt.Errorf("%w: %s %s", store.ErrImmutable, id, version)
		}
		d.State, d.PublishedAt = store.InstrumentPublished, store.Millis(at)
		if _, err := w.exec("UPDATE instruments SET state = ?, published_at = ? WHERE id = ? AND version = ?",
			string(d.State), ms(d.PublishedAt), id, version); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

func (db *DB) RetireInstrument(ctx context.Context, id, version string, at time.Time) (store.InstrumentDoc, error) {
	return db.changeInstrument(ctx, id, version, func(d *store.InstrumentDoc) error {
		if d.State == store.InstrumentRetired {
			return fmt.Errorf("%w: %s %s is already retired", store.ErrImmutable, id, version)
		}
		d.State, d.RetiredAt = store.InstrumentRetired, store.Millis(at)
		return nil
	})
}

func (db *DB) SetInstrumentPublic(ctx context.Context, id, version string, public bool) (store.InstrumentDoc, error) {
	return db.changeInstrument(ctx, id, version, func(d *store.InstrumentDoc) error {
		d.Public = public
		return nil
	})
}

// changeInstrument applies change to a published or retired version.
func (db *DB) changeInstrument(ctx context.Context, id, version string, change func(*store.InstrumentDoc) error) (store.InstrumentDoc, error) {
	var out store.InstrumentDoc
	err := db.write(ctx, func(w *wtx) error {
		d, err := scanInstrument(w.queryRow("SELECT "+instrumentCols+" FROM instruments WHERE id = ? AND version = ?", id, version), false)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("instrument", id+" "+version)
		}
		if err != nil {
			return err
		}
		if d.State == store.InstrumentDraft {
			return fmt.Errorf("%w: %s %s is a draft", store.ErrConflict, id, version)
		}
		if err := change(&d); err != nil {
			return err
		}
		if _, err := w.exec("UPDATE instruments SET state = ?, retired_at = ?, public = ? WHERE id = ? AND version = ?",
			string(d.State), ms(d.RetiredAt), b2i(d.Public), id, version); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

func (db *DB) GetInstrument(ctx context.Context, id, version string) (store.InstrumentDoc, error) {
	d, err := scanInstrument(db.rdb.QueryRowContext(ctx, "SELECT "+instrumentCols+", source FROM instruments WHERE id = ? AND version = ?", id, version), true)
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("instrument", id+" "+version)
	}
	return d, err
}

func (db *DB) ListInstruments(ctx context.Context, f store.InstrumentFilter) ([]store.InstrumentDoc, error) {
	var w where
	w.eq("id", f.ID)
	w.eq("state", string(f.State))
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+instrumentCols+" FROM instruments"+w.sql()+" ORDER BY id, version", w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.InstrumentDoc
	for rows.Next() {
		d, err := scanInstrument(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
