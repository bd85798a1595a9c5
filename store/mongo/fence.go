package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Fences serialize writers of one document on servers whose conditional
// updates are not atomic. MongoDB applies a filter and its update to a
// document as one step, so of two writers that both read version 3, only
// one moves it to 4. FerretDB v1 queries and then writes, so both can
// match and the second silently overwrites the first: two counsellors would
// both hold a claim. Its unique _id is enforced by the underlying database,
// so an insert can stand in for the missing atomicity: before a
// conditional write, a writer inserts a fence named after the document and
// the state it moves from; only one writer can hold it, and it is dropped
// once the write is done. A fence left by a crashed writer is stale after
// fenceStale and is then removed, since the write it guarded never
// happened (or happened, and the state it names has passed).
//
// On MongoDB, Open leaves fences off and they cost nothing.

const (
	cFences    = "fences"
	fenceStale = 10 * time.Second
	fenceWait  = 5 * time.Millisecond
)

type fenceDoc struct {
	Key string    `bson:"_id"`
	At  time.Time `bson:"at"`
}

// usesFences asks the server whether it is FerretDB, whose conditional
// updates need fences.
func (db *DB) usesFences(ctx context.Context) (bool, error) {
	var info bson.M
	if err := db.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("mongo: buildInfo: %w", err)
	}
	_, ferret := info["ferretdbVersion"]
	return ferret, nil
}

// fenced runs write while holding the fence for coll/key in state from.
// write reports whether its condition matched; fenced retries nothing
// itself, so the caller's read-check-write loop stays where it is.
func (db *DB) fenced(ctx context.Context, coll, key, from string, write func() error) error {
	if !db.fences {
		return write()
	}
	name := coll + "/" + key + "@" + from
	for {
		now := time.Now()
		_, err := db.c[cFences].InsertOne(ctx, fenceDoc{Key: name, At: now})
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return err
		}
		var f fenceDoc
		if err := db.c[cFences].FindOne(ctx, id(name)).Decode(&f); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return err
		}
		if !f.At.IsZero() && now.Sub(f.At) > fenceStale {
			if _, err := db.c[cFences].DeleteOne(ctx, bson.D{{Key: fID, Value: name}, {Key: fFence.At, Value: f.At}}); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(fenceWait):
		}
	}
	err := write()
	if _, derr := db.c[cFences].DeleteOne(context.WithoutCancel(ctx), id(name)); derr != nil {
		return errors.Join(err, derr)
	}
	return err
}

func version(v int64) string { return fmt.Sprint(v) }

// fencedUpdate is an UpdateOne under the fence for coll/key in state from.
func (db *DB) fencedUpdate(ctx context.Context, coll, key, from string, filter, update any) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := db.fenced(ctx, coll, key, from, func() error {
		var err error
		res, err = db.c[coll].UpdateOne(ctx, filter, update)
		return err
	})
	return res, err
}

// fencedReplace is a ReplaceOne under the fence for coll/key in state from.
func (db *DB) fencedReplace(ctx context.Context, coll, key, from string, filter, doc any) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := db.fenced(ctx, coll, key, from, func() error {
		var err error
		res, err = db.c[coll].ReplaceOne(ctx, filter, doc)
		return err
	})
	return res, mapErr(err)
}
