package mongo

// Writes that span documents, as ordered sequences of idempotent
// single-document steps. Each begins by recording its whole intent in one
// document with a conditional update (the decision point: after it the
// outcome is fixed), then writes the other documents with keys taken from
// the intent (so a repeated step collides instead of duplicating), and ends
// with the write that publishes the outcome and clears the intent. Whoever
// finds an intent — a retried call, another server's FinishInterrupted —
// runs the remaining steps with the same keys, so a crash between any two
// steps loses nothing and duplicates nothing. docs/storage.md states the
// rule for each step.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// Step names, for fault injection and for the documentation of the crash
// rules.
const (
	stepSubmitIntent   = "submit: intent recorded on the session"
	stepSubmitWarning  = "submit: queue entry written"
	stepSubmitResults  = "submit: results written"
	stepReferIntent    = "refer: entry moved to referred, referral recorded on it"
	stepReferRecord    = "refer: referral written"
	stepRescoreIntent  = "rescore: old result marked, new one recorded on it"
	stepRescoreResult  = "rescore: new result written"
	stepRescoreWarning = "rescore: queue entry written"
	stepCodesWritten   = "codes: batch written, unpublished"
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
		if s.Pending == nil {
			if err := db.freshResultIDs(ctx, sub.Results); err != nil {
				return store.SubmitOutcome{}, err
			}
			p := &pendingSubmit{At: at, Warning: sub.Warning}
			for _, r := range sub.Results {
				r.SessionID, r.PersonID, r.CampaignID, r.UnitID, r.UnitPath = s.Key, s.PersonID, s.CampaignID, s.UnitID, s.UnitPath
				r.CreatedAt = at
				p.Results = append(p.Results, r)
			}
			res, err := db.fencedUpdate(ctx, cSessions, s.Key, "submit", bson.D{{Key: "_id", Value: s.Key}, {Key: "state", Value: string(store.SessionOpen)},
				{Key: "pending", Value: nil}}, bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: p}}}})
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
		return db.finishSubmit(ctx, s, time.Time{})
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
	n, err := db.c[cResults].CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
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
		var err error
		if warningID, err = db.putWarning(ctx, s.Session, sub, p.At, touch); err != nil {
			return store.SubmitOutcome{}, err
		}
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
	res, err := db.c[cSessions].UpdateOne(ctx, bson.D{{Key: "_id", Value: s.Key}, {Key: "state", Value: string(store.SessionOpen)}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: string(store.SessionSubmitted)}, {Key: "submittedat", Value: p.At}, {Key: "warningid", Value: warningID}}},
		{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}}})
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

// putWarning files a submission's queue entry under its key: a new entry,
// or a merge into the one a chained session opened. It is idempotent: an
// entry that already lists the submission's results (or was opened by its
// session) is left as it is. Merges are compare-and-swap on the version, so
// two servers merging into one entry cannot lose either.
func (db *DB) putWarning(ctx context.Context, s store.Session, sub store.Submission, at, touch time.Time) (string, error) {
	key := store.WarningKey(s, sub)
	for i := 0; i < maxCASRetries; i++ {
		cur, err := get[warningDoc](ctx, db.c[cWarnings], bson.D{{Key: "key", Value: key}}, "warning", key)
		if errors.Is(err, store.ErrNotFound) {
			w := store.NewWarning(s, sub, at)
			w.History = []store.WarningEvent{{At: at, Kind: store.EventCreated, To: store.WarningOpen}}
			if touch.After(w.UpdatedAt) {
				w.UpdatedAt = store.Millis(touch)
			}
			_, err := db.c[cWarnings].InsertOne(ctx, warningDoc{Key: w.ID, Warning: w})
			if mongo.IsDuplicateKeyError(err) {
				continue // filed meanwhile under this key (or this id): read it
			}
			return w.ID, err
		}
		if err != nil {
			return "", err
		}
		if cur.SessionID == s.ID || holdsAny(cur.ResultIDs, sub.Results) {
			return cur.Key, nil
		}
		w := cur.Warning
		w.History = append(w.History, store.MergeWarning(&w, s, sub, at))
		if touch.After(w.UpdatedAt) {
			w.UpdatedAt = store.Millis(touch)
		}
		w.Version = cur.Version + 1
		res, err := db.fencedReplace(ctx, cWarnings, cur.Key, version(cur.Version), bson.D{{Key: "_id", Value: cur.Key}, {Key: "version", Value: cur.Version}},
			warningDoc{Key: cur.Key, Warning: w, PendingReferral: cur.PendingReferral})
		if err != nil {
			return "", mapErr(err)
		}
		if res.MatchedCount == 1 {
			return cur.Key, nil
		}
	}
	return "", fmt.Errorf("%w: queue entry %s is too contended", store.ErrConflict, key)
}

func holdsAny(ids []string, results []store.Result) bool {
	for _, r := range results {
		if slices.Contains(ids, r.ID) {
			return true
		}
	}
	return false
}

func (db *DB) loadSubmission(ctx context.Context, sessionID, warningID string, out *store.SubmitOutcome) error {
	cur, err := db.c[cResults].Find(ctx, bson.D{{Key: "sessionid", Value: sessionID}, {Key: "supersedes", Value: bson.D{{Key: "$in", Value: bson.A{nil, ""}}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
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
	res, err := db.fencedUpdate(ctx, cResults, old.Key, "current", append(bson.D{{Key: "_id", Value: old.Key}}, current...),
		bson.D{{Key: "$set", Value: bson.D{{Key: "supersededby", Value: r.ID}, {Key: "pendingrescore", Value: p}}}})
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
		wid, err := db.putWarning(ctx, s.Session, sub, p.At, touch)
		if err != nil {
			return store.Result{}, nil, err
		}
		w, err := get[warningDoc](ctx, db.c[cWarnings], id(wid), "warning", wid)
		if err != nil {
			return store.Result{}, nil, err
		}
		outW = &w.Warning
	}
	if err := db.step(stepRescoreWarning); err != nil {
		return store.Result{}, nil, err
	}
	if _, err := db.c[cResults].UpdateOne(ctx, bson.D{{Key: "_id", Value: old.Key}, {Key: "pendingrescore.result.id", Value: p.Result.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "pendingrescore", Value: ""}}}}); err != nil {
		return store.Result{}, nil, err
	}
	return p.Result, outW, nil
}

// ReferWarning: (1) move the entry to referred, with its history event and
// the referral recorded on it, in one compare-and-swap; (2) insert the
// referral; (3) clear it from the entry. After step 1 the counsellor sees
// the entry as referred, with the target unit in its history; the
// receiving unit sees the referral once step 2 has run (by this call, or
// by any server's FinishInterrupted).
func (db *DB) ReferWarning(ctx context.Context, warningID string, r store.Referral) (store.Referral, error) {
	if r.ID == "" || r.ToUnitID == "" || r.SenderID == "" {
		return r, invalid("referral needs id, target unit and sender")
	}
	r.CreatedAt = store.Millis(r.CreatedAt)
	r.UpdatedAt, r.State, r.WarningID = r.CreatedAt, store.ReferralSent, warningID
	toPath, err := db.unitPath(ctx, r.ToUnitID)
	if err != nil {
		return r, err
	}
	r.ToUnitPath = toPath
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[warningDoc](ctx, db.c[cWarnings], id(warningID), "warning", warningID)
		if err != nil {
			return r, err
		}
		if d.PendingReferral != nil {
			// An earlier referral's record is still to be written: finish
			// it first, so that it is not lost under this one.
			if err := db.finishReferral(ctx, warningID, *d.PendingReferral); err != nil {
				return r, err
			}
			if d.PendingReferral.ID == r.ID {
				return *d.PendingReferral, nil // our own retry
			}
		}
		w := d.Warning
		from := w.State
		if err := store.ApplyChange(&w, store.WarningChange{ActorID: r.SenderID, To: store.WarningReferred, At: r.CreatedAt}); err != nil {
			return r, err
		}
		r.PersonID, r.FromUnitID, r.FromUnitPath = w.PersonID, w.UnitID, w.UnitPath
		e := store.WarningEvent{At: r.CreatedAt, ActorID: r.SenderID, Kind: store.EventReferred, From: from, To: w.State, UnitID: r.ToUnitID}
		res, err := db.fencedUpdate(ctx, cWarnings, warningID, version(d.Version), bson.D{{Key: "_id", Value: warningID}, {Key: "version", Value: d.Version}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: "state", Value: string(w.State)}, {Key: "updatedat", Value: r.CreatedAt}, {Key: "version", Value: d.Version + 1},
				{Key: "pendingreferral", Value: r}}},
			{Key: "$push", Value: bson.D{{Key: "history", Value: e}}}})
		if err != nil {
			return r, err
		}
		if res.MatchedCount == 0 {
			continue // the entry changed since read: decide again
		}
		if err := db.step(stepReferIntent); err != nil {
			return r, err
		}
		return r, db.finishReferral(ctx, warningID, r)
	}
	return r, fmt.Errorf("%w: warning %s changed during referral", store.ErrConflict, warningID)
}

func (db *DB) finishReferral(ctx context.Context, warningID string, r store.Referral) error {
	if _, err := db.c[cReferrals].InsertOne(ctx, referralDoc{Key: r.ID, Referral: r}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	if err := db.step(stepReferRecord); err != nil {
		return err
	}
	_, err := db.c[cWarnings].UpdateOne(ctx, bson.D{{Key: "_id", Value: warningID}, {Key: "pendingreferral.id", Value: r.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "pendingreferral", Value: ""}}}})
	return err
}

// CreateAccessCodes: (1) insert the codes, tagged with a new batch id,
// which makes them invisible; (2) insert the batch document, which
// publishes them all at once; (3) untag them, so that later reads need not
// look the batch up. A clash on any code (codes are drawn at random) or a
// crash before step 2 leaves only invisible codes, which are deleted here
// or by FinishInterrupted; the caller draws a fresh set, as it would after
// an all-or-nothing refusal.
func (db *DB) CreateAccessCodes(ctx context.Context, codes []store.AccessCode) error {
	if len(codes) == 0 {
		return nil
	}
	for _, c := range codes {
		if c.Code == "" || c.CampaignID == "" || c.UnitID == "" {
			return invalid("access code needs code, campaign and unit")
		}
	}
	campaign := codes[0].CampaignID
	batch := store.NewID()
	docs := make([]any, len(codes))
	paths := map[string]string{}
	for i, c := range codes {
		if _, ok := paths[c.UnitID]; !ok {
			p, err := db.unitPath(ctx, c.UnitID)
			if err != nil {
				return err
			}
			paths[c.UnitID] = p
		}
		if i == 0 || codes[i-1].CampaignID != c.CampaignID {
			if _, err := db.GetCampaign(ctx, c.CampaignID); err != nil {
				return err
			}
		}
		c.UnitPath, c.SessionID, c.CreatedAt = paths[c.UnitID], "", store.Millis(c.CreatedAt)
		docs[i] = codeDoc{Key: c.Code, AccessCode: c, Batch: batch}
	}
	if _, err := db.c[cCodes].InsertMany(ctx, docs); err != nil {
		if _, derr := db.c[cCodes].DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "batch", Value: batch}}); derr != nil {
			return errors.Join(mapErr(err), derr)
		}
		return mapErr(err)
	}
	if err := db.step(stepCodesWritten); err != nil {
		return err
	}
	if _, err := db.c[cBatches].InsertOne(ctx, batchDoc{Key: batch, CampaignID: campaign, CreatedAt: store.Millis(codes[0].CreatedAt)}); err != nil {
		return err
	}
	_, err := db.c[cCodes].UpdateMany(ctx, bson.D{{Key: "batch", Value: batch}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "batch", Value: ""}}}})
	return err
}

// published reports whether a code's batch was published (a code without a
// batch always is).
func (db *DB) published(ctx context.Context, batch string) (bool, error) {
	if batch == "" {
		return true, nil
	}
	n, err := db.c[cBatches].CountDocuments(ctx, id(batch))
	return n > 0, err
}

// visibleCodes filters codes to those whose batch was published.
func (db *DB) visibleCodes(ctx context.Context, docs []codeDoc) ([]codeDoc, error) {
	out := docs[:0]
	known := map[string]bool{}
	for _, d := range docs {
		ok, seen := known[d.Batch]
		if !seen {
			var err error
			if ok, err = db.published(ctx, d.Batch); err != nil {
				return nil, err
			}
			known[d.Batch] = ok
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// FinishInterrupted completes, or for unpublished code batches removes,
// every intent recorded before now-grace. Intents are few (only a crash
// leaves one behind), and each is found through a sparse index.
func (db *DB) FinishInterrupted(ctx context.Context, now time.Time, grace time.Duration) (int, error) {
	before := store.Millis(now.Add(-grace))
	touch := store.Millis(now)
	n := 0
	sessions, err := findAll[sessionDoc](ctx, db.c[cSessions], bson.D{{Key: "pending.at", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, s := range sessions {
		if s.State != store.SessionOpen {
			// Purged (erased) before the submit finished: nothing to publish.
			if _, err := db.c[cSessions].UpdateOne(ctx, id(s.Key), bson.D{{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}}}}); err != nil {
				return n, err
			}
			continue
		}
		if _, err := db.finishSubmit(ctx, s, touch); err != nil {
			return n, fmt.Errorf("finishing the submit of session %s: %w", s.Key, err)
		}
		n++
	}
	warnings, err := findAll[warningDoc](ctx, db.c[cWarnings], bson.D{{Key: "pendingreferral.createdat", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, w := range warnings {
		if err := db.finishReferral(ctx, w.Key, *w.PendingReferral); err != nil {
			return n, fmt.Errorf("finishing the referral of entry %s: %w", w.Key, err)
		}
		n++
	}
	results, err := findAll[resultDoc](ctx, db.c[cResults], bson.D{{Key: "pendingrescore.at", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, r := range results {
		if _, _, err := db.finishRescore(ctx, r, touch); err != nil {
			return n, fmt.Errorf("finishing the rescoring of result %s: %w", r.Key, err)
		}
		n++
	}
	codes, err := findAll[codeDoc](ctx, db.c[cCodes], bson.D{{Key: "batch", Value: bson.D{{Key: "$gt", Value: ""}}},
		{Key: "createdat", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	done := map[string]bool{}
	for _, c := range codes {
		if done[c.Batch] {
			continue
		}
		done[c.Batch] = true
		ok, err := db.published(ctx, c.Batch)
		if err != nil {
			return n, err
		}
		of := bson.D{{Key: "batch", Value: c.Batch}}
		if ok {
			_, err = db.c[cCodes].UpdateMany(ctx, of, bson.D{{Key: "$unset", Value: bson.D{{Key: "batch", Value: ""}}}})
		} else {
			_, err = db.c[cCodes].DeleteMany(ctx, of)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func findAll[D any](ctx context.Context, c *mongo.Collection, filter bson.D) ([]D, error) {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return nil, err
	}
	var docs []D
	return docs, cur.All(ctx, &docs)
}
