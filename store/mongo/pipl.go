package mongo

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// ErasePerson removes and blanks the person's data document by document,
// each step idempotent, and marks the person anonymised last: a crash
// before that leaves a person who still shows as not erased, so the
// erasure is visibly unfinished and is simply repeated. Sessions are closed
// before their answers are deleted, so no late answer can slip in between.
func (db *DB) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	var out store.ErasureOutcome
	if _, err := db.GetPerson(ctx, e.PersonID); err != nil {
		return out, err
	}
	of := bson.D{{Key: "personid", Value: e.PersonID}}
	del, err := db.c[cIdentities].DeleteMany(ctx, of)
	if err != nil {
		return out, err
	}
	out.Identities = int(del.DeletedCount)
	if del, err = db.c[cCodes].DeleteMany(ctx, of); err != nil {
		return out, err
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
		return out, err
	}
	out.Cases = int(up.ModifiedCount)
	if up, err = db.c[cReferrals].UpdateMany(ctx, append(of, bson.E{Key: "note", Value: bson.D{{Key: "$ne", Value: nil}}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: nil}}}}); err != nil {
		return out, err
	}
	out.Referrals = int(up.ModifiedCount)
	// History notes are blanked entry by entry, in Go: FerretDB v1 lacks
	// the all-positional operator (history.$[].note).
	noted, err := findAll[warningDoc](ctx, db.c[cWarnings], append(of, bson.E{Key: "history.note", Value: bson.D{{Key: "$nin", Value: bson.A{"", nil}}}}))
	if err != nil {
		return out, err
	}
	for _, w := range noted {
		_, err := cas(ctx, db, cWarnings, w.Key, "warning", func(d *warningDoc) *int64 { return &d.Version },
			func(d *warningDoc) (bson.D, error) {
				for i := range d.History {
					d.History[i].Note = ""
				}
				return bson.D{{Key: "history", Value: d.History}}, nil
			})
		if err != nil {
			return out, err
		}
	}
	// Open sessions first, so that they stop accepting answers; then
	// every remaining token.
	if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: "state", Value: string(store.SessionOpen)}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(store.SessionPurged)}, {Key: "tokenhash", Value: nil}}}}); err != nil {
		return out, err
	}
	out.Sessions = int(up.ModifiedCount)
	if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: "tokenhash", Value: bson.D{{Key: "$ne", Value: nil}}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "tokenhash", Value: nil}}}}); err != nil {
		return out, err
	}
	out.Sessions += int(up.ModifiedCount)
	if e.DropAnswers {
		cur, err := db.c[cSessions].Find(ctx, of, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return out, err
		}
		var ids []struct {
			Key string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return out, err
		}
		keys := bson.A{}
		for _, s := range ids {
			keys = append(keys, s.Key)
		}
		if len(keys) > 0 {
			del, err = db.c[cAnswers].DeleteMany(ctx, bson.D{{Key: "sessionid", Value: bson.D{{Key: "$in", Value: keys}}}})
			if err != nil {
				return out, err
			}
			out.Answers = int(del.DeletedCount)
		}
	}
	set := bson.D{{Key: "name", Value: nil}, {Key: "phone", Value: nil}, {Key: "studentno", Value: nil},
		{Key: "studentnoindex", Value: ""}, {Key: "birthmonth", Value: ""}, {Key: "anonymised", Value: true},
		{Key: "updatedat", Value: store.Millis(e.At)}}
	if e.Age > 0 {
		set = append(set, bson.E{Key: "age", Value: e.Age})
	}
	res, err := db.c[cPersons].UpdateOne(ctx, id(e.PersonID), bson.D{{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: "rosterkey", Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return out, err
	}
	if res.MatchedCount == 0 {
		return out, notFound("person", e.PersonID)
	}
	return out, nil
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
	if docs, err = db.visibleCodes(ctx, docs); err != nil {
		return nil, err
	}
	for _, d := range docs {
		out = append(out, d.AccessCode)
	}
	return out, nil
}
