package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// Campaigns.

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
	res, err := db.fencedReplace(ctx, cCampaigns, c.ID, version(c.Version), bson.D{{Key: "_id", Value: c.ID}, {Key: "version", Value: c.Version},
		{Key: "state", Value: string(store.CampaignDraft)}}, campaignDoc{Key: c.ID, Campaign: n})
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
			return bson.D{{Key: "state", Value: string(to)}, {Key: "updatedat", Value: d.UpdatedAt}}, nil
		})
	return d.Campaign, err
}

func (db *DB) ListCampaigns(ctx context.Context, f store.CampaignFilter, p store.Page) ([]store.Campaign, string, error) {
	q := eq(subtree(bson.D{}, "unitpath", f.UnitPath), "state", string(f.State))
	q, err := after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCampaigns], q, byTime("createdat"), p, func(d campaignDoc) (store.Campaign, store.Cursor) {
		return d.Campaign, cursor(d.CreatedAt, d.Key)
	})
}

// Access codes.

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
	q := bson.D{{Key: "campaignid", Value: campaignID}}
	// Codes still tagged with a batch are rare (a call in flight, or one a
	// crash interrupted); leave out those whose batch is unpublished.
	tagged, err := findAll[codeDoc](ctx, db.c[cCodes], append(bson.D{{Key: "batch", Value: bson.D{{Key: "$gt", Value: ""}}}}, q...))
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
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$nin", Value: hidden}}})
	}
	q, err = after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cCodes], q, byTime("createdat"), p, func(d codeDoc) (store.AccessCode, store.Cursor) {
		return d.AccessCode, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) BindAccessCode(ctx context.Context, code, sessionID string) (store.AccessCode, error) {
	if sessionID == "" {
		return store.AccessCode{}, invalid("bind needs a session")
	}
	// Only an unbound code takes the session; everyone then reads the winner.
	if _, err := db.fencedUpdate(ctx, cCodes, code, "unbound", bson.D{{Key: "_id", Value: code}, {Key: "sessionid", Value: ""}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sessionid", Value: sessionID}}}}); err != nil {
		return store.AccessCode{}, err
	}
	return db.GetAccessCode(ctx, code)
}

// Instruments.

func (db *DB) SaveInstrumentDraft(ctx context.Context, d store.InstrumentDoc) (store.InstrumentDoc, error) {
	if d.ID == "" || d.Version == "" {
		return d, invalid("instrument needs id and version")
	}
	d.State, d.CreatedAt, d.PublishedAt = store.InstrumentDraft, store.Millis(d.CreatedAt), time.Time{}
	k := key2(d.ID, d.Version)
	// Replace only this unit's draft; an upsert over a published version or
	// another unit's draft collides on _id, and a read says which it was.
	_, err := db.c[cInstruments].ReplaceOne(ctx, bson.D{{Key: "_id", Value: k}, {Key: "state", Value: string(store.InstrumentDraft)},
		{Key: "unitid", Value: d.UnitID}},
		instrumentDoc{Key: k, InstrumentDoc: d}, options.Replace().SetUpsert(true))
	if err != nil && errors.Is(mapErr(err), store.ErrConflict) {
		cur, gerr := get[instrumentDoc](ctx, db.c[cInstruments], id(k), "instrument", d.ID+" "+d.Version)
		if gerr == nil && cur.State == store.InstrumentDraft {
			return d, fmt.Errorf("%w: another unit has a draft %s %s", store.ErrConflict, d.ID, d.Version)
		}
		return d, fmt.Errorf("%w: %s %s", store.ErrImmutable, d.ID, d.Version)
	}
	return d, err
}

func (db *DB) RetireInstrument(ctx context.Context, iid, version string, at time.Time) (store.InstrumentDoc, error) {
	at = store.Millis(at)
	return db.changeInstrument(ctx, iid, version, bson.D{{Key: "state", Value: string(store.InstrumentPublished)}},
		bson.D{{Key: "state", Value: string(store.InstrumentRetired)}, {Key: "retiredat", Value: at}},
		func(d *store.InstrumentDoc) error {
			if d.State == store.InstrumentRetired {
				return fmt.Errorf("%w: %s %s is already retired", store.ErrImmutable, iid, version)
			}
			d.State, d.RetiredAt = store.InstrumentRetired, at
			return nil
		})
}

func (db *DB) SetInstrumentPublic(ctx context.Context, iid, version string, public bool) (store.InstrumentDoc, error) {
	return db.changeInstrument(ctx, iid, version, bson.D{{Key: "state", Value: bson.D{{Key: "$ne", Value: string(store.InstrumentDraft)}}}},
		bson.D{{Key: "public", Value: public}},
		func(d *store.InstrumentDoc) error { d.Public = public; return nil })
}

// changeInstrument sets fields of a published or retired version, with a
// filter that makes the write conditional on the state it was read in.
func (db *DB) changeInstrument(ctx context.Context, iid, version string, filter, set bson.D, change func(*store.InstrumentDoc) error) (store.InstrumentDoc, error) {
	k := key2(iid, version)
	cur, err := get[instrumentDoc](ctx, db.c[cInstruments], id(k), "instrument", iid+" "+version)
	if err != nil {
		return store.InstrumentDoc{}, err
	}
	if cur.State == store.InstrumentDraft {
		return store.InstrumentDoc{}, fmt.Errorf("%w: %s %s is a draft", store.ErrConflict, iid, version)
	}
	if err := change(&cur.InstrumentDoc); err != nil {
		return store.InstrumentDoc{}, err
	}
	res, err := db.fencedUpdate(ctx, cInstruments, k, "change", append(bson.D{{Key: "_id", Value: k}}, filter...), bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return store.InstrumentDoc{}, err
	}
	if res.MatchedCount == 0 {
		return store.InstrumentDoc{}, fmt.Errorf("%w: %s %s changed meanwhile", store.ErrConflict, iid, version)
	}
	cur.Source = nil
	return cur.InstrumentDoc, nil
}

func (db *DB) PublishInstrument(ctx context.Context, iid, version string, at time.Time) (store.InstrumentDoc, error) {
	k := key2(iid, version)
	cur, err := get[instrumentDoc](ctx, db.c[cInstruments], id(k), "instrument", iid+" "+version)
	if err != nil {
		return store.InstrumentDoc{}, err
	}
	if cur.State != store.InstrumentDraft {
		return cur.InstrumentDoc, fmt.Errorf("%w: %s %s", store.ErrImmutable, iid, version)
	}
	at = store.Millis(at)
	res, err := db.fencedUpdate(ctx, cInstruments, k, "change", bson.D{{Key: "_id", Value: k}, {Key: "state", Value: string(store.InstrumentDraft)},
		{Key: "contenthash", Value: cur.ContentHash}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(store.InstrumentPublished)}, {Key: "publishedat", Value: at}}}})
	if err != nil {
		return store.InstrumentDoc{}, err
	}
	if res.MatchedCount == 0 {
		return store.InstrumentDoc{}, fmt.Errorf("%w: %s %s changed while publishing", store.ErrConflict, iid, version)
	}
	cur.State, cur.PublishedAt = store.InstrumentPublished, at
	return cur.InstrumentDoc, nil
}

func (db *DB) GetInstrument(ctx context.Context, iid, version string) (store.InstrumentDoc, error) {
	d, err := get[instrumentDoc](ctx, db.c[cInstruments], id(key2(iid, version)), "instrument", iid+" "+version)
	return d.InstrumentDoc, err
}

func (db *DB) ListInstruments(ctx context.Context, f store.InstrumentFilter) ([]store.InstrumentDoc, error) {
	q := eq(eq(bson.D{}, "id", f.ID), "state", string(f.State))
	cur, err := db.c[cInstruments].Find(ctx, q, options.Find().SetProjection(bson.D{{Key: "source", Value: 0}}).
		SetSort(bson.D{{Key: "id", Value: 1}, {Key: "version", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []instrumentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.InstrumentDoc, len(docs))
	for i, d := range docs {
		out[i] = d.InstrumentDoc
	}
	return out, nil
}

// Audit.

func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Action == "" {
		return invalid("audit entry needs an action")
	}
	if e.ID == "" {
		e.ID = store.NewID()
	}
	e.At = store.Millis(e.At)
	_, err := db.c[cAudit].InsertOne(ctx, auditDoc{Key: e.ID, AuditEntry: e})
	return mapErr(err)
}

func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEntry, string, error) {
	q := eq(eq(eq(eq(bson.D{}, "actorid", f.ActorID), "targetkind", f.TargetKind), "targetid", f.TargetID), "action", f.Action)
	q = timeRange(q, "at", f.From, f.To)
	q, err := after(q, "at", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cAudit], q, byTime("at"), p, func(d auditDoc) (store.AuditEntry, store.Cursor) {
		return d.AuditEntry, cursor(d.At, d.Key)
	})
}

// Activities and counts.

func (db *DB) AddActivity(ctx context.Context, a store.Activity) (store.Activity, error) {
	if a.ID == "" || a.UnitID == "" || a.Type == "" {
		return a, invalid("activity needs id, unit and type")
	}
	p, err := db.unitPath(ctx, a.UnitID)
	if err != nil {
		return a, err
	}
	a.UnitPath, a.Date, a.CreatedAt = p, store.Millis(a.Date), store.Millis(a.CreatedAt)
	_, err = db.c[cActivities].InsertOne(ctx, activityDoc{Key: a.ID, Activity: a})
	return a, mapErr(err)
}

func (db *DB) ListActivities(ctx context.Context, f store.ActivityFilter, p store.Page) ([]store.Activity, string, error) {
	q := timeRange(subtree(bson.D{}, "unitpath", f.UnitPath), "date", f.From, f.To)
	q, err := after(q, "date", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cActivities], q, byTime("date"), p, func(d activityDoc) (store.Activity, store.Cursor) {
		return d.Activity, cursor(d.Date, d.Key)
	})
}

// countRow is one group of an aggregation in UnitCounts.
type countRow struct {
	ID struct {
		Unit  string `bson:"u"`
		Level int    `bson:"l"`
		Type  string `bson:"t"`
	} `bson:"_id"`
	N int `bson:"n"`
}

func (db *DB) UnitCounts(ctx context.Context, path string, from, to time.Time) ([]store.UnitCounts, error) {
	byUnit := map[string]*store.UnitCounts{}
	get := func(id string) *store.UnitCounts {
		c, ok := byUnit[id]
		if !ok {
			c = &store.UnitCounts{UnitID: id, WarningsByLevel: map[int]int{}, Activities: map[string]int{}, ActivityReached: map[string]int{}}
			byUnit[id] = c
		}
		return c
	}
	type agg struct {
		coll, pathField, timeField string
		extra                      bson.D
		group                      bson.D
		add                        func(countRow)
	}
	aggs := []agg{
		{cResults, "unitpath", "createdat", current, bson.D{{Key: "u", Value: "$unitid"}}, func(r countRow) { get(r.ID.Unit).Results += r.N }},
		{cWarnings, "unitpath", "createdat", nil, bson.D{{Key: "u", Value: "$unitid"}, {Key: "l", Value: "$level"}},
			func(r countRow) { get(r.ID.Unit).WarningsByLevel[r.ID.Level] += r.N }},
		{cReferrals, "fromunitpath", "createdat", nil, bson.D{{Key: "u", Value: "$fromunitid"}}, func(r countRow) { get(r.ID.Unit).Referrals += r.N }},
		{cCases, "unitpath", "at", nil, bson.D{{Key: "u", Value: "$unitid"}}, func(r countRow) { get(r.ID.Unit).Cases += r.N }},
		{cCases, "unitpath", "closedat", bson.D{{Key: "closed", Value: true}}, bson.D{{Key: "u", Value: "$unitid"}},
			func(r countRow) { get(r.ID.Unit).CasesClosed += r.N }},
		{cActivities, "unitpath", "date", nil, bson.D{{Key: "u", Value: "$unitid"}, {Key: "t", Value: "$type"}}, func(r countRow) {
			get(r.ID.Unit).Activities[r.ID.Type] += r.N
		}},
	}
	for _, a := range aggs {
		match := timeRange(subtree(bson.D{}, a.pathField, path), a.timeField, from, to)
		match = append(match, a.extra...)
		pipe := bson.A{
			bson.D{{Key: "$match", Value: match}},
			bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: a.group}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		}
		cur, err := db.c[a.coll].Aggregate(ctx, pipe)
		if err != nil {
			return nil, err
		}
		var rows []countRow
		if err := cur.All(ctx, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			a.add(r)
		}
	}
	// People reached and materials handed out are summed here, not by
	// $sum over a field, which FerretDB v1 answers with 0; activities are
	// entered by hand, so a period holds few of them.
	acts, err := findAll[activityDoc](ctx, db.c[cActivities], timeRange(subtree(bson.D{}, "unitpath", path), "date", from, to))
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		c := get(a.UnitID)
		c.ActivityReached[a.Type] += a.Reached
		c.MaterialsHandout += a.Materials
	}
	out := make([]store.UnitCounts, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortCounts(out)
	return out, nil
}
