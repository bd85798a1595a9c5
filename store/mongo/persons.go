package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// ErasePerson removes and blanks the person's data document by document,
// as the personal-data inventory says (personal.go maps it onto the
// documents), each step idempotent, and marks the person anonymised last:
// a crash before that leaves a person who still shows as not erased, so
// the erasure is visibly unfinished and is simply repeated. Sessions are
// closed before their answers are deleted, so no late answer can slip in
// between.
func (db *DB) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	var out store.ErasureOutcome
	if _, err := db.GetPerson(ctx, e.PersonID); err != nil {
		return out, err
	}
	of := bson.D{{Key: fPersonID, Value: e.PersonID}}
	del, err := db.c[cIdentities].DeleteMany(ctx, of)
	if err != nil {
		return out, err
	}
	out.Identities = int(del.DeletedCount)
	if del, err = db.c[cCodes].DeleteMany(ctx, of); err != nil {
		return out, err
	}
	out.AccessCodes = int(del.DeletedCount)
	up, err := db.c[cCases].UpdateMany(ctx, append(of, bson.E{Key: "$or", Value: eraseCase.held}), bson.D{{Key: "$set", Value: eraseCase.set}})
	if err != nil {
		return out, err
	}
	out.Cases = int(up.ModifiedCount)
	if up, err = db.c[cReferrals].UpdateMany(ctx, append(of, bson.E{Key: "$or", Value: eraseReferral.held}),
		bson.D{{Key: "$set", Value: eraseReferral.set}}); err != nil {
		return out, err
	}
	out.Referrals = int(up.ModifiedCount)
	// History events are blanked entry by entry, in Go: FerretDB v1 lacks
	// the all-positional operator (history.$[].note).
	noted, err := findAll[warningDoc](ctx, db.c[cWarnings], append(of, bson.E{Key: "$or", Value: eraseHistory.held}))
	if err != nil {
		return out, err
	}
	for _, w := range noted {
		_, err := cas(ctx, db, cWarnings, w.Key, "warning", func(d *warningDoc) *int64 { return &d.Version },
			func(d *warningDoc) (bson.D, error) {
				for i := range d.History {
					store.BlankErased(&d.History[i])
				}
				return bson.D{{Key: fWarning.History, Value: d.History}}, nil
			})
		if err != nil {
			return out, err
		}
	}
	// Open sessions first, so that they stop accepting answers; then
	// every other session that still holds a token or code.
	if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: fSession.State, Value: string(store.SessionOpen)}),
		bson.D{{Key: "$set", Value: append(bson.D{{Key: fSession.State, Value: string(store.SessionPurged)}}, eraseSession.set...)}}); err != nil {
		return out, err
	}
	out.Sessions = int(up.ModifiedCount)
	if up, err = db.c[cSessions].UpdateMany(ctx, append(of, bson.E{Key: "$or", Value: eraseSession.held}),
		bson.D{{Key: "$set", Value: eraseSession.set}}); err != nil {
		return out, err
	}
	out.Sessions += int(up.ModifiedCount)
	if e.DropAnswers {
		cur, err := db.c[cSessions].Find(ctx, of, options.Find().SetProjection(bson.D{{Key: fID, Value: 1}}))
		if err != nil {
			return out, err
		}
		var ids []sessionDoc
		if err := cur.All(ctx, &ids); err != nil {
			return out, err
		}
		keys := bson.A{}
		for _, s := range ids {
			keys = append(keys, s.Key)
		}
		if len(keys) > 0 {
			del, err = db.c[cAnswers].DeleteMany(ctx, bson.D{{Key: fAnswer.SessionID, Value: bson.D{{Key: "$in", Value: keys}}}})
			if err != nil {
				return out, err
			}
			out.Answers = int(del.DeletedCount)
		}
	}
	if err := db.eraseHandoff(ctx, e.PersonID); err != nil {
		return out, err
	}
	if err := db.eraseAbsences(ctx, e.PersonID); err != nil {
		return out, err
	}
	if err := db.eraseMeetings(ctx, e.PersonID); err != nil {
		return out, err
	}
	set := append(bson.D{{Key: fPerson.Anonymised, Value: true}, {Key: fPerson.UpdatedAt, Value: store.Millis(e.At)}}, erasePerson.set...)
	if e.Age > 0 {
		set = append(set, bson.E{Key: fPerson.Age, Value: e.Age})
	}
	res, err := db.c[cPersons].UpdateOne(ctx, id(e.PersonID), bson.D{{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: fPerson.RosterKey, Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: fVersion, Value: 1}}}})
	if err != nil {
		return out, err
	}
	if res.MatchedCount == 0 {
		return out, notFound("person", e.PersonID)
	}
	return out, nil
}

func (db *DB) ListIdentities(ctx context.Context, personID string) ([]store.Identity, error) {
	cur, err := db.c[cIdentities].Find(ctx, bson.D{{Key: fIdentity.PersonID, Value: personID}}, options.Find().SetSort(byTime(fIdentity.CreatedAt)))
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
	cur, err := db.c[cCodes].Find(ctx, bson.D{{Key: fCode.PersonID, Value: personID}}, options.Find().SetSort(byTime(fCode.CreatedAt)))
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

func (db *DB) preparePerson(ctx context.Context, p *store.Person) error {
	p.UnitPath = ""
	if p.UnitID != "" {
		path, err := db.unitPath(ctx, p.UnitID)
		if err != nil {
			return err
		}
		p.UnitPath = path
	}
	return nil
}

func (db *DB) CreatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	if p.ID == "" {
		return p, invalid("person id")
	}
	if err := db.preparePerson(ctx, &p); err != nil {
		return p, err
	}
	p.CreatedAt = store.Millis(p.CreatedAt)
	p.UpdatedAt, p.Version = p.CreatedAt, 1
	_, err := db.c[cPersons].InsertOne(ctx, newPersonDoc(p))
	return p, mapErr(err)
}

func (db *DB) GetPerson(ctx context.Context, pid string) (store.Person, error) {
	d, err := get[personDoc](ctx, db.c[cPersons], id(pid), "person", pid)
	return d.Person, err
}

func (db *DB) UpdatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	cur, err := db.GetPerson(ctx, p.ID)
	if err != nil {
		return p, err
	}
	if err := db.preparePerson(ctx, &p); err != nil {
		return p, err
	}
	p.CreatedAt, p.Anonymised, p.UpdatedAt = cur.CreatedAt, cur.Anonymised, store.Millis(p.UpdatedAt)
	old := p.Version
	p.Version++
	return p, db.replaceVersioned(ctx, cPersons, p.ID, old, newPersonDoc(p), "persons")
}

func (db *DB) ListPersons(ctx context.Context, f store.PersonFilter, p store.Page) ([]store.Person, string, error) {
	q := eq(subtree(bson.D{}, fPerson.UnitPath, f.UnitPath), fPerson.SchoolID, f.SchoolID)
	q, err := after(q, fPerson.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cPersons], q, byTime(fPerson.CreatedAt), p, func(d personDoc) (store.Person, store.Cursor) {
		return d.Person, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) UpsertRoster(ctx context.Context, schoolID string, people []store.Person, at time.Time) (store.RosterOutcome, error) {
	var out store.RosterOutcome
	at = store.Millis(at)
	for _, p := range people {
		if p.StudentNoIndex == "" || p.UnitID == "" {
			return out, invalid("roster entry needs a student number index and a unit")
		}
	}
	school, err := db.unitPath(ctx, schoolID)
	if err != nil {
		return out, err
	}
	for i := range people {
		if err := db.preparePerson(ctx, &people[i]); err != nil {
			return out, err
		}
		if !store.InSubtree(people[i].UnitPath, school) {
			return out, invalid("unit %s is outside school %s", people[i].UnitID, schoolID)
		}
	}
	// One upsert per person, keyed by the school's student-number index (a
	// sparse unique index), so a crash mid-import leaves some persons
	// written and a repeated import completes the rest without duplicates.
	for _, p := range people {
		p.SchoolID, p.UpdatedAt = schoolID, at
		created, err := db.upsertRosterPerson(ctx, p, at)
		if err != nil {
			return out, err
		}
		if created {
			out.Created++
		} else {
			out.Updated++
		}
	}
	return out, nil
}

func (db *DB) upsertRosterPerson(ctx context.Context, p store.Person, at time.Time) (created bool, err error) {
	rosterKey := bson.D{{Key: fPerson.RosterKey, Value: p.SchoolID + "\x00" + p.StudentNoIndex}}
	for i := 0; i < maxCASRetries; i++ {
		cur, err := get[personDoc](ctx, db.c[cPersons], rosterKey, "person", "")
		if errors.Is(err, store.ErrNotFound) {
			n := p
			if n.ID == "" {
				n.ID = store.NewID()
			}
			n.CreatedAt, n.Version = at, 1
			_, err := db.c[cPersons].InsertOne(ctx, newPersonDoc(n))
			if mongo.IsDuplicateKeyError(err) {
				continue // imported meanwhile (or an id clash): read it
			}
			return true, err
		}
		if err != nil {
			return false, err
		}
		n := p
		n.ID, n.CreatedAt, n.Version = cur.Key, cur.CreatedAt, cur.Version+1
		res, err := db.fencedReplace(ctx, cPersons, n.ID, version(cur.Version), bson.D{{Key: fID, Value: n.ID}, {Key: fVersion, Value: cur.Version}}, newPersonDoc(n))
		if err != nil {
			return false, err
		}
		if res.MatchedCount == 1 {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: roster entry is too contended", store.ErrConflict)
}

func (db *DB) LinkIdentity(ctx context.Context, kind, key, personID string, at time.Time) error {
	if kind == "" || key == "" || personID == "" {
		return invalid("identity needs kind, key and person")
	}
	if _, err := db.GetPerson(ctx, personID); err != nil {
		return err
	}
	_, err := db.c[cIdentities].InsertOne(ctx, identityDoc{Key: key2(kind, key), PersonID: personID, CreatedAt: store.Millis(at)})
	if mongo.IsDuplicateKeyError(err) {
		cur, gerr := get[identityDoc](ctx, db.c[cIdentities], id(key2(kind, key)), "identity", kind)
		if gerr != nil {
			return gerr
		}
		if cur.PersonID == personID {
			return nil
		}
		return fmt.Errorf("%w: identity bound to another person", store.ErrConflict)
	}
	return err
}

func (db *DB) FindIdentity(ctx context.Context, kind, key string) (store.Person, error) {
	d, err := get[identityDoc](ctx, db.c[cIdentities], id(key2(kind, key)), "identity", kind)
	if err != nil {
		return store.Person{}, err
	}
	return db.GetPerson(ctx, d.PersonID)
}

// AnonymisePerson drops the identities first and marks the person last: a
// crash in between leaves a person who still shows as not anonymised, so
// the erasure is visibly unfinished and is simply repeated.
func (db *DB) AnonymisePerson(ctx context.Context, pid string, at time.Time) error {
	if _, err := db.GetPerson(ctx, pid); err != nil {
		return err
	}
	if _, err := db.c[cIdentities].DeleteMany(ctx, bson.D{{Key: fIdentity.PersonID, Value: pid}}); err != nil {
		return err
	}
	res, err := db.c[cPersons].UpdateOne(ctx, id(pid), bson.D{
		{Key: "$set", Value: append(bson.D{{Key: fPerson.Anonymised, Value: true}, {Key: fPerson.UpdatedAt, Value: store.Millis(at)}}, erasePerson.set...)},
		{Key: "$unset", Value: bson.D{{Key: fPerson.RosterKey, Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: fVersion, Value: 1}}}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return notFound("person", pid)
	}
	return nil
}
