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

func (db *DB) SaveInstrumentDraft(ctx context.Context, d store.InstrumentDoc) (store.InstrumentDoc, error) {
	if d.ID == "" || d.Version == "" {
		return d, invalid("instrument needs id and version")
	}
	d.State, d.CreatedAt, d.PublishedAt = store.InstrumentDraft, store.Millis(d.CreatedAt), time.Time{}
	k := key2(d.ID, d.Version)
	// Replace only this unit's draft; an upsert over a published version or
	// another unit's draft collides on _id, and a read says which it was.
	_, err := db.c[cInstruments].ReplaceOne(ctx, bson.D{{Key: fID, Value: k}, {Key: fInstrument.State, Value: string(store.InstrumentDraft)},
		{Key: fInstrument.UnitID, Value: d.UnitID}},
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
	return db.changeInstrument(ctx, iid, version, bson.D{{Key: fInstrument.State, Value: string(store.InstrumentPublished)}},
		bson.D{{Key: fInstrument.State, Value: string(store.InstrumentRetired)}, {Key: fInstrument.RetiredAt, Value: at}},
		func(d *store.InstrumentDoc) error {
			if d.State == store.InstrumentRetired {
				return fmt.Errorf("%w: %s %s is already retired", store.ErrImmutable, iid, version)
			}
			d.State, d.RetiredAt = store.InstrumentRetired, at
			return nil
		})
}

func (db *DB) SetInstrumentPublic(ctx context.Context, iid, version string, public bool) (store.InstrumentDoc, error) {
	return db.changeInstrument(ctx, iid, version, bson.D{{Key: fInstrument.State, Value: bson.D{{Key: "$ne", Value: string(store.InstrumentDraft)}}}},
		bson.D{{Key: fInstrument.Public, Value: public}},
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
	res, err := db.fencedUpdate(ctx, cInstruments, k, "change", append(bson.D{{Key: fID, Value: k}}, filter...), bson.D{{Key: "$set", Value: set}})
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
	res, err := db.fencedUpdate(ctx, cInstruments, k, "change", bson.D{{Key: fID, Value: k}, {Key: fInstrument.State, Value: string(store.InstrumentDraft)},
		{Key: fInstrument.ContentHash, Value: cur.ContentHash}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fInstrument.State, Value: string(store.InstrumentPublished)}, {Key: fInstrument.PublishedAt, Value: at}}}})
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
	q := eq(eq(bson.D{}, fInstrument.ID, f.ID), fInstrument.State, string(f.State))
	cur, err := db.c[cInstruments].Find(ctx, q, options.Find().SetProjection(bson.D{{Key: fInstrument.Source, Value: 0}}).
		SetSort(bson.D{{Key: fInstrument.ID, Value: 1}, {Key: fInstrument.Version, Value: 1}}))
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
