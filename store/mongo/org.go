package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

func (db *DB) CreateUnit(ctx context.Context, u store.Unit) (store.Unit, error) {
	if !store.ValidID(u.ID) || (u.ParentID != "" && !store.ValidID(u.ParentID)) {
		return u, invalid("unit id %q", u.ID)
	}
	u.CreatedAt = store.Millis(u.CreatedAt)
	parent := ""
	if u.ParentID != "" {
		p, err := db.unitPath(ctx, u.ParentID)
		if err != nil {
			return u, err
		}
		parent = p
	}
	u.Path = store.ChildPath(parent, u.ID)
	_, err := db.c[cUnits].InsertOne(ctx, unitDoc{Key: u.ID, Unit: u})
	return u, mapErr(err)
}

func (db *DB) GetUnit(ctx context.Context, uid string) (store.Unit, error) {
	d, err := get[unitDoc](ctx, db.c[cUnits], id(uid), "unit", uid)
	return d.Unit, err
}

func (db *DB) RenameUnit(ctx context.Context, uid, name, kind string) (store.Unit, error) {
	res, err := db.c[cUnits].UpdateOne(ctx, id(uid), bson.D{{Key: "$set", Value: bson.D{{Key: fUnit.Name, Value: name}, {Key: fUnit.Kind, Value: kind}}}})
	if err != nil {
		return store.Unit{}, mapErr(err)
	}
	if res.MatchedCount == 0 {
		return store.Unit{}, notFound("unit", uid)
	}
	return db.GetUnit(ctx, uid)
}

func (db *DB) ListUnits(ctx context.Context, path string) ([]store.Unit, error) {
	cur, err := db.c[cUnits].Find(ctx, subtree(bson.D{}, fUnit.Path, path), options.Find().SetSort(bson.D{{Key: fUnit.Path, Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []unitDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Unit, len(docs))
	for i, d := range docs {
		out[i] = d.Unit
	}
	return out, nil
}

func (db *DB) unitPath(ctx context.Context, id string) (string, error) {
	u, err := get[unitDoc](ctx, db.c[cUnits], bson.D{{Key: fID, Value: id}}, "unit", id)
	return u.Path, err
}
