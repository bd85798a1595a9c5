package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

const referralCols = "id, warning_id, person_id, from_unit_id, from_unit_path, to_unit_id, to_unit_path, sender_id, note, state, created_at, updated_at"

func scanReferral(r interface{ Scan(...any) error }) (store.Referral, error) {
	var v store.Referral
	var note []byte
	var created, updated int64
	err := r.Scan(&v.ID, &v.WarningID, &v.PersonID, &v.FromUnitID, &v.FromUnitPath, &v.ToUnitID, &v.ToUnitPath, &v.SenderID,
		&note, &v.State, &created, &updated)
	v.Note, v.CreatedAt, v.UpdatedAt = note, tm(created), tm(updated)
	return v, err
}

func (db *DB) ReferWarning(ctx context.Context, warningID string, r store.Referral) (store.Referral, error) {
	if r.ID == "" || r.ToUnitID == "" || r.SenderID == "" {
		return r, invalid("referral needs id, target unit and sender")
	}
	r.CreatedAt = store.Millis(r.CreatedAt)
	r.UpdatedAt, r.State, r.WarningID = r.CreatedAt, store.ReferralSent, warningID
	err := db.write(ctx, func(w *wtx) error {
		v, err := w.loadWarning("id", warningID)
		if err != nil {
			return err
		}
		from := v.State
		if err := store.ApplyChange(&v, store.WarningChange{ActorID: r.SenderID, To: store.WarningReferred, At: r.CreatedAt}); err != nil {
			return err
		}
		if r.ToUnitPath, err = w.unitPath(r.ToUnitID); err != nil {
			return err
		}
		r.PersonID, r.FromUnitID, r.FromUnitPath = v.PersonID, v.UnitID, v.UnitPath
		if _, err := w.exec("INSERT INTO referrals("+referralCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			r.ID, r.WarningID, r.PersonID, r.FromUnitID, r.FromUnitPath, r.ToUnitID, r.ToUnitPath, r.SenderID, []byte(r.Note),
			string(r.State), ms(r.CreatedAt), ms(r.UpdatedAt)); err != nil {
			return mapErr(err)
		}
		return w.setWarning(&v, store.WarningEvent{At: r.CreatedAt, ActorID: r.SenderID, Kind: store.EventReferred,
			From: from, To: v.State, UnitID: r.ToUnitID})
	})
	return r, err
}

func (db *DB) GetReferral(ctx context.Context, id string) (store.Referral, error) {
	v, err := scanReferral(db.rdb.QueryRowContext(ctx, "SELECT "+referralCols+" FROM referrals WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("referral", id)
	}
	return v, err
}

func (db *DB) SetReferralState(ctx context.Context, id string, to store.ReferralState, at time.Time) (store.Referral, error) {
	var out store.Referral
	err := db.write(ctx, func(w *wtx) error {
		v, err := scanReferral(w.queryRow("SELECT "+referralCols+" FROM referrals WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("referral", id)
		}
		if err != nil {
			return err
		}
		if !store.CanMoveReferral(v.State, to) {
			return fmt.Errorf("%w: referral %s → %s", store.ErrInvalidTransition, v.State, to)
		}
		v.State, v.UpdatedAt = to, store.Millis(at)
		if _, err := w.exec("UPDATE referrals SET state = ?, updated_at = ? WHERE id = ?", string(to), ms(v.UpdatedAt), id); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

func (db *DB) ListReferrals(ctx context.Context, f store.ReferralFilter, p store.Page) ([]store.Referral, string, error) {
	var w where
	w.subtree("to_unit_path", f.ToUnitPath)
	w.subtree("from_unit_path", f.FromUnitPath)
	w.eq("warning_id", f.WarningID)
	w.eq("person_id", f.PersonID)
	w.eq("state", string(f.State))
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+referralCols+" FROM referrals", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Referral, store.Cursor, error) {
			v, err := scanReferral(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

const caseCols = "id, person_id, warning_id, unit_id, unit_path, counsellor_id, self_evaluation, life_events, other_problems, advice, group_notified, at, closed, closed_at, outcome, created_at, updated_at, version"

func scanCase(r interface{ Scan(...any) error }) (store.Case, error) {
	var c store.Case
	var se, le, op, ad []byte
	var notified, closed int
	var at, closedAt, created, updated int64
	err := r.Scan(&c.ID, &c.PersonID, &c.WarningID, &c.UnitID, &c.UnitPath, &c.CounsellorID, &se, &le, &op, &ad,
		&notified, &at, &closed, &closedAt, &c.Outcome, &created, &updated, &c.Version)
	c.SelfEvaluation, c.LifeEvents, c.OtherProblems, c.Advice = se, le, op, ad
	c.GroupNotified, c.Closed = notified != 0, closed != 0
	c.At, c.ClosedAt, c.CreatedAt, c.UpdatedAt = tm(at), tm(closedAt), tm(created), tm(updated)
	return c, err
}

func (db *DB) CreateCase(ctx context.Context, c store.Case) (store.Case, error) {
	if c.ID == "" || c.PersonID == "" || c.UnitID == "" {
		return c, invalid("case needs id, person and unit")
	}
	c.CreatedAt = store.Millis(c.CreatedAt)
	c.UpdatedAt, c.At, c.ClosedAt, c.Version = c.CreatedAt, store.Millis(c.At), store.Millis(c.ClosedAt), 1
	err := db.write(ctx, func(w *wtx) error {
		p, err := w.unitPath(c.UnitID)
		if err != nil {
			return err
		}
		c.UnitPath = p
		_, err = w.exec("INSERT INTO cases("+caseCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			c.ID, c.PersonID, c.WarningID, c.UnitID, c.UnitPath, c.CounsellorID, []byte(c.SelfEvaluation), []byte(c.LifeEvents),
			[]byte(c.OtherProblems), []byte(c.Advice), b2i(c.GroupNotified), ms(c.At), b2i(c.Closed), ms(c.ClosedAt), c.Outcome,
			ms(c.CreatedAt), ms(c.UpdatedAt), c.Version)
		return mapErr(err)
	})
	return c, err
}

func (db *DB) GetCase(ctx context.Context, id string) (store.Case, error) {
	c, err := scanCase(db.rdb.QueryRowContext(ctx, "SELECT "+caseCols+" FROM cases WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("case", id)
	}
	return c, err
}

func (db *DB) UpdateCase(ctx context.Context, c store.Case) (store.Case, error) {
	var out store.Case
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE cases SET warning_id=?, counsellor_id=?, self_evaluation=?, life_events=?, other_problems=?,
			advice=?, group_notified=?, at=?, closed=?, closed_at=?, outcome=?, updated_at=?, version=version+1 WHERE id=? AND version=?`,
			c.WarningID, c.CounsellorID, []byte(c.SelfEvaluation), []byte(c.LifeEvents), []byte(c.OtherProblems), []byte(c.Advice),
			b2i(c.GroupNotified), ms(store.Millis(c.At)), b2i(c.Closed), ms(store.Millis(c.ClosedAt)), c.Outcome,
			ms(store.Millis(c.UpdatedAt)), c.ID, c.Version)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return w.versionMiss("cases", c.ID)
		}
		out, err = scanCase(w.queryRow("SELECT "+caseCols+" FROM cases WHERE id = ?", c.ID))
		return err
	})
	return out, err
}

func (db *DB) ListCases(ctx context.Context, f store.CaseFilter, p store.Page) ([]store.Case, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("person_id", f.PersonID)
	w.eq("warning_id", f.WarningID)
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+caseCols+" FROM cases", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Case, store.Cursor, error) {
			v, err := scanCase(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}
