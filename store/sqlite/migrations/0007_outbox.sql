-- The notification outbox (issue 16): what the on-duty staff are owed,
-- written in the same transaction as the queue change that owes it.
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  warning_id TEXT NOT NULL DEFAULT '',
  unit_id TEXT NOT NULL DEFAULT '',
  unit_path TEXT NOT NULL DEFAULT '',
  level INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER NOT NULL DEFAULT 0,
  parent_id TEXT NOT NULL DEFAULT '',
  contact_id TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  not_before INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sent_at INTEGER NOT NULL DEFAULT 0
);
-- Pending ones by due time: what a dispatcher claims.
CREATE INDEX notifications_due ON notifications(state, not_before, id);
CREATE INDEX notifications_warning ON notifications(warning_id, created_at, id);
CREATE INDEX notifications_parent ON notifications(parent_id, created_at, id);
CREATE INDEX notifications_unit ON notifications(unit_path, created_at, id);
