package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Action == "" {
		return invalid("audit entry needs an action")
	}
	if e.ID == "" {
		e.ID = store.NewID()
	}
	e.At = store.Millis(e.At)
	_, err := db.c[cAudit].InsertOne(ctx, auditDoc{Key: e.ID, AuditEntry: e})
	return mapErr(err)
}

func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEntry, string, error) {
	q := eq(eq(eq(eq(bson.D{}, fAudit.ActorID, f.ActorID), fAudit.TargetKind, f.TargetKind), fAudit.TargetID, f.TargetID), fAudit.Action, f.Action)
	q = timeRange(q, fAudit.At, f.From, f.To)
	q, err := after(q, fAudit.At, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cAudit], q, byTime(fAudit.At), p, func(d auditDoc) (store.AuditEntry, store.Cursor) {
		return d.AuditEntry, cursor(d.At, d.Key)
	})
}
