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

// Submit: (1) record the submission on the open session, which then takes
// no answers; (2) insert or join its queue entry; (3) insert its results;
// (4) mark the session submitted and clear the intent. A caller that finds
// an intent already recorded (a retry after a crash, a racing submit)
// finishes that one and ignores its own.
func (db *DB) Submit(ctx context.Context, sub store.Submission) (store.SubmitOutcome, error) {
	if err := sub.Check(); err != nil {
		return store.SubmitOutcome{}, err
	}
	at := store.Millis(sub.At)
	for i := 0; i < maxCASRetries; i++ {
		s, err := get[sessionDoc](ctx, db.c[cSessions], id(sub.SessionID), "session", sub.SessionID)
		if err != nil {
			return store.SubmitOutcome{}, err
		}
		switch s.State {
		case store.SessionPurged:
			return store.SubmitOutcome{}, fmt.Errorf("%w: session %s is purged", store.ErrSessionClosed, s.Key)
		case store.SessionSubmitted:
			out := store.SubmitOutcome{Replayed: true}
			return out, db.loadSubmission(ctx, s.Key, s.WarningID, &out)
		}
		// A recorded submission found here was left by a crash (or is a
		// racing submit's): finishing it now stamps its entry with this
		// call's time, so every server's change feed still sees it.
		touch := at
		if s.Pending == nil {
			touch = time.Time{}
			if err := db.freshResultIDs(ctx, sub.Results); err != nil {
				return store.SubmitOutcome{}, err
			}
			p := &pendingSubmit{At: at, Warning: sub.Warning}
			for _, r := range sub.Results {
				r.SessionID, r.PersonID, r.CampaignID, r.UnitID, r.UnitPath = s.Key, s.PersonID, s.CampaignID, s.UnitID, s.UnitPath
				r.CreatedAt = at
				p.Results = append(p.Results, r)
			}
			res, err := db.fencedUpdate(ctx, cSessions, s.Key, "submit", bson.D{{Key: fID, Value: s.Key}, {Key: fSession.State, Value: string(store.SessionOpen)},
				{Key: fSession.Pending, Value: nil}}, bson.D{{Key: "$set", Value: bson.D{{Key: fSession.Pending, Value: p}}}})
			if err != nil {
				return store.SubmitOutcome{}, err
			}
			if res.MatchedCount == 0 {
				continue // submitted, purged or decided meanwhile: read again
			}
			s.Pending = p
			if err := db.step(stepSubmitIntent); err != nil {
				return store.SubmitOutcome{}, err
			}
		}
		return db.finishSubmit(ctx, s, touch)
	}
	return store.SubmitOutcome{}, fmt.Errorf("%w: session %s is too contended", store.ErrConflict, sub.SessionID)
}

// freshResultIDs refuses a submission that reuses a stored result's id
// before anything is written, so such a submission leaves nothing behind.
func (db *DB) freshResultIDs(ctx context.Context, results []store.Result) error {
	ids := bson.A{}
	for _, r := range results {
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	n, err := db.c[cResults].CountDocuments(ctx, bson.D{{Key: fID, Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: a result id of the submission is taken", store.ErrConflict)
	}
	return nil
}

// finishSubmit runs steps 2–4 of the intent on s. A non-zero touch is the
// time a recovering server finished it: the entry's UpdatedAt moves to it,
// so the change feed tells every console about an entry that was written
// late.
func (db *DB) finishSubmit(ctx context.Context, s sessionDoc, touch time.Time) (store.SubmitOutcome, error) {
	p := s.Pending
	// The queue entry goes first: a reader may then briefly see an entry
	// whose result is not yet there, never a result without its entry.
	warningID := ""
	if p.Warning != nil {
		sub := store.Submission{SessionID: s.Key, At: p.At, Results: p.Results, Warning: p.Warning}
		// The entry and its debt to the on-duty staff: a retry or the
		// finisher writes them if a crash came first.
		w, err := db.putWarning(ctx, s.Session, sub, p.At, touch)
		if err != nil {
			return store.SubmitOutcome{}, err
		}
		warningID = w.ID
	}
	if err := db.step(stepSubmitWarning); err != nil {
		return store.SubmitOutcome{}, err
	}
	for _, r := range p.Results {
		if _, err := db.c[cResults].InsertOne(ctx, resultDoc{Key: r.ID, Result: r}); err != nil && !mongo.IsDuplicateKeyError(err) {
			return store.SubmitOutcome{}, err
		}
	}
	if err := db.step(stepSubmitResults); err != nil {
		return store.SubmitOutcome{}, err
	}
	res, err := db.c[cSessions].UpdateOne(ctx, bson.D{{Key: fID, Value: s.Key}, {Key: fSession.State, Value: string(store.SessionOpen)}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: fSession.State, Value: string(store.SessionSubmitted)}, {Key: fSession.SubmittedAt, Value: p.At}, {Key: fSession.WarningID, Value: warningID}}},
		{Key: "$unset", Value: bson.D{{Key: fSession.Pending, Value: ""}}}})
	if err != nil {
		return store.SubmitOutcome{}, err
	}
	out := store.SubmitOutcome{}
	if res.MatchedCount == 0 {
		// Another caller published the same intent first.
		cur, err := db.GetSession(ctx, s.Key)
		if err != nil {
			return out, err
		}
		if cur.State != store.SessionSubmitted {
			return out, fmt.Errorf("%w: session %s is %s", store.ErrSessionClosed, s.Key, cur.State)
		}
		out.Replayed = true
	}
	return out, db.loadSubmission(ctx, s.Key, warningID, &out)
}

func (db *DB) loadSubmission(ctx context.Context, sessionID, warningID string, out *store.SubmitOutcome) error {
	cur, err := db.c[cResults].Find(ctx, bson.D{{Key: fResult.SessionID, Value: sessionID}, {Key: fResult.Supersedes, Value: bson.D{{Key: "$in", Value: bson.A{nil, ""}}}}},
		options.Find().SetSort(bson.D{{Key: fID, Value: 1}}))
	if err != nil {
		return err
	}
	var docs []resultDoc
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		out.Results = append(out.Results, d.Result)
	}
	if warningID != "" {
		w, err := get[warningDoc](ctx, db.c[cWarnings], id(warningID), "warning", warningID)
		if err != nil {
			return err
		}
		w.History = nil
		out.Warning = &w.Warning
	}
	return nil
}

// RescoreResult: (1) mark the old result superseded by the new id and
// record the new result (and its warning) on it; (2) insert the new result;
// (3) file its warning; (4) clear the intent. Unlike a submit, the new
// result comes before its entry: the entry joins the session's existing
// one (or opens it), and a crash in between is finished by any server's
// FinishInterrupted within its grace.
func (db *DB) RescoreResult(ctx context.Context, rs store.Rescore) (store.Result, *store.Warning, error) {
	if rs.Result.ID == "" || rs.Result.Supersedes == "" {
		return store.Result{}, nil, invalid("a rescored result needs an id and the result it supersedes")
	}
	at := store.Millis(rs.At)
	old, err := get[resultDoc](ctx, db.c[cResults], id(rs.Result.Supersedes), "result", rs.Result.Supersedes)
	if err != nil {
		return store.Result{}, nil, err
	}
	if old.SupersededBy != "" {
		if p := old.PendingRescore; p != nil && p.Result.ID == rs.Result.ID {
			return db.finishRescore(ctx, old, time.Time{}) // our own retry
		}
		return store.Result{}, nil, fmt.Errorf("%w: result %s was already rescored as %s", store.ErrConflict, old.Key, old.SupersededBy)
	}
	r := store.RescoredFrom(old.Result, rs.Result, at)
	p := &pendingRescore{At: at, Result: r, Warning: rs.Warning}
	res, err := db.fencedUpdate(ctx, cResults, old.Key, "current", append(bson.D{{Key: fID, Value: old.Key}}, current...),
		bson.D{{Key: "$set", Value: bson.D{{Key: fResult.SupersededBy, Value: r.ID}, {Key: fResult.PendingRescore, Value: p}}}})
	if err != nil {
		return store.Result{}, nil, err
	}
	if res.MatchedCount == 0 {
		return store.Result{}, nil, fmt.Errorf("%w: result %s was rescored meanwhile", store.ErrConflict, old.Key)
	}
	if err := db.step(stepRescoreIntent); err != nil {
		return store.Result{}, nil, err
	}
	old.SupersededBy, old.PendingRescore = r.ID, p
	return db.finishRescore(ctx, old, time.Time{})
}

func (db *DB) finishRescore(ctx context.Context, old resultDoc, touch time.Time) (store.Result, *store.Warning, error) {
	p := old.PendingRescore
	if _, err := db.c[cResults].InsertOne(ctx, resultDoc{Key: p.Result.ID, Result: p.Result}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return store.Result{}, nil, err
	}
	if err := db.step(stepRescoreResult); err != nil {
		return store.Result{}, nil, err
	}
	var outW *store.Warning
	if p.Warning != nil {
		s, err := get[sessionDoc](ctx, db.c[cSessions], id(old.SessionID), "session", old.SessionID)
		if err != nil {
			return store.Result{}, nil, err
		}
		sub := store.Submission{SessionID: s.Key, At: p.At, Results: []store.Result{p.Result}, Warning: p.Warning}
		w, err := db.putWarning(ctx, s.Session, sub, p.At, touch)
		if err != nil {
			return store.Result{}, nil, err
		}
		outW = &w
	}
	if err := db.step(stepRescoreWarning); err != nil {
		return store.Result{}, nil, err
	}
	if _, err := db.c[cResults].UpdateOne(ctx, bson.D{{Key: fID, Value: old.Key}, {Key: fResult.PendingRescoreResultID, Value: p.Result.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: fResult.PendingRescore, Value: ""}}}}); err != nil {
		return store.Result{}, nil, err
	}
	return p.Result, outW, nil
}

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
	q := subtree(bson.D{}, fSession.UnitPath, f.UnitPath)
	q = eq(eq(eq(q, fSession.CampaignID, f.CampaignID), fSession.PersonID, f.PersonID), fSession.State, string(f.State))
	q, err := after(q, fSession.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cSessions], q, byTime(fSession.CreatedAt), p, func(d sessionDoc) (store.Session, store.Cursor) {
		return d.Session, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) SetSessionToken(ctx context.Context, sid string, hash []byte) error {
	res, err := db.c[cSessions].UpdateOne(ctx, append(id(sid), bson.E{Key: fSession.State, Value: string(store.SessionOpen)}),
		bson.D{{Key: "$set", Value: bson.D{{Key: fSession.TokenHash, Value: hash}}}})
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
	res, err := db.c[cSessions].UpdateOne(ctx, bson.D{{Key: fID, Value: sessionID}, {Key: fSession.State, Value: string(store.SessionOpen)}, {Key: fSession.Pending, Value: nil}},
		bson.D{{Key: "$max", Value: bson.D{{Key: fSession.LastActiveAt, Value: last}}}})
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
			_, err := db.c[cAnswers].ReplaceOne(ctx, bson.D{{Key: fID, Value: k}, {Key: fAnswer.Seq, Value: bson.D{{Key: "$lt", Value: a.Seq}}}},
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
	cur, err := db.c[cAnswers].Find(ctx, bson.D{{Key: fAnswer.SessionID, Value: sessionID}}, options.Find().SetSort(bson.D{{Key: fAnswer.Item, Value: 1}}))
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
	filter := bson.D{{Key: fSession.State, Value: string(store.SessionOpen)}, {Key: fSession.LastActiveAt, Value: bson.D{{Key: "$gte", Value: store.Millis(from)}, {Key: "$lt", Value: store.Millis(before)}}}}
	cur, err := db.c[cSessions].Find(ctx, filter, options.Find().SetSort(bson.D{{Key: fSession.LastActiveAt, Value: 1}, {Key: fID, Value: 1}}).SetLimit(int64(limit)))
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
	filter := bson.D{{Key: fSession.PersonID, Value: ""}, {Key: fSession.State, Value: bson.D{{Key: "$ne", Value: string(store.SessionPurged)}}},
		{Key: fSession.LastActiveAt, Value: bson.D{{Key: "$lt", Value: store.Millis(before)}}}}
	cur, err := db.c[cSessions].Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: fID, Value: 1}, {Key: fSession.WarningID, Value: 1}}))
	if err != nil {
		return 0, err
	}
	var ids []sessionDoc
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
			bson.D{{Key: "$set", Value: bson.D{{Key: fSession.State, Value: string(store.SessionPurged)}, {Key: fSession.TokenHash, Value: nil}}}})
		if err != nil {
			return n, err
		}
		if _, err := db.c[cAnswers].DeleteMany(ctx, bson.D{{Key: fAnswer.SessionID, Value: s.Key}}); err != nil {
			return n, err
		}
		n += int(res.ModifiedCount)
	}
	return n, nil
}

func (db *DB) GetResult(ctx context.Context, rid string) (store.Result, error) {
	d, err := get[resultDoc](ctx, db.c[cResults], id(rid), "result", rid)
	return d.Result, err
}

func (db *DB) ListResults(ctx context.Context, f store.ResultFilter, p store.Page) ([]store.Result, string, error) {
	q := subtree(bson.D{}, fResult.UnitPath, f.UnitPath)
	q = eq(eq(eq(eq(q, fResult.CampaignID, f.CampaignID), fResult.PersonID, f.PersonID), fResult.SessionID, f.SessionID), fResult.Instrument, f.Instrument)
	q = timeRange(q, fResult.CreatedAt, f.From, f.To)
	if !f.WithSuperseded {
		q = append(q, current...)
	}
	q, err := after(q, fResult.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cResults], q, byTime(fResult.CreatedAt), p, func(d resultDoc) (store.Result, store.Cursor) {
		return d.Result, cursor(d.CreatedAt, d.Key)
	})
}

// current matches results that no rescoring replaced; documents written
// before rescoring existed lack the field, which matches null.
var current = bson.D{{Key: fResult.SupersededBy, Value: bson.D{{Key: "$in", Value: bson.A{nil, ""}}}}}
