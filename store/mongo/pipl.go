package mongo

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

func (db *DB) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	var out store.ErasureOutcome
	err := db.txn(ctx, func(ctx context.Context) error {
		out = store.ErasureOutcome{} // the driver retries the whole function
		set := bson.D{{Key: "name", Value: nil}, {Key: "phone", Value: nil}, {Key: "studentno", Value: nil},
			{Key: "studentnoindex", Value: ""}, {Key: "birthmonth", Value: ""}, {Key: "anonymised", Value: true},
			{Key: "updatedat", Value: store.Millis(e.At)}}
		if e.Age > 0 {
			set = append(set, bson.E{Key: "age", Value: e.Age})
		}
		res, err := db.c[cPersons].UpdateOne(ctx, id(e.PersonID), bson.D{{Key: "$set", Value: set},
			{Key: "$unset", Value: bson.D{{Key: "rosterkey", Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 0 {
			return notFound("person", e.PersonID)
		}
		of := bson.D{{Key: "personid", Value: e.PersonID}}
		del, err := db.c[cIdentities].DeleteMany(ctx, of)
		if err != nil {
			return err
		}
		out.Identities = int(del.DeletedCount)
		if del, err = db.c[cCodes].DeleteMany(ctx, of); err != nil {
			return err
		}
		out.AccessCodes = int(del.DeletedCount)
		notes := bson.A{}
		for _, f := range []string{"selfevaluation", "lifeevents", "otherproblems", "advice"} {
			notes = append(notes, bson.D{{Key: f, Value: bson.D{{Key: "$ne", Value: nil}}}})
		}
		notes = append(notes, bson.D{{Key: "outcome", Value: bson.D{{Key: "$ne", Value: ""}}}})
		up, err := db.c[cCases].UpdateMany(ctx, append(of, bson.E{Key: "$or", Value: notes}), bson.D{{Key: "$set", Value: bson.D{
			{Key: "selfevaluation", Value: nil}, {Key: "lifeevents", Value: nil}, {Key: "otherproblems", Value: nil}, {Key: "advice", Value: nil}, {Key: "outcome", Value: ""}}}})
		if err != nil {
			return err
		}
		out.Cases = int(up.ModifiedCount)
		if up, err = db.c[cReferrals].UpdateMany(ctx, append(of, bson.E{Key: "note", Value: bson.D{{Key: "$ne", Value: nil}}}),
			bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: nil}}}}); err != nil {
			return err
		}
		out.Referrals = int(up.ModifiedCount)
		if _, err = db.c[cWarnings].UpdateMany(ctx, append(of, bson.E{Key: "history.note", Value: bson.D{{Key: "$nin", Value: bson.A{"", nil}}}}),
			bson.D{{Key: "$set", Value: bson.D{{Key: "history.$[].note", Value: ""}}}}); err != nil {
			return err
		}
		// Open sessions first, so that they stop accepting answers; then
		// every remaining token.
		if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: "state", Value: string(store.SessionOpen)}),
			bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(store.SessionPurged)}, {Key: "tokenhash", Value: nil}}}}); err != nil {
			return err
		}
		out.Sessions = int(up.ModifiedCount)
		if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: "tokenhash", Value: bson.D{{Key: "$ne", Value: nil}}}),
			bson.D{{Key: "$set", Value: bson.D{{Key: "tokenhash", Value: nil}}}}); err != nil {
			return err
		}
		out.Sessions += int(up.ModifiedCount)
		if !e.DropAnswers {
			return nil
		}
		cur, err := db.c[cSessions].Find(ctx, of, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return err
		}
		var ids []struct {
			Key string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return err
		}
		keys := bson.A{}
		for _, s := range ids {
			keys = append(keys, s.Key)
		}
		if len(keys) == 0 {
			return nil
		}
		del, err = db.c[cAnswers].DeleteMany(ctx, bson.D{{Key: "sessionid", Value: bson.D{{Key: "$in", Value: keys}}}})
		if err != nil {
			return err
		}
		out.Answers = int(del.DeletedCount)
		return nil
	})
	return out, err
}

func (db *DB) ListIdentities(ctx context.Context, personID string) ([]store.Identity, error) {
	cur, err := db.c[cIdentities].Find(ctx, bson.D{{Key: "personid", Value: personID}}, options.Find().SetSort(byTime("createdat")))
	if err != nil {
		return nil, err
	}
	var docs []identityDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Identity, 0, len(docs))
	for _, d := range docs {
		kind, key, _ := strings.Cut(d.Key, "\x00")
		out = append(out, store.Identity{Kind: kind, Key: key, PersonID: d.PersonID, CreatedAt: d.CreatedAt})
	}
	return out, nil
}

func (db *DB) ListPersonAccessCodes(ctx context.Context, personID string) ([]store.AccessCode, error) {
	out := []store.AccessCode{}
	if personID == "" {
		return out, nil // class codes have no person; they are not anyone's
	}
	cur, err := db.c[cCodes].Find(ctx, bson.D{{Key: "personid", Value: personID}}, options.Find().SetSort(byTime("createdat")))
	if err != nil {
		return nil, err
	}
	var docs []codeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	for _, d := range docs {
		out = append(out, d.AccessCode)
	}
	return out, nil
}
