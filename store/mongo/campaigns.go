package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

// CreateAccessCodes: (1) insert the codes, tagged with a new batch id,
// which makes them invisible; (2) insert the batch document, which
// publishes them all at once; (3) untag them, so that later reads need not
// look the batch up. A clash on any code (codes are drawn at random) or a
// crash before step 2 leaves only invisible codes, which are deleted here
// or by FinishInterrupted; the caller draws a fresh set, as it would after
// an all-or-nothing refusal.
func (db *DB) CreateAccessCodes(ctx context.Context, codes []store.AccessCode) error {
	if len(codes) == 0 {
		return nil
	}
	for _, c := range codes {
		if c.Code == "" || c.CampaignID == "" || c.UnitID == "" {
			return invalid("access code needs code, campaign and unit")
		}
	}
	campaign := codes[0].CampaignID
	batch := store.NewID()
	docs := make([]any, len(codes))
	paths := map[string]string{}
	for i, c := range codes {
		if _, ok := paths[c.UnitID]; !ok {
			p, err := db.unitPath(ctx, c.UnitID)
			if err != nil {
				return err
			}
			paths[c.UnitID] = p
		}
		if i == 0 || codes[i-1].CampaignID != c.CampaignID {
			if _, err := db.GetCampaign(ctx, c.CampaignID); err != nil {
				return err
			}
		}
		c.UnitPath, c.SessionID, c.CreatedAt = paths[c.UnitID], "", store.Millis(c.CreatedAt)
		docs[i] = codeDoc{Key: c.Code, AccessCode: c, Batch: batch}
	}
	if _, err := db.c[cCodes].InsertMany(ctx, docs); err != nil {
		if _, derr := db.c[cCodes].DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: fCode.Batch, Value: batch}}); derr != nil {
			return errors.Join(mapErr(err), derr)
		}
		return mapErr(err)
	}
	if err := db.step(stepCodesWritten); err != nil {
		return err
	}
	if _, err := db.c[cBatches].InsertOne(ctx, batchDoc{Key: batch, CampaignID: campaign, CreatedAt: store.Millis(codes[0].CreatedAt)}); err != nil {
		return err
	}
	_, err := db.c[cCodes].UpdateMany(ctx, bson.D{{Key: fCode.Batch, Value: batch}}, bson.D{{Key: "$unset", Value: bson.D{{Key: fCode.Batch, Value: ""}}}})
	return err
}

// published reports whether a code's batch was published (a code without a
// batch always is).
func (db *DB) published(ctx context.Context, batch string) (bool, error) {
	if batch == "" {
		return true, nil
	}
	n, err := db.c[cBatches].CountDocuments(ctx, id(batch))
	return n > 0, err
}

// visibleCodes filters codes to those whose batch was published.
func (db *DB) visibleCodes(ctx context.Context, docs []codeDoc) ([]codeDoc, error) {
	out := docs[:0]
	known := map[string]bool{}
	for _, d := range docs {
		ok, seen := known[d.Batch]
		if !seen {
			var err error
			if ok, err = db.published(ctx, d.Batch); err != nil {
				return nil, err
			}
			known[d.Batch] = ok
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func (db *DB) CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	if c.ID == "" || c.UnitID == "" {
		return c, invalid("campaign needs id and unit")
	}
	p, err := db.unitPath(ctx, c.UnitID)
	if err != nil {
		return c, err
	}
	c.UnitPath, c.State, c.Version = p, store.CampaignDraft, 1
	c.CreatedAt, c.StartsAt, c.EndsAt = store.Millis(c.CreatedAt), store.Millis(c.StartsAt), store.Millis(c.EndsAt)
	c.UpdatedAt = c.CreatedAt
	_, err = db.c[cCampaigns].InsertOne(ctx, campaignDoc{Key: c.ID, Campaign: c})
	return c, mapErr(err)
}

func (db *DB) GetCampaign(ctx context.Context, cid string) (store.Campaign, error) {
	d, err := get[campaignDoc](ctx, db.c[cCampaigns], id(cid), "campaign", cid)
	return d.Campaign, err
}

func (db *DB) UpdateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	cur, err := db.GetCampaign(ctx, c.ID)
	if err != nil {
		return c, err
	}
	if cur.Version != c.Version {
		return c, fmt.Errorf("%w: campaign %s changed since read", store.ErrConflict, c.ID)
	}
	if cur.State != store.CampaignDraft {
		return c, fmt.Errorf("%w: edit a %s campaign", store.ErrInvalidTransition, cur.State)
	}
	n := cur
	n.Name, n.UnitIDs, n.Battery, n.Mode, n.Visibility = c.Name, c.UnitIDs, c.Battery, c.Mode, c.Visibility
	n.StartsAt, n.EndsAt, n.UpdatedAt, n.Version = store.Millis(c.StartsAt), store.Millis(c.EndsAt), store.Millis(c.UpdatedAt), c.Version+1
	// The state condition keeps an edit from landing on a campaign that was
	// activated between the read and the write.
	res, err := db.fencedReplace(ctx, cCampaigns, c.ID, version(c.Version), bson.D{{Key: fID, Value: c.ID}, {Key: fVersion, Value: c.Version},
		{Key: fCampaign.State, Value: string(store.CampaignDraft)}}, campaignDoc{Key: c.ID, Campaign: n})
	if err != nil {
		return c, err
	}
	if res.MatchedCount == 0 {
		return c, fmt.Errorf("%w: campaign %s changed since read", store.ErrConflict, c.ID)
	}
	return n, nil
}

func (db *DB) SetCampaignState(ctx context.Context, cid string, to store.CampaignState, at time.Time) (store.Campaign, error) {
	d, err := cas(ctx, db, cCampaigns, cid, "campaign", func(d *campaignDoc) *int64 { return &d.Version },
		func(d *campaignDoc) (bson.D, error) {
			if !store.CanMoveCampaign(d.State, to) {
				return nil, fmt.Errorf("%w: campaign %s → %s", store.ErrInvalidTransition, d.State, to)
			}
			d.State, d.UpdatedAt = to, store.Millis(at)
			return bson.D{{Key: fCampaign.State, Value: string(to)}, {Key: fCampaign.UpdatedAt, Value: d.UpdatedAt}}, nil
		})
	return d.Campaign, err
}

func (db *DB) ListCampaigns(ctx context.Context, f store.CampaignFilter, p store.Page) ([]store.Campaign, string, error) {
	q := eq(subtree(bson.D{}, fCampaign.UnitPath, f.UnitPath), fCampaign.State, string(f.State))
	q, err := after(q, fCampaign.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCampaigns], q, byTime(fCampaign.CreatedAt), p, func(d campaignDoc) (store.Campaign, store.Cursor) {
		return d.Campaign, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) GetAccessCode(ctx context.Context, code string) (store.AccessCode, error) {
	d, err := get[codeDoc](ctx, db.c[cCodes], id(code), "access code", "")
	if err != nil {
		return d.AccessCode, err
	}
	if ok, err := db.published(ctx, d.Batch); err != nil || !ok {
		return store.AccessCode{}, errors.Join(err, notFound("access code", ""))
	}
	return d.AccessCode, nil
}

func (db *DB) ListAccessCodes(ctx context.Context, campaignID string, p store.Page) ([]store.AccessCode, string, error) {
	q := bson.D{{Key: fCode.CampaignID, Value: campaignID}}
	// Codes still tagged with a batch are rare (a call in flight, or one a
	// crash interrupted); leave out those whose batch is unpublished.
	tagged, err := findAll[codeDoc](ctx, db.c[cCodes], append(bson.D{{Key: fCode.Batch, Value: bson.D{{Key: "$gt", Value: ""}}}}, q...))
	if err != nil {
		return nil, "", err
	}
	hidden := bson.A{}
	for _, d := range tagged {
		if ok, err := db.published(ctx, d.Batch); err != nil {
			return nil, "", err
		} else if !ok {
			hidden = append(hidden, d.Key)
		}
	}
	if len(hidden) > 0 {
		q = append(q, bson.E{Key: fID, Value: bson.D{{Key: "$nin", Value: hidden}}})
	}
	q, err = after(q, fCode.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCodes], q, byTime(fCode.CreatedAt), p, func(d codeDoc) (store.AccessCode, store.Cursor) {
		return d.AccessCode, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) BindAccessCode(ctx context.Context, code, sessionID string) (store.AccessCode, error) {
	if sessionID == "" {
		return store.AccessCode{}, invalid("bind needs a session")
	}
	// Only an unbound code takes the session; everyone then reads the winner.
	if _, err := db.fencedUpdate(ctx, cCodes, code, "unbound", bson.D{{Key: fID, Value: code}, {Key: fCode.SessionID, Value: ""}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fCode.SessionID, Value: sessionID}}}}); err != nil {
		return store.AccessCode{}, err
	}
	return db.GetAccessCode(ctx, code)
}
