package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

type loginDoc struct {
	Key         string `bson:"_id"`
	store.Login `bson:",inline"`
}

func (db *DB) CreateLogin(ctx context.Context, l store.Login) error {
	if l.ID == "" || l.StaffID == "" {
		return invalid("login needs an id and a staff id")
	}
	l.CreatedAt, l.ExpiresAt = store.Millis(l.CreatedAt), store.Millis(l.ExpiresAt)
	_, err := db.c[cLogins].InsertOne(ctx, loginDoc{Key: l.ID, Login: l})
	return mapErr(err)
}

func (db *DB) GetLogin(ctx context.Context, id string) (store.Login, error) {
	var d loginDoc
	if err := db.c[cLogins].FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		if errors.Is(mapErr(err), store.ErrNotFound) {
			return store.Login{}, notFound("login", "(hidden)")
		}
		return store.Login{}, mapErr(err)
	}
	d.Login.ID = d.Key
	return d.Login, nil
}

func (db *DB) DeleteLogin(ctx context.Context, id string) error {
	_, err := db.c[cLogins].DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return mapErr(err)
}

func (db *DB) DeleteLogins(ctx context.Context, staffID string) (int, error) {
	res, err := db.c[cLogins].DeleteMany(ctx, bson.D{{Key: "staffid", Value: staffID}})
	if err != nil {
		return 0, mapErr(err)
	}
	return int(res.DeletedCount), nil
}

func (db *DB) DeleteExpiredLogins(ctx context.Context, before time.Time) (int, error) {
	res, err := db.c[cLogins].DeleteMany(ctx, bson.D{{Key: "expiresat", Value: bson.D{{Key: "$lt", Value: store.Millis(before)}}}})
	if err != nil {
		return 0, mapErr(err)
	}
	return int(res.DeletedCount), nil
}
