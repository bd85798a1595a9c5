package mongo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

type notificationDoc struct {
	Key                string `bson:"_id"`
	store.Notification `bson:",inline"`
}

// notificationGroup is the group key of NotificationCounts.
type notificationGroup struct {
	Kind    string `bson:"k"`
	Channel string `bson:"c"`
	State   string `bson:"s"`
}

type notificationCountRow struct {
	ID notificationGroup `bson:"_id"`
	N  int               `bson:"n"`
}

// enqueue inserts the notifications whose id is new; an existing id is
// left as it is, which makes a repeated step of a write harmless.
func (db *DB) enqueue(ctx context.Context, ns ...store.Notification) (int, error) {
	added := 0
	for _, n := range ns {
		if n.ID == "" || n.Kind == "" {
			return added, invalid("notification needs an id and a kind")
		}
		if n.UnitID != "" && n.UnitPath == "" {
			p, err := db.unitPath(ctx, n.UnitID)
			if err != nil {
				return added, err
			}
			n.UnitPath = p
		}
		if n.State == "" {
			n.State = store.NotificationPending
		}
		n.DueAt, n.NotBefore, n.CreatedAt = store.Millis(n.DueAt), store.Millis(n.NotBefore), store.Millis(n.CreatedAt)
		n.UpdatedAt, n.LeaseUntil, n.SentAt = n.CreatedAt, store.Millis(n.LeaseUntil), time.Time{}
		_, err := db.c[cNotifications].InsertOne(ctx, notificationDoc{Key: n.ID, Notification: n})
		switch {
		case err == nil:
			added++
		case !mongo.IsDuplicateKeyError(err):
			return added, err
		}
	}
	return added, nil
}

// owe enqueues the debt of an entry at its current level
// (store.WarningNotification): putWarning's last step.
func (db *DB) owe(ctx context.Context, w store.Warning, at time.Time) error {
	_, err := db.enqueue(ctx, store.WarningNotification(w, at))
	return err
}

func (db *DB) EnqueueNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	return db.enqueue(ctx, ns...)
}

func (db *DB) ClaimNotifications(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]store.Notification, error) {
	if owner == "" {
		return nil, invalid("a claim needs an owner")
	}
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	now, leaseUntil = store.Millis(now), store.Millis(leaseUntil)
	due := bson.D{{Key: fNotification.State, Value: string(store.NotificationPending)},
		{Key: fNotification.NotBefore, Value: bson.D{{Key: "$lte", Value: now}}},
		{Key: fNotification.LeaseUntil, Value: bson.D{{Key: "$lte", Value: now}}}}
	cands, err := db.c[cNotifications].Find(ctx, due, options.Find().SetLimit(int64(limit)).
		SetSort(bson.D{{Key: fNotification.State, Value: 1}, {Key: fNotification.NotBefore, Value: 1}, {Key: fID, Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []notificationDoc
	if err := cands.All(ctx, &docs); err != nil {
		return nil, err
	}
	var out []store.Notification
	for _, d := range docs {
		// The due condition again, on this one document: of two servers
		// that both read it, one moves it and the other matches nothing.
		res, err := db.fencedUpdate(ctx, cNotifications, d.Key, "lease", append(bson.D{{Key: fID, Value: d.Key}}, due...),
			bson.D{{Key: "$set", Value: bson.D{{Key: fNotification.LeaseOwner, Value: owner}, {Key: fNotification.LeaseUntil, Value: leaseUntil},
				{Key: fNotification.UpdatedAt, Value: now}}}, {Key: "$inc", Value: bson.D{{Key: fNotification.Attempts, Value: 1}}}})
		if err != nil {
			return out, err
		}
		if res.MatchedCount == 1 {
			n := d.Notification
			n.LeaseOwner, n.LeaseUntil, n.UpdatedAt, n.Attempts = owner, leaseUntil, now, n.Attempts+1
			out = append(out, n)
		}
	}
	return out, nil
}

func (db *DB) FinishNotification(ctx context.Context, nid, owner string, f store.NotificationFinish) (store.Notification, error) {
	if err := f.Check(); err != nil {
		return store.Notification{}, err
	}
	at := store.Millis(f.At)
	set := bson.D{{Key: fNotification.State, Value: string(f.State)}, {Key: fNotification.LastError, Value: f.Error},
		{Key: fNotification.LeaseOwner, Value: ""}, {Key: fNotification.LeaseUntil, Value: time.Time{}}, {Key: fNotification.UpdatedAt, Value: at}}
	switch f.State {
	case store.NotificationPending:
		set = append(set, bson.E{Key: fNotification.NotBefore, Value: store.Millis(f.NotBefore)})
	case store.NotificationSent:
		set = append(set, bson.E{Key: fNotification.SentAt, Value: at})
	}
	res, err := db.fencedUpdate(ctx, cNotifications, nid, "lease", bson.D{{Key: fID, Value: nid},
		{Key: fNotification.State, Value: string(store.NotificationPending)}, {Key: fNotification.LeaseOwner, Value: owner}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return store.Notification{}, err
	}
	n, err := db.GetNotification(ctx, nid)
	if err != nil {
		return n, err
	}
	if res.MatchedCount == 0 {
		return n, fmt.Errorf("%w: notification %s is held by %q (%s)", store.ErrLeaseHeld, nid, n.LeaseOwner, n.State)
	}
	return n, nil
}

func (db *DB) RequeueNotification(ctx context.Context, nid string, at time.Time) (store.Notification, error) {
	at = store.Millis(at)
	res, err := db.fencedUpdate(ctx, cNotifications, nid, "lease", bson.D{{Key: fID, Value: nid},
		{Key: fNotification.State, Value: string(store.NotificationDead)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fNotification.State, Value: string(store.NotificationPending)},
			{Key: fNotification.NotBefore, Value: at}, {Key: fNotification.Attempts, Value: 0}, {Key: fNotification.UpdatedAt, Value: at},
			{Key: fNotification.LeaseOwner, Value: ""}, {Key: fNotification.LeaseUntil, Value: time.Time{}}}}})
	if err != nil {
		return store.Notification{}, err
	}
	n, err := db.GetNotification(ctx, nid)
	if err != nil {
		return n, err
	}
	if res.MatchedCount == 0 {
		return n, fmt.Errorf("%w: requeue a %s notification", store.ErrInvalidTransition, n.State)
	}
	return n, nil
}

func (db *DB) GetNotification(ctx context.Context, nid string) (store.Notification, error) {
	d, err := get[notificationDoc](ctx, db.c[cNotifications], id(nid), "notification", nid)
	return d.Notification, err
}

func (db *DB) ListNotifications(ctx context.Context, f store.NotificationFilter, p store.Page) ([]store.Notification, string, error) {
	q := subtree(bson.D{}, fNotification.UnitPath, f.UnitPath)
	q = eq(eq(q, fNotification.WarningID, f.WarningID), fNotification.ParentID, f.ParentID)
	q = in(in(q, fNotification.Kind, f.Kinds), fNotification.State, f.States)
	q, err := after(q, fNotification.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cNotifications], q, byTime(fNotification.CreatedAt), p, func(d notificationDoc) (store.Notification, store.Cursor) {
		return d.Notification, cursor(d.CreatedAt, d.Key)
	})
}

func (db *DB) NotificationCounts(ctx context.Context) ([]store.NotificationCount, error) {
	pipe := bson.A{bson.D{{Key: "$group", Value: bson.D{
		{Key: fID, Value: bson.D{{Key: fNotificationGroup.Kind, Value: "$" + fNotification.Kind},
			{Key: fNotificationGroup.Channel, Value: "$" + fNotification.Channel}, {Key: fNotificationGroup.State, Value: "$" + fNotification.State}}},
		{Key: fNotificationN, Value: bson.D{{Key: "$sum", Value: 1}}}}}}}
	cur, err := db.c[cNotifications].Aggregate(ctx, pipe)
	if err != nil {
		return nil, err
	}
	var rows []notificationCountRow
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]store.NotificationCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, store.NotificationCount{Kind: r.ID.Kind, Channel: r.ID.Channel, State: store.NotificationState(r.ID.State), Count: r.N})
	}
	slices.SortFunc(out, func(a, b store.NotificationCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.State, b.State))
	})
	return out, nil
}
