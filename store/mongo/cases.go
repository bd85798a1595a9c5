package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"xinling/store"
)

// ReferWarning: (1) move the entry to referred, with its history event and
// the referral recorded on it, in one compare-and-swap; (2) insert the
// referral; (3) clear it from the entry. After step 1 the counsellor sees
// the entry as referred, with the target unit in its history; the
// receiving unit sees the referral once step 2 has run (by this call, or
// by any server's FinishInterrupted).
func (db *DB) ReferWarning(ctx context.Context, warningID string, r store.Referral) (store.Referral, error) {
	if r.ID == "" || r.ToUnitID == "" || r.SenderID == "" {
		return r, invalid("referral needs id, target unit and sender")
	}
	r.CreatedAt = store.Millis(r.CreatedAt)
	r.UpdatedAt, r.State, r.WarningID = r.CreatedAt, store.ReferralSent, warningID
	toPath, err := db.unitPath(ctx, r.ToUnitID)
	if err != nil {
		return r, err
	}
	r.ToUnitPath = toPath
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[warningDoc](ctx, db.c[cWarnings], id(warningID), "warning", warningID)
		if err != nil {
			return r, err
		}
		if d.PendingReferral != nil {
			// An earlier referral's record is still to be written: finish
			// it first, so that it is not lost under this one.
			if err := db.finishReferral(ctx, warningID, *d.PendingReferral); err != nil {
				return r, err
			}
			if d.PendingReferral.ID == r.ID {
				return *d.PendingReferral, nil // our own retry
			}
		}
		w := d.Warning
		from := w.State
		if err := store.ApplyChange(&w, store.WarningChange{ActorID: r.SenderID, To: store.WarningReferred, At: r.CreatedAt}); err != nil {
			return r, err
		}
		r.PersonID, r.FromUnitID, r.FromUnitPath = w.PersonID, w.UnitID, w.UnitPath
		e := store.WarningEvent{At: r.CreatedAt, ActorID: r.SenderID, Kind: store.EventReferred, From: from, To: w.State, UnitID: r.ToUnitID}
		res, err := db.fencedUpdate(ctx, cWarnings, warningID, version(d.Version), bson.D{{Key: fID, Value: warningID}, {Key: fVersion, Value: d.Version}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: fWarning.State, Value: string(w.State)}, {Key: fWarning.UpdatedAt, Value: r.CreatedAt}, {Key: fVersion, Value: d.Version + 1},
				{Key: fWarning.PendingReferral, Value: r}}},
			{Key: "$push", Value: bson.D{{Key: fWarning.History, Value: e}}}})
		if err != nil {
			return r, err
		}
		if res.MatchedCount == 0 {
			continue // the entry changed since read: decide again
		}
		if err := db.step(stepReferIntent); err != nil {
			return r, err
		}
		return r, db.finishReferral(ctx, warningID, r)
	}
	return r, fmt.Errorf("%w: warning %s changed during referral", store.ErrConflict, warningID)
}

func (db *DB) finishReferral(ctx context.Context, warningID string, r store.Referral) error {
	if _, err := db.c[cReferrals].InsertOne(ctx, referralDoc{Key: r.ID, Referral: r}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	if err := db.step(stepReferRecord); err != nil {
		return err
	}
	_, err := db.c[cWarnings].UpdateOne(ctx, bson.D{{Key: fID, Value: warningID}, {Key: fWarning.PendingReferralID, Value: r.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: fWarning.PendingReferral, Value: ""}}}})
	return err
}

func (db *DB) GetReferral(ctx context.Context, rid string) (store.Referral, error) {
	d, err := get[referralDoc](ctx, db.c[cReferrals], id(rid), "referral", rid)
	return d.Referral, err
}

func (db *DB) SetReferralState(ctx context.Context, rid string, to store.ReferralState, at time.Time) (store.Referral, error) {
	cur, err := db.GetReferral(ctx, rid)
	if err != nil {
		return cur, err
	}
	if !store.CanMoveReferral(cur.State, to) {
		return cur, fmt.Errorf("%w: referral %s → %s", store.ErrInvalidTransition, cur.State, to)
	}
	at = store.Millis(at)
	res, err := db.fencedUpdate(ctx, cReferrals, rid, string(cur.State), bson.D{{Key: fID, Value: rid}, {Key: fReferral.State, Value: string(cur.State)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fReferral.State, Value: string(to)}, {Key: fReferral.UpdatedAt, Value: at}}}})
	if err != nil {
		return cur, err
	}
	if res.MatchedCount == 0 {
		return cur, fmt.Errorf("%w: referral %s moved meanwhile", store.ErrConflict, rid)
	}
	cur.State, cur.UpdatedAt = to, at
	return cur, nil
}

func (db *DB) ListReferrals(ctx context.Context, f store.ReferralFilter, p store.Page) ([]store.Referral, string, error) {
	q := subtree(subtree(bson.D{}, fReferral.ToUnitPath, f.ToUnitPath), fReferral.FromUnitPath, f.FromUnitPath)
	q = eq(eq(eq(q, fReferral.WarningID, f.WarningID), fReferral.PersonID, f.PersonID), fReferral.State, string(f.State))
	q, err := after(q, fReferral.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cReferrals], q, byTime(fReferral.CreatedAt), p, func(d referralDoc) (store.Referral, store.Cursor) {
		return d.Referral, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) CreateCase(ctx context.Context, c store.Case) (store.Case, error) {
	if c.ID == "" || c.PersonID == "" || c.UnitID == "" {
		return c, invalid("case needs id, person and unit")
	}
	if _, err := db.GetPerson(ctx, c.PersonID); err != nil {
		return c, err
	}
	p, err := db.unitPath(ctx, c.UnitID)
	if err != nil {
		return c, err
	}
	c.UnitPath, c.CreatedAt, c.At, c.ClosedAt, c.Version = p, store.Millis(c.CreatedAt), store.Millis(c.At), store.Millis(c.ClosedAt), 1
	c.UpdatedAt = c.CreatedAt
	_, err = db.c[cCases].InsertOne(ctx, caseDoc{Key: c.ID, Case: c})
	return c, mapErr(err)
}

func (db *DB) GetCase(ctx context.Context, cid string) (store.Case, error) {
	d, err := get[caseDoc](ctx, db.c[cCases], id(cid), "case", cid)
	return d.Case, err
}

func (db *DB) UpdateCase(ctx context.Context, c store.Case) (store.Case, error) {
	cur, err := db.GetCase(ctx, c.ID)
	if err != nil {
		return c, err
	}
	n := cur
	n.WarningID, n.CounsellorID, n.SelfEvaluation, n.LifeEvents, n.OtherProblems, n.Advice = c.WarningID, c.CounsellorID, c.SelfEvaluation, c.LifeEvents, c.OtherProblems, c.Advice
	n.GroupNotified, n.At, n.Closed, n.ClosedAt, n.Outcome, n.UpdatedAt = c.GroupNotified, store.Millis(c.At), c.Closed, store.Millis(c.ClosedAt), c.Outcome, store.Millis(c.UpdatedAt)
	n.Version = c.Version + 1
	return n, db.replaceVersioned(ctx, cCases, c.ID, c.Version, caseDoc{Key: c.ID, Case: n}, "cases")
}

func (db *DB) ListCases(ctx context.Context, f store.CaseFilter, p store.Page) ([]store.Case, string, error) {
	q := eq(eq(subtree(bson.D{}, fCase.UnitPath, f.UnitPath), fCase.PersonID, f.PersonID), fCase.WarningID, f.WarningID)
	q, err := after(q, fCase.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCases], q, byTime(fCase.CreatedAt), p, func(d caseDoc) (store.Case, store.Cursor) {
		return d.Case, cursor(d.CreatedAt, d.Key)
	})
}
