// Package mongo is the MongoDB store, for deployments that outgrow one
// machine. Writes use majority write concern, reads majority read concern.
// Every operation is a single-document write or an ordered sequence of
// them (conditional updates, optimistic versions, inserts keyed so that a
// retry is harmless). No multi-document transaction is used: they need a
// replica set, sharded clusters pay for them, and MongoDB-wire servers such
// as FerretDB lack them. Where one write spans documents (Submit,
// ReferWarning, RescoreResult, CreateAccessCodes) its first step records
// the whole intent in one document and its last step publishes the
// outcome; FinishInterrupted completes an intent a crash left behind. The
// rule for a crash between any two steps is in docs/storage.md.
//
// Sessions, answers and results have random (or session-prefixed) ids that
// suit a hashed shard key; queue queries use the unit-path prefix plus
// level, state and time.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"xinling/store"
)

// DB is the MongoDB Store.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	c      map[string]*mongo.Collection
	// fault, when set (tests only), is called after each named step of a
	// multi-document write; an error stops the sequence there, as a crash
	// would.
	fault func(step string) error
	// fences is set when the server's conditional updates are not atomic
	// (FerretDB); see fence.go.
	fences bool
}

// step marks the end of one step of a multi-document write.
func (db *DB) step(name string) error {
	if db.fault != nil {
		return db.fault(name)
	}
	return nil
}

var (
	_ store.Store      = (*DB)(nil)
	_ store.ChangeFeed = (*DB)(nil)
	_ store.Finisher   = (*DB)(nil)
)

const (
	cUnits, cStaff, cPersons, cIdentities = "units", "staff", "persons", "identities"
	cSessions, cAnswers, cResults         = "sessions", "answers", "results"
	cWarnings, cReferrals, cCases         = "warnings", "referrals", "cases"
	cCampaigns, cCodes, cInstruments      = "campaigns", "access_codes", "instruments"
	cAudit, cActivities, cLogins          = "audit", "activities", "logins"
	cBatches                              = "code_batches"
	cNotifications                        = "notifications"
	maxCASRetries                         = 50
)

// Open connects to uri, uses database name, and creates the indexes.
func Open(ctx context.Context, uri, name string) (*DB, error) {
	opts := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority())
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	db := &DB{client: client, db: client.Database(name), c: map[string]*mongo.Collection{}}
	for _, n := range []string{cUnits, cStaff, cPersons, cIdentities, cSessions, cAnswers, cResults, cWarnings,
		cReferrals, cCases, cCampaigns, cCodes, cInstruments, cAudit, cActivities, cLogins, cBatches, cFences, cNotifications, cNotifySettings, cAbsences, cMeetings} {
		db.c[n] = db.db.Collection(n)
	}
	for _, n := range handoffCollections {
		db.c[n] = db.db.Collection(n)
	}
	if db.fences, err = db.usesFences(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if err := db.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return db, nil
}

// indexes lists every index the store needs, by collection. It is data so
// that a unit test can check the queue's index without a server.
func indexes() map[string][]mongo.IndexModel {
	ix := func(unique bool, keys ...string) mongo.IndexModel {
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: 1})
		}
		m := mongo.IndexModel{Keys: d}
		if unique {
			m.Options = options.Index().SetUnique(true)
		}
		return m
	}
	// Intents left by a crash are found through sparse indexes, which hold
	// only the few documents that carry one.
	sparse := func(key string) mongo.IndexModel {
		return mongo.IndexModel{Keys: bson.D{{Key: key, Value: 1}}, Options: options.Index().SetSparse(true)}
	}
	all := map[string][]mongo.IndexModel{
		cUnits: {ix(true, fUnit.Path)},
		cStaff: {ix(true, fStaff.Login), ix(false, fStaff.UnitPath, fStaff.CreatedAt, fID)},
		cPersons: {{Keys: bson.D{{Key: fPerson.RosterKey, Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
			ix(false, fPerson.UnitPath, fPerson.CreatedAt, fID), ix(false, fPerson.SchoolID, fPerson.CreatedAt, fID)},
		cIdentities: {ix(false, fIdentity.PersonID)},
		cSessions: {ix(false, fSession.CampaignID, fSession.CreatedAt, fID), ix(false, fSession.PersonID, fSession.CreatedAt, fID),
			ix(false, fSession.UnitPath, fSession.CreatedAt, fID), ix(false, fSession.LastActiveAt), sparse(fSession.PendingAt)},
		cAnswers: {ix(false, fAnswer.SessionID, fAnswer.Item)},
		cResults: {sparse(fResult.PendingRescoreAt), ix(false, fResult.SessionID), ix(false, fResult.PersonID, fResult.CreatedAt, fID),
			ix(false, fResult.CampaignID, fResult.CreatedAt, fID), ix(false, fResult.UnitPath, fResult.CreatedAt, fID)},
		cWarnings: {ix(true, fWarning.Key), ix(false, fWarning.UnitPath, fWarning.Level, fWarning.CreatedAt, fID), ix(false, fWarning.Level, fWarning.CreatedAt, fID),
			ix(false, fWarning.State, fWarning.DueAt), ix(false, fWarning.PersonID), ix(false, fWarning.UpdatedAt, fID), sparse(fWarning.PendingReferralCreatedAt)},
		cReferrals: {ix(false, fReferral.ToUnitPath, fReferral.CreatedAt, fID), ix(false, fReferral.FromUnitPath, fReferral.CreatedAt, fID), ix(false, fReferral.WarningID)},
		cCases:     {ix(false, fCase.UnitPath, fCase.CreatedAt, fID), ix(false, fCase.PersonID, fCase.CreatedAt, fID), ix(false, fCase.WarningID)},
		cCampaigns: {ix(false, fCampaign.UnitPath, fCampaign.CreatedAt, fID)},
		cCodes:     {ix(false, fCode.CampaignID, fCode.CreatedAt, fID), ix(false, fCode.PersonID, fCode.CreatedAt, fID), sparse(fCode.Batch)},
		cBatches:   {ix(false, fBatch.CreatedAt)},
		cFences:    {ix(false, fFence.At)},
		// Pending ones by due time (what dispatchers claim), an entry's and a
		// send's deliveries, and a unit's subtree for the dead-letter list.
		cNotifications: {ix(false, fNotification.State, fNotification.NotBefore, fID), ix(false, fNotification.WarningID, fNotification.CreatedAt, fID),
			ix(false, fNotification.ParentID, fNotification.CreatedAt, fID), ix(false, fNotification.UnitPath, fNotification.CreatedAt, fID)},
		cNotifySettings: {ix(false, fNotifySettings.UnitPath)},
		cAbsences:       {ix(false, fAbsence.CampaignID, fAbsence.UnitPath, fPersonID), ix(false, fPersonID)},
		cInstruments:    {ix(false, fInstrument.ID, fInstrument.Version)},
		cAudit:          {ix(false, fAudit.At, fID), ix(false, fAudit.ActorID, fAudit.At, fID), ix(false, fAudit.TargetID, fAudit.At, fID)},
		cActivities:     {ix(false, fActivity.UnitPath, fActivity.Date, fID)},
		// Expired sign-ins are deleted by query (DeleteExpiredLogins), not by
		// a TTL index, which not every MongoDB-wire server has; the caller
		// still checks expiry.
		cLogins: {ix(false, fLogin.StaffID), ix(false, fLogin.ExpiresAt)},
	}
	maps.Copy(all, handoffIndexes(ix, sparse))
	maps.Copy(all, meetingIndexes(ix))
	return all
}

func (db *DB) ensureIndexes(ctx context.Context) error {
	// One index per command: FerretDB v1 panics on a createIndexes whose
	// list holds more than one index that already exists (every server's
	// start after the first).
	for coll, models := range indexes() {
		for _, m := range models {
			if _, err := db.c[coll].Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("mongo: indexes on %s: %w", coll, err)
			}
		}
	}
	return nil
}

// Drop removes the database (tests only).
func (db *DB) Drop(ctx context.Context) error { return db.db.Drop(ctx) }

func (db *DB) Ping(ctx context.Context) error { return db.client.Ping(ctx, nil) }

func (db *DB) Close() error {
	err := db.client.Disconnect(context.Background())
	if errors.Is(err, mongo.ErrClientDisconnected) {
		return nil
	}
	return err
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return store.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

func notFound(kind, id string) error { return fmt.Errorf("%w: %s %s", store.ErrNotFound, kind, id) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{store.ErrInvalid}, args...)...)
}

// get decodes one document into D.
func get[D any](ctx context.Context, c *mongo.Collection, filter any, kind, id string) (D, error) {
	var d D
	err := c.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, notFound(kind, id)
	}
	return d, err
}

// list runs a keyset-paginated find.
func list[D, T any](ctx context.Context, c *mongo.Collection, filter bson.D, sort bson.D, p store.Page,
	conv func(D) (T, store.Cursor)) ([]T, string, error) {
	n := p.Size()
	cur, err := c.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(n+1)))
	if err != nil {
		return nil, "", err
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", err
	}
	out := make([]T, 0, min(len(docs), n))
	var last store.Cursor
	for i, d := range docs {
		if i == n {
			return out, last.Encode(), nil
		}
		v, c := conv(d)
		out = append(out, v)
		last = c
	}
	return out, "", nil
}

func byTime(field string) bson.D { return bson.D{{Key: field, Value: 1}, {Key: fID, Value: 1}} }

func cursor(t time.Time, id string) store.Cursor { return store.Cursor{At: t.UnixMilli(), ID: id} }

// cas applies an optimistic read-modify-write to one document: read, let
// change decide (or refuse), write only if the version is unchanged, else
// retry. Concurrent callers thus serialize per document without locks.
func cas[D any](ctx context.Context, db *DB, coll, id, kind string, versionOf func(*D) *int64,
	change func(*D) (bson.D, error)) (D, error) {
	c := db.c[coll]
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[D](ctx, c, bson.D{{Key: fID, Value: id}}, kind, id)
		if err != nil {
			return d, err
		}
		v := versionOf(&d)
		old := *v
		set, err := change(&d)
		if err != nil {
			return d, err
		}
		*v = old + 1
		set = append(set, bson.E{Key: fVersion, Value: old + 1})
		res, err := db.fencedUpdate(ctx, coll, id, version(old), bson.D{{Key: fID, Value: id}, {Key: fVersion, Value: old}}, bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return d, mapErr(err)
		}
		if res.MatchedCount == 1 {
			return d, nil
		}
	}
	return *new(D), fmt.Errorf("%w: %s %s is too contended", store.ErrConflict, kind, id)
}

func id(v string) bson.D { return bson.D{{Key: fID, Value: v}} }

// replaceVersioned swaps a whole document when its version matches.
func (db *DB) replaceVersioned(ctx context.Context, coll string, key string, v int64, doc any, kind string) error {
	res, err := db.fencedReplace(ctx, coll, key, version(v), bson.D{{Key: fID, Value: key}, {Key: fVersion, Value: v}}, doc)
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
