package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

func id(v string) bson.D { return bson.D{{Key: "_id", Value: v}} }

// Org tree.

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
	res, err := db.c[cUnits].UpdateOne(ctx, id(uid), bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}, {Key: "kind", Value: kind}}}})
	if err != nil {
		return store.Unit{}, mapErr(err)
	}
	if res.MatchedCount == 0 {
		return store.Unit{}, notFound("unit", uid)
	}
	return db.GetUnit(ctx, uid)
}

func (db *DB) ListUnits(ctx context.Context, path string) ([]store.Unit, error) {
	cur, err := db.c[cUnits].Find(ctx, subtree(bson.D{}, "path", path), options.Find().SetSort(bson.D{{Key: "path", Value: 1}}))
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

// Staff.

func (db *DB) CreateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	if s.ID == "" || s.Login == "" || s.UnitID == "" {
		return s, invalid("staff needs id, login and unit")
	}
	p, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	s.UnitPath, s.CreatedAt, s.LockedUntil, s.Version = p, store.Millis(s.CreatedAt), store.Millis(s.LockedUntil), 1
	s.UpdatedAt, s.Permissions = s.CreatedAt, store.SortedSet(s.Permissions)
	_, err = db.c[cStaff].InsertOne(ctx, staffDoc{Key: s.ID, Staff: s})
	return s, mapErr(err)
}

func (db *DB) GetStaff(ctx context.Context, sid string) (store.Staff, error) {
	d, err := get[staffDoc](ctx, db.c[cStaff], id(sid), "staff", sid)
	return d.Staff, err
}

func (db *DB) GetStaffByLogin(ctx context.Context, login string) (store.Staff, error) {
	d, err := get[staffDoc](ctx, db.c[cStaff], bson.D{{Key: "login", Value: login}}, "staff login", login)
	return d.Staff, err
}

// replaceVersioned swaps a whole document when its version matches.
func (db *DB) replaceVersioned(ctx context.Context, coll string, key string, v int64, doc any, kind string) error {
	res, err := db.fencedReplace(ctx, coll, key, version(v), bson.D{{Key: "_id", Value: key}, {Key: "version", Value: v}}, doc)
	if err != nil {
		return err
	}
	if res.MatchedCount == 1 {
		return nil
	}
	n, err := db.c[coll].CountDocuments(ctx, id(key))
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(kind, key)
	}
	return fmt.Errorf("%w: %s %s changed since read", store.ErrConflict, kind, key)
}

func (db *DB) UpdateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	cur, err := db.GetStaff(ctx, s.ID)
	if err != nil {
		return s, err
	}
	p, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	n := cur
	n.Name, n.Role, n.UnitID, n.UnitPath, n.PasswordHash = s.Name, s.Role, s.UnitID, p, s.PasswordHash
	n.FailedLogins, n.LockedUntil, n.Disabled, n.UpdatedAt = s.FailedLogins, store.Millis(s.LockedUntil), s.Disabled, store.Millis(s.UpdatedAt)
	n.MustChangePassword, n.Permissions = s.MustChangePassword, store.SortedSet(s.Permissions)
	n.Version = s.Version + 1
	return n, db.replaceVersioned(ctx, cStaff, s.ID, s.Version, staffDoc{Key: s.ID, Staff: n}, "staff")
}

func (db *DB) ListStaff(ctx context.Context, f store.StaffFilter, p store.Page) ([]store.Staff, string, error) {
	q := eq(subtree(bson.D{}, "unitpath", f.UnitPath), "role", string(f.Role))
	q, err := after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cStaff], q, byTime("createdat"), p, func(d staffDoc) (store.Staff, store.Cursor) {
		return d.Staff, cursor(d.CreatedAt, d.Key)
	})
}

// Persons.

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
	q := eq(subtree(bson.D{}, "unitpath", f.UnitPath), "schoolid", f.SchoolID)
	q, err := after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cPersons], q, byTime("createdat"), p, func(d personDoc) (store.Person, store.Cursor) {
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
	rosterKey := bson.D{{Key: "rosterkey", Value: p.SchoolID + "\x00" + p.StudentNoIndex}}
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
		res, err := db.fencedReplace(ctx, cPersons, n.ID, version(cur.Version), bson.D{{Key: "_id", Value: n.ID}, {Key: "version", Value: cur.Version}}, newPersonDoc(n))
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
	if _, err := db.c[cIdentities].DeleteMany(ctx, bson.D{{Key: "personid", Value: pid}}); err != nil {
		return err
	}
	res, err := db.c[cPersons].UpdateOne(ctx, id(pid), bson.D{
		{Key: "$set", Value: bson.D{{Key: "name", Value: nil}, {Key: "phone", Value: nil}, {Key: "studentno", Value: nil},
			{Key: "studentnoindex", Value: ""}, {Key: "birthmonth", Value: ""}, {Key: "anonymised", Value: true},
			{Key: "updatedat", Value: store.Millis(at)}}},
		{Key: "$unset", Value: bson.D{{Key: "rosterkey", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return notFound("person", pid)
	}
	return nil
}

// Sessions and answers.

func (db *DB) CreateSession(ctx context.Context, s store.Session) (store.Session, error) {
	if s.ID == "" {
		return s, invalid("session id")
	}
	s.UnitPath = ""
	if s.UnitID != "" {
		p, err := db.unitPath(ctx, s.UnitID)
		if err != nil {
			return s, err
		}
		s.UnitPath = p
	}
	s.State, s.CreatedAt, s.SubmittedAt = store.SessionOpen, store.Millis(s.CreatedAt), time.Time{}
	s.LastActiveAt = s.CreatedAt
	_, err := db.c[cSessions].InsertOne(ctx, sessionDoc{Key: s.ID, Session: s})
	return s, mapErr(err)
}

func (db *DB) GetSession(ctx context.Context, sid string) (store.Session, error) {
	d, err := get[sessionDoc](ctx, db.c[cSessions], id(sid), "session", sid)
	return d.Session, err
}

func (db *DB) ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) ([]store.Session, string, error) {
	q := subtree(bson.D{}, "unitpath", f.UnitPath)
	q = eq(eq(eq(q, "campaignid", f.CampaignID), "personid", f.PersonID), "state", string(f.State))
	q, err := after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cSessions], q, byTime("createdat"), p, func(d sessionDoc) (store.Session, store.Cursor) {
		return d.Session, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) SetSessionToken(ctx context.Context, sid string, hash []byte) error {
	res, err := db.c[cSessions].UpdateOne(ctx, append(id(sid), bson.E{Key: "state", Value: string(store.SessionOpen)}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "tokenhash", Value: hash}}}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		s, err := db.GetSession(ctx, sid)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: session %s is %s", store.ErrSessionClosed, sid, s.State)
	}
	return nil
}

func (db *DB) SaveAnswer(ctx context.Context, a store.Answer) (store.AnswerOutcome, error) {
	return store.OneAnswer(db.SaveAnswers(ctx, a.SessionID, []store.Answer{a}))
}

func (db *DB) SaveAnswers(ctx context.Context, sessionID string, answers []store.Answer) ([]store.AnswerOutcome, error) {
	if len(answers) == 0 {
		return nil, nil
	}
	last := time.Time{}
	for i := range answers {
		a := &answers[i]
		if a.Item == "" || (a.SessionID != "" && a.SessionID != sessionID) {
			return nil, invalid("answer item or session")
		}
		a.SessionID, a.At = sessionID, store.Millis(a.At)
		if a.At.After(last) {
			last = a.At
		}
	}
	// The session update both proves it open (and not being submitted) and
	// records activity.
	res, err := db.c[cSessions].UpdateOne(ctx, bson.D{{Key: "_id", Value: sessionID}, {Key: "state", Value: string(store.SessionOpen)}, {Key: "pending", Value: nil}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "lastactiveat", Value: last}}}})
	if err != nil {
		return nil, err
	}
	if res.MatchedCount == 0 {
		s, err := db.GetSession(ctx, sessionID)
		if err != nil {
			return nil, err
		}
		if s.State == store.SessionOpen {
			return nil, fmt.Errorf("%w: session %s is being submitted", store.ErrSessionClosed, sessionID)
		}
		return nil, fmt.Errorf("%w: session %s is %s", store.ErrSessionClosed, sessionID, s.State)
	}
	out := make([]store.AnswerOutcome, len(answers))
	for i, a := range answers {
		// Upsert only over an older seq: an equal or newer stored seq makes
		// the filter miss and the insert collide on _id, which is how a
		// replay or a stale save shows itself in one round trip.
		k := answerKey(sessionID, a.Item)
		err := db.fenced(ctx, cAnswers, k, "save", func() error {
			_, err := db.c[cAnswers].ReplaceOne(ctx, bson.D{{Key: "_id", Value: k}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: a.Seq}}}},
				answerDoc{Key: k, Answer: a}, options.Replace().SetUpsert(true))
			return err
		})
		if err == nil {
			out[i] = store.AnswerOutcome{Status: store.AnswerSaved, Current: a}
			continue
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, err
		}
		cur, err := get[answerDoc](ctx, db.c[cAnswers], id(k), "answer", a.Item)
		if err != nil {
			return nil, err
		}
		st := store.AnswerReplay
		if cur.Seq > a.Seq {
			st = store.AnswerStale
		}
		out[i] = store.AnswerOutcome{Status: st, Current: cur.Answer}
	}
	return out, nil
}

func (db *DB) ListAnswers(ctx context.Context, sessionID string) ([]store.Answer, error) {
	if _, err := db.GetSession(ctx, sessionID); err != nil {
		return nil, err
	}
	cur, err := db.c[cAnswers].Find(ctx, bson.D{{Key: "sessionid", Value: sessionID}}, options.Find().SetSort(bson.D{{Key: "item", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []answerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Answer, len(docs))
	for i, d := range docs {
		out[i] = d.Answer
	}
	return out, nil
}

func (db *DB) ListIdleSessions(ctx context.Context, from, before time.Time, limit int) ([]store.Session, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	filter := bson.D{{Key: "state", Value: string(store.SessionOpen)}, {Key: "lastactiveat", Value: bson.D{{Key: "$gte", Value: store.Millis(from)}, {Key: "$lt", Value: store.Millis(before)}}}}
	cur, err := db.c[cSessions].Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "lastactiveat", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Session, len(docs))
	for i, d := range docs {
		out[i] = d.Session
	}
	return out, nil
}

func (db *DB) PurgeAnonymousSessions(ctx context.Context, before time.Time) (int, error) {
	filter := bson.D{{Key: "personid", Value: ""}, {Key: "state", Value: bson.D{{Key: "$ne", Value: string(store.SessionPurged)}}},
		{Key: "lastactiveat", Value: bson.D{{Key: "$lt", Value: store.Millis(before)}}}}
	cur, err := db.c[cSessions].Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "warningid", Value: 1}}))
	if err != nil {
		return 0, err
	}
	var ids []struct {
		Key       string `bson:"_id"`
		WarningID string `bson:"warningid"`
	}
	if err := cur.All(ctx, &ids); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range ids {
		if s.WarningID != "" {
			// A counsellor still working the entry needs its answers.
			w, err := get[warningDoc](ctx, db.c[cWarnings], id(s.WarningID), "warning", s.WarningID)
			if err == nil && w.State != store.WarningClosed {
				continue
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
		}
		// Mark first: a purged session accepts no answer, so deleting its
		// answers afterwards cannot race with a late save.
		res, err := db.c[cSessions].UpdateOne(ctx, append(id(s.Key), filter...),
			bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(store.SessionPurged)}, {Key: "tokenhash", Value: nil}}}})
		if err != nil {
			return n, err
		}
		if _, err := db.c[cAnswers].DeleteMany(ctx, bson.D{{Key: "sessionid", Value: s.Key}}); err != nil {
			return n, err
		}
		n += int(res.ModifiedCount)
	}
	return n, nil
}

// Results and submit.

func (db *DB) GetResult(ctx context.Context, rid string) (store.Result, error) {
	d, err := get[resultDoc](ctx, db.c[cResults], id(rid), "result", rid)
	return d.Result, err
}

func (db *DB) ListResults(ctx context.Context, f store.ResultFilter, p store.Page) ([]store.Result, string, error) {
	q := subtree(bson.D{}, "unitpath", f.UnitPath)
	q = eq(eq(eq(eq(q, "campaignid", f.CampaignID), "personid", f.PersonID), "sessionid", f.SessionID), "instrument", f.Instrument)
	q = timeRange(q, "createdat", f.From, f.To)
	if !f.WithSuperseded {
		q = append(q, current...)
	}
	q, err := after(q, "createdat", p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cResults], q, byTime("createdat"), p, func(d resultDoc) (store.Result, store.Cursor) {
		return d.Result, cursor(d.CreatedAt, d.Key)
	})
}

// current matches results that no rescoring replaced; documents written
// before rescoring existed lack the field, which matches null.
var current = bson.D{{Key: "supersededby", Value: bson.D{{Key: "$in", Value: bson.A{nil, ""}}}}}
