package sqlite

import (
	"context"
	"database/sql"

	"xinling/store"
)

const auditCols = "id, at, actor_id, action, target_kind, target_id, unit_path, ip, detail"

func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Action == "" {
		return invalid("audit entry needs an action")
	}
	if e.ID == "" {
		e.ID = store.NewID()
	}
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO audit("+auditCols+") VALUES (?,?,?,?,?,?,?,?,?)",
			e.ID, ms(store.Millis(e.At)), e.ActorID, e.Action, e.TargetKind, e.TargetID, e.UnitPath, e.IP, e.Detail)
		return mapErr(err)
	})
}

func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEntry, string, error) {
	var w where
	w.eq("actor_id", f.ActorID)
	w.eq("target_kind", f.TargetKind)
	w.eq("target_id", f.TargetID)
	w.eq("action", f.Action)
	w.timeRange("at", f.From, f.To)
	if err := w.after("at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+auditCols+" FROM audit", &w, "at, id", p,
		func(r *sql.Rows) (store.AuditEntry, store.Cursor, error) {
			var e store.AuditEntry
			var at int64
			err := r.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.TargetKind, &e.TargetID, &e.UnitPath, &e.IP, &e.Detail)
			e.At = tm(at)
			return e, store.Cursor{At: at, ID: e.ID}, err
		})
}
