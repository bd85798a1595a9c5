package mongo

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

func noHistory() *options.FindOptionsBuilder {
	return options.Find().SetProjection(bson.D{{Key: fWarning.History, Value: 0}})
}

func (db *DB) GetWarning(ctx context.Context, wid string) (store.Warning, error) {
	d, err := get[warningDoc](ctx, db.c[cWarnings], id(wid), "warning", wid)
	return d.Warning, err
}

func (db *DB) ListWarnings(ctx context.Context, f store.WarningFilter, p store.Page) ([]store.Warning, string, error) {
	q, err := warningFilter(f, p)
	if err != nil {
		return nil, "", err
	}
	n := p.Size()
	cur, err := db.c[cWarnings].Find(ctx, q, noHistory().SetLimit(int64(n+1)).
		SetSort(bson.D{{Key: fWarning.Level, Value: 1}, {Key: fWarning.CreatedAt, Value: 1}, {Key: fID, Value: 1}}))
	if err != nil {
		return nil, "", err
	}
	var docs []warningDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", err
	}
	var out []store.Warning
	for i, d := range docs {
		if i == n {
			l := out[n-1]
			return out, store.Cursor{Level: l.Level, At: l.CreatedAt.UnixMilli(), ID: l.ID}.Encode(), nil
		}
		out = append(out, d.Warning)
	}
	return out, "", nil
}

// moveWarning runs one optimistic read-check-write of an entry. change
// mutates the entry and returns the event to append; the version condition
// makes exactly one of concurrent movers win each round, and the losers
// re-check against the winner's state.
func (db *DB) moveWarning(ctx context.Context, wid string, change func(*store.Warning) (store.WarningEvent, error)) (store.Warning, error) {
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[warningDoc](ctx, db.c[cWarnings], id(wid), "warning", wid)
		if err != nil {
			return store.Warning{}, err
		}
		w := d.Warning
		old := w.Version
		e, err := change(&w)
		if err != nil {
			return store.Warning{}, err
		}
		w.Version, w.UpdatedAt = old+1, e.At
		res, err := db.fencedUpdate(ctx, cWarnings, wid, version(old), bson.D{{Key: fID, Value: wid}, {Key: fVersion, Value: old}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: fWarning.UnitID, Value: w.UnitID}, {Key: fWarning.UnitPath, Value: w.UnitPath}, {Key: fWarning.State, Value: string(w.State)},
				{Key: fWarning.AssigneeID, Value: w.AssigneeID}, {Key: fWarning.LeaseUntil, Value: w.LeaseUntil}, {Key: fWarning.DueAt, Value: w.DueAt},
				{Key: fWarning.Escalations, Value: w.Escalations}, {Key: fWarning.Outcome, Value: w.Outcome}, {Key: fWarning.UpdatedAt, Value: w.UpdatedAt},
				{Key: fVersion, Value: w.Version}}},
			{Key: "$push", Value: bson.D{{Key: fWarning.History, Value: e}}}})
		if err != nil {
			return store.Warning{}, err
		}
		if res.MatchedCount == 1 {
			w.History = append(w.History, e)
			return w, nil
		}
	}
	return store.Warning{}, fmt.Errorf("%w: warning %s is too contended", store.ErrConflict, wid)
}

func (db *DB) ClaimWarning(ctx context.Context, wid, staffID string, at, leaseUntil time.Time) (store.Warning, error) {
	if staffID == "" {
		return store.Warning{}, invalid("claim needs a staff id")
	}
	at, leaseUntil = store.Millis(at), store.Millis(leaseUntil)
	w, err := db.moveWarning(ctx, wid, func(w *store.Warning) (store.WarningEvent, error) {
		if err := store.CheckClaim(*w, staffID, at); err != nil {
			return store.WarningEvent{}, err
		}
		from := w.State
		if w.State == store.WarningOpen {
			w.State = store.WarningClaimed
		}
		w.AssigneeID, w.LeaseUntil = staffID, leaseUntil
		return store.WarningEvent{At: at, ActorID: staffID, Kind: store.EventClaimed, From: from, To: w.State}, nil
	})
	w.History = nil
	return w, err
}

func (db *DB) AssignWarning(ctx context.Context, wid, actorID, assigneeID string, at, leaseUntil time.Time, note string) (store.Warning, error) {
	if assigneeID == "" {
		return store.Warning{}, invalid("assign needs an assignee")
	}
	at, leaseUntil = store.Millis(at), store.Millis(leaseUntil)
	w, err := db.moveWarning(ctx, wid, func(w *store.Warning) (store.WarningEvent, error) {
		from := w.State
		switch w.State {
		case store.WarningOpen:
			w.State = store.WarningClaimed
		case store.WarningClaimed, store.WarningFollowingUp:
		default:
			return store.WarningEvent{}, fmt.Errorf("%w: assign a %s entry", store.ErrInvalidTransition, w.State)
		}
		w.AssigneeID, w.LeaseUntil = assigneeID, leaseUntil
		return store.WarningEvent{At: at, ActorID: actorID, Kind: store.EventAssigned, From: from, To: w.State, Note: note + " → " + assigneeID}, nil
	})
	w.History = nil
	return w, err
}

func (db *DB) TransitionWarning(ctx context.Context, wid string, ch store.WarningChange) (store.Warning, error) {
	ch.At = store.Millis(ch.At)
	w, err := db.moveWarning(ctx, wid, func(w *store.Warning) (store.WarningEvent, error) {
		from := w.State
		if err := store.ApplyChange(w, ch); err != nil {
			return store.WarningEvent{}, err
		}
		return store.WarningEvent{At: ch.At, ActorID: ch.ActorID, Kind: store.EventTransition, From: from, To: w.State, Note: ch.Note, Outcome: ch.Outcome}, nil
	})
	w.History = nil
	return w, err
}

func (db *DB) EscalateWarning(ctx context.Context, wid, toUnitID string, at, newDue time.Time, note string) (store.Warning, error) {
	at, newDue = store.Millis(at), store.Millis(newDue)
	if _, err := db.GetWarning(ctx, wid); err != nil {
		return store.Warning{}, err
	}
	w, err := db.moveWarning(ctx, wid, func(w *store.Warning) (store.WarningEvent, error) {
		if err := store.CheckEscalate(*w, at); err != nil {
			return store.WarningEvent{}, err
		}
		path, err := db.unitPath(ctx, toUnitID)
		if err != nil {
			return store.WarningEvent{}, err
		}
		w.UnitID, w.UnitPath, w.DueAt = toUnitID, path, newDue
		w.Escalations++
		return store.WarningEvent{At: at, Kind: store.EventEscalated, From: w.State, To: w.State, Note: note, UnitID: toUnitID}, nil
	})
	w.History = nil
	return w, err
}

func (db *DB) ScanOverdue(ctx context.Context, now time.Time, limit int) ([]store.Warning, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	return db.findWarnings(ctx, bson.D{{Key: fWarning.State, Value: string(store.WarningOpen)},
		{Key: fWarning.DueAt, Value: bson.D{{Key: "$gt", Value: time.Time{}}, {Key: "$lt", Value: store.Millis(now)}}}}, fWarning.DueAt, limit)
}

// findWarnings reads whole entries (without history) matching filter,
// in order of the time field and then id.
func (db *DB) findWarnings(ctx context.Context, filter bson.D, byTime string, limit int) ([]store.Warning, error) {
	cur, err := db.c[cWarnings].Find(ctx, filter,
		noHistory().SetSort(bson.D{{Key: byTime, Value: 1}, {Key: fID, Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var docs []warningDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.Warning, len(docs))
	for i, d := range docs {
		out[i] = d.Warning
	}
	return out, nil
}

// QueueLevels reads the open entries' level, creation and due times
// through the (state, dueat) index and sums them up here rather than in a
// $group: not every MongoDB-wire server has its $min accumulator
// (FerretDB v1 lacks it). Open entries are the few that wait for someone,
// not the queue's history.
func (db *DB) QueueLevels(ctx context.Context, now time.Time) ([]store.QueueLevel, error) {
	cur, err := db.c[cWarnings].Find(ctx, bson.D{{Key: fWarning.State, Value: string(store.WarningOpen)}},
		options.Find().SetProjection(bson.D{{Key: fWarning.Level, Value: 1}, {Key: fWarning.CreatedAt, Value: 1}, {Key: fWarning.DueAt, Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []warningDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	now = store.Millis(now)
	byLevel := map[int]*store.QueueLevel{}
	for _, d := range docs {
		l := byLevel[d.Level]
		if l == nil {
			l = &store.QueueLevel{Level: d.Level, Oldest: d.CreatedAt.UTC()}
			byLevel[d.Level] = l
		}
		l.Open++
		if d.CreatedAt.Before(l.Oldest) {
			l.Oldest = d.CreatedAt.UTC()
		}
		if !d.DueAt.IsZero() && d.DueAt.Before(now) {
			l.Overdue++
		}
	}
	out := make([]store.QueueLevel, 0, len(byLevel))
	for _, l := range byLevel {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b store.QueueLevel) int { return a.Level - b.Level })
	return out, nil
}

// Referrals.

// Cases.

// WarningsChangedSince is the polling feed of queue changes for servers
// that share this database; the index (updatedat, _id) serves it.
func (db *DB) WarningsChangedSince(ctx context.Context, since time.Time, limit int) ([]store.Warning, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	return db.findWarnings(ctx, bson.D{{Key: fWarning.UpdatedAt, Value: bson.D{{Key: "$gte", Value: store.Millis(since)}}}}, fWarning.UpdatedAt, limit)
}

// putWarning files a submission's queue entry under its key: a new entry,
// or a merge into the one a chained session opened. It is idempotent: an
// entry that already lists the submission's results (or was opened by its
// session) is left as it is. Merges are compare-and-swap on the version, so
// two servers merging into one entry cannot lose either.
func (db *DB) putWarning(ctx context.Context, s store.Session, sub store.Submission, at, touch time.Time) (store.Warning, error) {
	key := store.WarningKey(s, sub)
	for i := 0; i < maxCASRetries; i++ {
		cur, err := get[warningDoc](ctx, db.c[cWarnings], bson.D{{Key: fWarning.Key, Value: key}}, "warning", key)
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
			if err != nil {
				return store.Warning{}, err
			}
			return w, db.owe(ctx, w, at)
		}
		if err != nil {
			return store.Warning{}, err
		}
		if cur.SessionID == s.ID || holdsAny(cur.ResultIDs, sub.Results) {
			// Written before a crash: a late finish moves UpdatedAt (not the
			// version, which no hub has published yet) so the feeds see it.
			if touch.After(cur.UpdatedAt) {
				if _, err := db.c[cWarnings].UpdateOne(ctx, bson.D{{Key: fID, Value: cur.Key}, {Key: fWarning.UpdatedAt, Value: bson.D{{Key: "$lt", Value: store.Millis(touch)}}}},
					bson.D{{Key: "$set", Value: bson.D{{Key: fWarning.UpdatedAt, Value: store.Millis(touch)}}}}); err != nil {
					return store.Warning{}, err
				}
				cur.UpdatedAt = store.Millis(touch)
			}
			// The debt may be what a crash left unwritten.
			return cur.Warning, db.owe(ctx, cur.Warning, at)
		}
		w := cur.Warning
		w.History = append(w.History, store.MergeWarning(&w, s, sub, at))
		if touch.After(w.UpdatedAt) {
			w.UpdatedAt = store.Millis(touch)
		}
		w.Version = cur.Version + 1
		res, err := db.fencedReplace(ctx, cWarnings, cur.Key, version(cur.Version), bson.D{{Key: fID, Value: cur.Key}, {Key: fVersion, Value: cur.Version}},
			warningDoc{Key: cur.Key, Warning: w, PendingReferral: cur.PendingReferral})
		if err != nil {
			return store.Warning{}, mapErr(err)
		}
		if res.MatchedCount == 1 {
			return w, db.owe(ctx, w, at)
		}
	}
	return store.Warning{}, fmt.Errorf("%w: queue entry %s is too contended", store.ErrConflict, key)
}

func holdsAny(ids []string, results []store.Result) bool {
	for _, r := range results {
		if slices.Contains(ids, r.ID) {
			return true
		}
	}
	return false
}
