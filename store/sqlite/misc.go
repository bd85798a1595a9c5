package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

// Campaigns.

const campaignCols = "id, name, unit_id, unit_path, unit_ids, battery, mode, visibility, state, starts_at, ends_at, created_by, created_at, updated_at, version"

func scanCampaign(r interface{ Scan(...any) error }) (store.Campaign, error) {
	var c store.Campaign
	var units, battery string
	var starts, ends, created, updated int64
	err := r.Scan(&c.ID, &c.Name, &c.UnitID, &c.UnitPath, &units, &battery, &c.Mode, &c.Visibility, &c.State,
		&starts, &ends, &c.CreatedBy, &created, &updated, &c.Version)
	if err != nil {
		return c, err
	}
	c.StartsAt, c.EndsAt, c.CreatedAt, c.UpdatedAt = tm(starts), tm(ends), tm(created), tm(updated)
	return c, errors.Join(fromJSON(units, &c.UnitIDs), fromJSON(battery, &c.Battery))
}

func (db *DB) CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	if c.ID == "" || c.UnitID == "" {
		return c, invalid("campaign needs id and unit")
	}
	c.State, c.Version = store.CampaignDraft, 1
	c.CreatedAt = store.Millis(c.CreatedAt)
	c.UpdatedAt, c.StartsAt, c.EndsAt = c.CreatedAt, store.Millis(c.StartsAt), store.Millis(c.EndsAt)
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(c.UnitID)
		if err != nil {
			return err
		}
		c.UnitPath = p
		_, err = w.exec("INSERT INTO campaigns("+campaignCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			c.ID, c.Name, c.UnitID, c.UnitPath, jsonText(nonNilSlice(c.UnitIDs)), jsonText(nonNilSlice(c.Battery)), c.Mode, c.Visibility,
			string(c.State), ms(c.StartsAt), ms(c.EndsAt), c.CreatedBy, ms(c.CreatedAt), ms(c.UpdatedAt), c.Version)
		return mapErr(err)
	})
	return c, err
}

func (db *DB) GetCampaign(ctx context.Context, id string) (store.Campaign, error) {
	c, err := scanCampaign(db.rdb.QueryRowContext(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("campaign", id)
	}
	return c, err
}

func (w *wtx) campaign(id string) (store.Campaign, error) {
	c, err := scanCampaign(w.queryRow("SELECT "+campaignCols+" FROM campaigns WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("campaign", id)
	}
	return c, err
}

func (db *DB) UpdateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	var out store.Campaign
	err := db.write(ctx, func(w *wtx) error {
		cur, err := w.campaign(c.ID)
		if err != nil {
			return err
		}
		if cur.Version != c.Version {
			return fmt.Errorf("%w: campaign %s changed since read", store.ErrConflict, c.ID)
		}
		if cur.State != store.CampaignDraft {
			return fmt.Errorf("%w: edit a %s campaign", store.ErrInvalidTransition, cur.State)
		}
		if _, err := w.exec(`UPDATE campaigns SET name=?, unit_ids=?, battery=?, mode=?, visibility=?, starts_at=?, ends_at=?,
			updated_at=?, version=version+1 WHERE id=?`, c.Name, jsonText(nonNilSlice(c.UnitIDs)), jsonText(nonNilSlice(c.Battery)),
			c.Mode, c.Visibility, ms(store.Millis(c.StartsAt)), ms(store.Millis(c.EndsAt)), ms(store.Millis(c.UpdatedAt)), c.ID); err != nil {
			return err
		}
		out, err = w.campaign(c.ID)
		return err
	})
	return out, err
}

func (db *DB) SetCampaignState(ctx context.Context, id string, to store.CampaignState, at time.Time) (store.Campaign, error) {
	var out store.Campaign
	err := db.write(ctx, func(w *wtx) error {
		cur, err := w.campaign(id)
		if err != nil {
			return err
		}
		if !store.CanMoveCampaign(cur.State, to) {
			return fmt.Errorf("%w: campaign %s → %s", store.ErrInvalidTransition, cur.State, to)
		}
		if _, err := w.exec("UPDATE campaigns SET state=?, updated_at=?, version=version+1 WHERE id=?",
			string(to), ms(store.Millis(at)), id); err != nil {
			return err
		}
		out, err = w.campaign(id)
		return err
	})
	return out, err
}

func (db *DB) ListCampaigns(ctx context.Context, f store.CampaignFilter, p store.Page) ([]store.Campaign, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("state", string(f.State))
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+campaignCols+" FROM campaigns", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Campaign, store.Cursor, error) {
			v, err := scanCampaign(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

// Access codes.

const codeCols = "code, campaign_id, person_id, unit_id, unit_path, session_id, created_at"

func scanCode(r interface{ Scan(...any) error }) (store.AccessCode, error) {
	var c store.AccessCode
	var at int64
	err := r.Scan(&c.Code, &c.CampaignID, &c.PersonID, &c.UnitID, &c.UnitPath, &c.SessionID, &at)
	c.CreatedAt = tm(at)
	return c, err
}

func (db *DB) CreateAccessCodes(ctx context.Context, codes []store.AccessCode) error {
	for _, c := range codes {
		if c.Code == "" || c.CampaignID == "" || c.UnitID == "" {
			return invalid("access code needs code, campaign and unit")
		}
	}
	return db.write(ctx, func(w *wtx) error {
		paths := map[string]string{}
		for _, c := range codes {
			p, ok := paths[c.UnitID]
			if !ok {
				var err error
				if p, err = w.unitPath(c.UnitID); err != nil {
					return err
				}
				paths[c.UnitID] = p
			}
			if _, err := w.exec("INSERT INTO access_codes("+codeCols+") VALUES (?,?,?,?,?,?,?)",
				c.Code, c.CampaignID, c.PersonID, c.UnitID, p, "", ms(store.Millis(c.CreatedAt))); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (db *DB) GetAccessCode(ctx context.Context, code string) (store.AccessCode, error) {
	c, err := scanCode(db.rdb.QueryRowContext(ctx, "SELECT "+codeCols+" FROM access_codes WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("access code", "")
	}
	return c, err
}

func (db *DB) ListAccessCodes(ctx context.Context, campaignID string, p store.Page) ([]store.AccessCode, string, error) {
	var w where
	w.add("campaign_id = ?", campaignID)
	if err := w.after("created_at", "code", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+codeCols+" FROM access_codes", &w, "created_at, code", p,
		func(r *sql.Rows) (store.AccessCode, store.Cursor, error) {
			v, err := scanCode(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.Code}, err
		})
}

func (db *DB) BindAccessCode(ctx context.Context, code, sessionID string) (store.AccessCode, error) {
	if sessionID == "" {
		return store.AccessCode{}, invalid("bind needs a session")
	}
	var out store.AccessCode
	err := db.write(ctx, func(w *wtx) error {
		if _, err := w.exec("UPDATE access_codes SET session_id = ? WHERE code = ? AND session_id = ''", sessionID, code); err != nil {
			return err
		}
		c, err := scanCode(w.queryRow("SELECT "+codeCols+" FROM access_codes WHERE code = ?", code))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("access code", "")
		}
		out = c
		return err
	})
	return out, err
}

// Instruments.

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

// Audit.

const auditCols = "id, at, actor_id, action, target_kind, target_id, unit_path, ip, detail"

func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Action == "" {
		return invalid("audit entry needs an action")
	}
	if e.ID == "" {
		e.ID = store.NewID()
	}
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO audit("+auditCols+") VALUES (?,?,?,?,?,?,?,?,?)",
			e.ID, ms(store.Millis(e.At)), e.ActorID, e.Action, e.TargetKind, e.TargetID, e.UnitPath, e.IP, e.Detail)
		return mapErr(err)
	})
}

func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEntry, string, error) {
	var w where
	w.eq("actor_id", f.ActorID)
	w.eq("target_kind", f.TargetKind)
	w.eq("target_id", f.TargetID)
	w.eq("action", f.Action)
	w.timeRange("at", f.From, f.To)
	if err := w.after("at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+auditCols+" FROM audit", &w, "at, id", p,
		func(r *sql.Rows) (store.AuditEntry, store.Cursor, error) {
			var e store.AuditEntry
			var at int64
			err := r.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.TargetKind, &e.TargetID, &e.UnitPath, &e.IP, &e.Detail)
			e.At = tm(at)
			return e, store.Cursor{At: at, ID: e.ID}, err
		})
}

// Activities and counts.

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
