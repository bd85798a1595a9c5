package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"xinling/store"
)

const absenceCols = "campaign_id, person_id, unit_id, unit_path, reason, updated_by, updated_at"

func (db *DB) PutAbsence(ctx context.Context, a store.Absence) (store.Absence, error) {
	if err := a.Check(); err != nil {
		return a, err
	}
	a.UpdatedAt = store.Millis(a.UpdatedAt)
	err := db.write(ctx, func(w *wtx) error {
		if _, err := w.campaign(a.CampaignID); err != nil {
			return err
		}
		err := w.queryRow("SELECT unit_id, unit_path FROM persons WHERE id = ?", a.PersonID).Scan(&a.UnitID, &a.UnitPath)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("person", a.PersonID)
		}
		if err != nil {
			return err
		}
		if len(a.Reason) == 0 {
			_, err := w.exec("DELETE FROM absences WHERE campaign_id = ? AND person_id = ?", a.CampaignID, a.PersonID)
			return err
		}
		_, err = w.exec("INSERT INTO absences("+absenceCols+") VALUES (?,?,?,?,?,?,?) "+
			"ON CONFLICT(campaign_id, person_id) DO UPDATE SET unit_id=excluded.unit_id, unit_path=excluded.unit_path, "+
			"reason=excluded.reason, updated_by=excluded.updated_by, updated_at=excluded.updated_at",
			a.CampaignID, a.PersonID, a.UnitID, a.UnitPath, []byte(a.Reason), a.UpdatedBy, ms(a.UpdatedAt))
		return err
	})
	return a, err
}

func (db *DB) ListAbsences(ctx context.Context, f store.AbsenceFilter) ([]store.Absence, error) {
	var w where
	w.eq("campaign_id", f.CampaignID)
	w.eq("person_id", f.PersonID)
	w.subtree("unit_path", f.UnitPath)
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+absenceCols+" FROM absences"+w.sql()+" ORDER BY unit_path, person_id, campaign_id", w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Absence
	for rows.Next() {
		var a store.Absence
		var reason []byte
		var at int64
		if err := rows.Scan(&a.CampaignID, &a.PersonID, &a.UnitID, &a.UnitPath, &reason, &a.UpdatedBy, &at); err != nil {
			return nil, err
		}
		a.Reason, a.UpdatedAt = store.Sealed(reason), tm(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
