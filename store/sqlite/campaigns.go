package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

const campaignCols = "id, name, unit_id, unit_path, unit_ids, battery, mode, visibility, state, starts_at, ends_at, created_by, follow_up_of, created_at, updated_at, version"

func scanCampaign(r interface{ Scan(...any) error }) (store.Campaign, error) {
	var c store.Campaign
	var units, battery string
	var starts, ends, created, updated int64
	err := r.Scan(&c.ID, &c.Name, &c.UnitID, &c.UnitPath, &units, &battery, &c.Mode, &c.Visibility, &c.State,
		&starts, &ends, &c.CreatedBy, &c.FollowUpOf, &created, &updated, &c.Version)
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
		_, err = w.exec("INSERT INTO campaigns("+campaignCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			c.ID, c.Name, c.UnitID, c.UnitPath, jsonText(nonNilSlice(c.UnitIDs)), jsonText(nonNilSlice(c.Battery)), c.Mode, c.Visibility,
			string(c.State), ms(c.StartsAt), ms(c.EndsAt), c.CreatedBy, c.FollowUpOf, ms(c.CreatedAt), ms(c.UpdatedAt), c.Version)
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

const codeCols = "code, campaign_id, person_id, unit_id, unit_path, session_id, retake_of, created_at"

func scanCode(r interface{ Scan(...any) error }) (store.AccessCode, error) {
	var c store.AccessCode
	var at int64
	err := r.Scan(&c.Code, &c.CampaignID, &c.PersonID, &c.UnitID, &c.UnitPath, &c.SessionID, &c.RetakeOf, &at)
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
			if _, err := w.exec("INSERT INTO access_codes("+codeCols+") VALUES (?,?,?,?,?,?,?,?)",
				c.Code, c.CampaignID, c.PersonID, c.UnitID, p, "", c.RetakeOf, ms(store.Millis(c.CreatedAt))); err != nil {
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
