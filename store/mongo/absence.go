package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// A reason for non-participation is one document keyed by campaign and
// person (store.AbsenceSealKey, also the row its sealed reason is bound
// to, so Reseal reads the row key from _id as for other records).

const cAbsences = "absences"

type absenceDoc struct {
	Key           string `bson:"_id"`
	store.Absence `bson:",inline"`
}

func (db *DB) PutAbsence(ctx context.Context, a store.Absence) (store.Absence, error) {
	if err := a.Check(); err != nil {
		return a, err
	}
	if _, err := db.GetCampaign(ctx, a.CampaignID); err != nil {
		return a, err
	}
	p, err := db.GetPerson(ctx, a.PersonID)
	if err != nil {
		return a, err
	}
	a.UnitID, a.UnitPath, a.UpdatedAt = p.UnitID, p.UnitPath, store.Millis(a.UpdatedAt)
	key := store.AbsenceSealKey(a.CampaignID, a.PersonID)
	if len(a.Reason) == 0 {
		_, err := db.c[cAbsences].DeleteOne(ctx, id(key))
		return a, err
	}
	_, err = db.c[cAbsences].ReplaceOne(ctx, id(key), absenceDoc{Key: key, Absence: a}, options.Replace().SetUpsert(true))
	return a, err
}

func (db *DB) ListAbsences(ctx context.Context, f store.AbsenceFilter) ([]store.Absence, error) {
	q := bson.D{}
	if f.CampaignID != "" {
		q = append(q, bson.E{Key: fAbsence.CampaignID, Value: f.CampaignID})
	}
	if f.PersonID != "" {
		q = append(q, bson.E{Key: fPersonID, Value: f.PersonID})
	}
	q = subtree(q, fAbsence.UnitPath, f.UnitPath)
	cur, err := db.c[cAbsences].Find(ctx, q, options.Find().SetSort(bson.D{{Key: fAbsence.UnitPath, Value: 1}, {Key: fPersonID, Value: 1}, {Key: fAbsence.CampaignID, Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []absenceDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Absence, len(docs))
	for i, d := range docs {
		out[i] = d.Absence
	}
	return out, nil
}

// eraseAbsences deletes the person's reasons, as the inventory says.
func (db *DB) eraseAbsences(ctx context.Context, personID string) error {
	_, err := db.c[cAbsences].DeleteMany(ctx, bson.D{{Key: fPersonID, Value: personID}})
	return err
}
