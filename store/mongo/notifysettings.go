package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

// A unit's notification settings are one document, keyed by the unit, with
// its endpoints and contacts inside: a PUT replaces it in one write,
// conditioned on its version.

const cNotifySettings = "notify_settings"

type notifySettingsDoc struct {
	Key                  string `bson:"_id"`
	store.NotifySettings `bson:",inline"`
}

func (db *DB) GetNotifySettings(ctx context.Context, unitID string) (store.NotifySettings, error) {
	d, err := get[notifySettingsDoc](ctx, db.c[cNotifySettings], id(unitID), "notification settings of unit", unitID)
	return d.NotifySettings, err
}

func (db *DB) ListNotifySettings(ctx context.Context, path string) ([]store.NotifySettings, error) {
	cur, err := db.c[cNotifySettings].Find(ctx, subtree(bson.D{}, fNotifySettings.UnitPath, path),
		options.Find().SetSort(bson.D{{Key: fNotifySettings.UnitPath, Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []notifySettingsDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.NotifySettings, len(docs))
	for i, d := range docs {
		out[i] = d.NotifySettings
	}
	return out, nil
}

func (db *DB) PutNotifySettings(ctx context.Context, s store.NotifySettings) (store.NotifySettings, error) {
	if err := s.Check(); err != nil {
		return s, err
	}
	old := s.Version
	s.Endpoints = append([]store.NotifyEndpoint(nil), s.Endpoints...)
	s.SortEndpoints()
	path, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	s.UnitPath, s.Version, s.UpdatedAt = path, old+1, store.Millis(s.UpdatedAt)
	doc := notifySettingsDoc{Key: s.UnitID, NotifySettings: s}
	if old == 0 {
		// The first settings of the unit: the unique _id lets one of two
		// concurrent first writers win.
		if _, err := db.c[cNotifySettings].InsertOne(ctx, doc); err != nil {
			s.Version = old
			if mongo.IsDuplicateKeyError(err) {
				return s, fmt.Errorf("%w: the notification settings of unit %s changed since read", store.ErrConflict, s.UnitID)
			}
			return s, err
		}
		return s, nil
	}
	err = db.replaceVersioned(ctx, cNotifySettings, s.UnitID, old, doc, "notification settings of unit")
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("%w: unit %s has no notification settings of version %d", store.ErrConflict, s.UnitID, old)
	}
	if err != nil {
		s.Version = old
	}
	return s, err
}

// AppendWarningEvent pushes the event without touching the version, under
// the fence of the entry's current version, so that on FerretDB (whose
// updates read and then write) it never races a move of the entry: a
// mover from that version waits for it, and one that moved first changes
// the version, and this push tries again.
func (db *DB) AppendWarningEvent(ctx context.Context, wid string, e store.WarningEvent) error {
	if e.Kind == "" || e.At.IsZero() {
		return invalid("a history event needs a kind and a time")
	}
	e.At = store.Millis(e.At)
	for i := 0; i < maxCASRetries; i++ {
		d, err := get[warningDoc](ctx, db.c[cWarnings], id(wid), "warning", wid)
		if err != nil {
			return err
		}
		v := d.Version
		res, err := db.fencedUpdate(ctx, cWarnings, wid, version(v), bson.D{{Key: fID, Value: wid}, {Key: fVersion, Value: v}},
			bson.D{{Key: "$push", Value: bson.D{{Key: fWarning.History, Value: e}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w: warning %s is too contended", store.ErrConflict, wid)
}
