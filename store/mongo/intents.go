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
//
// The writes live with their areas: Submit and RescoreResult in
// sessions.go, ReferWarning in cases.go, CreateAccessCodes in
// campaigns.go, CreateCallback and BookSlot in handoff.go. This file holds
// what they share: the step names that fault injection stops at, and
// FinishInterrupted.

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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

// FinishInterrupted completes, or for unpublished code batches removes,
// every intent recorded before now-grace. Intents are few (only a crash
// leaves one behind), and each is found through a sparse index.
func (db *DB) FinishInterrupted(ctx context.Context, now time.Time, grace time.Duration) (int, error) {
	before := store.Millis(now.Add(-grace))
	touch := store.Millis(now)
	n := 0
	sessions, err := findAll[sessionDoc](ctx, db.c[cSessions], bson.D{{Key: fSession.PendingAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, s := range sessions {
		if s.State != store.SessionOpen {
			// Purged (erased) before the submit finished: nothing to publish.
			if _, err := db.c[cSessions].UpdateOne(ctx, id(s.Key), bson.D{{Key: "$unset", Value: bson.D{{Key: fSession.Pending, Value: ""}}}}); err != nil {
				return n, err
			}
			continue
		}
		if _, err := db.finishSubmit(ctx, s, touch); err != nil {
			return n, fmt.Errorf("finishing the submit of session %s: %w", s.Key, err)
		}
		n++
	}
	warnings, err := findAll[warningDoc](ctx, db.c[cWarnings], bson.D{{Key: fWarning.PendingReferralCreatedAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, w := range warnings {
		if err := db.finishReferral(ctx, w.Key, *w.PendingReferral); err != nil {
			return n, fmt.Errorf("finishing the referral of entry %s: %w", w.Key, err)
		}
		n++
	}
	results, err := findAll[resultDoc](ctx, db.c[cResults], bson.D{{Key: fResult.PendingRescoreAt, Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return n, err
	}
	for _, r := range results {
		if _, _, err := db.finishRescore(ctx, r, touch); err != nil {
			return n, fmt.Errorf("finishing the rescoring of result %s: %w", r.Key, err)
		}
		n++
	}
	codes, err := findAll[codeDoc](ctx, db.c[cCodes], bson.D{{Key: fCode.Batch, Value: bson.D{{Key: "$gt", Value: ""}}},
		{Key: fCode.CreatedAt, Value: bson.D{{Key: "$lt", Value: before}}}})
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
		of := bson.D{{Key: fCode.Batch, Value: c.Batch}}
		if ok {
			_, err = db.c[cCodes].UpdateMany(ctx, of, bson.D{{Key: "$unset", Value: bson.D{{Key: fCode.Batch, Value: ""}}}})
		} else {
			_, err = db.c[cCodes].DeleteMany(ctx, of)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	h, err := db.finishHandoff(ctx, before)
	return n + h, err
}

func findAll[D any](ctx context.Context, c *mongo.Collection, filter bson.D) ([]D, error) {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return nil, err
	}
	var docs []D
	return docs, cur.All(ctx, &docs)
}
