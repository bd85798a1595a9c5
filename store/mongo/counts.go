package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

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
	q := timeRange(subtree(bson.D{}, fActivity.UnitPath, f.UnitPath), fActivity.Date, f.From, f.To)
	q, err := after(q, fActivity.Date, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cActivities], q, byTime(fActivity.Date), p, func(d activityDoc) (store.Activity, store.Cursor) {
		return d.Activity, cursor(d.Date, d.Key)
	})
}

// countRow is one group of an aggregation in UnitCounts.
type countRow struct {
	ID countKey `bson:"_id"`
	N  int      `bson:"n"`
}

// countKey is the group key: unit, and level or activity type.
type countKey struct {
	Unit  string `bson:"u"`
	Level int    `bson:"l"`
	Type  string `bson:"t"`
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
		{cResults, fResult.UnitPath, fResult.CreatedAt, current, bson.D{{Key: fCount.Unit, Value: "$" + fResult.UnitID}},
			func(r countRow) { get(r.ID.Unit).Results += r.N }},
		{cWarnings, fWarning.UnitPath, fWarning.CreatedAt, nil, bson.D{{Key: fCount.Unit, Value: "$" + fWarning.UnitID}, {Key: fCount.Level, Value: "$" + fWarning.Level}},
			func(r countRow) { get(r.ID.Unit).WarningsByLevel[r.ID.Level] += r.N }},
		{cReferrals, fReferral.FromUnitPath, fReferral.CreatedAt, nil, bson.D{{Key: fCount.Unit, Value: "$" + fReferral.FromUnitID}},
			func(r countRow) { get(r.ID.Unit).Referrals += r.N }},
		{cCases, fCase.UnitPath, fCase.At, nil, bson.D{{Key: fCount.Unit, Value: "$" + fCase.UnitID}}, func(r countRow) { get(r.ID.Unit).Cases += r.N }},
		{cCases, fCase.UnitPath, fCase.ClosedAt, bson.D{{Key: fCase.Closed, Value: true}}, bson.D{{Key: fCount.Unit, Value: "$" + fCase.UnitID}},
			func(r countRow) { get(r.ID.Unit).CasesClosed += r.N }},
		{cActivities, fActivity.UnitPath, fActivity.Date, nil, bson.D{{Key: fCount.Unit, Value: "$" + fActivity.UnitID}, {Key: fCount.Type, Value: "$" + fActivity.Type}}, func(r countRow) {
			get(r.ID.Unit).Activities[r.ID.Type] += r.N
		}},
	}
	for _, a := range aggs {
		match := timeRange(subtree(bson.D{}, a.pathField, path), a.timeField, from, to)
		match = append(match, a.extra...)
		pipe := bson.A{
			bson.D{{Key: "$match", Value: match}},
			bson.D{{Key: "$group", Value: bson.D{{Key: fID, Value: a.group}, {Key: fCountN, Value: bson.D{{Key: "$sum", Value: 1}}}}}},
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
	acts, err := findAll[activityDoc](ctx, db.c[cActivities], timeRange(subtree(bson.D{}, fActivity.UnitPath, path), fActivity.Date, from, to))
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
