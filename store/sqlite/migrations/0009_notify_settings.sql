-- Per-unit notification settings (issue 16): a unit's robot and webhook
-- endpoints, its on-duty contacts (值班表) and its level-2/3 policy.
-- Addresses and secrets are sealed above the backend (BLOB ciphertext).
CREATE TABLE notify_settings (
  unit_id TEXT PRIMARY KEY REFERENCES units(id),
  unit_path TEXT NOT NULL,
  policy TEXT NOT NULL DEFAULT '{}',
  unclaimed_after_ms INTEGER NOT NULL DEFAULT 0,
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX notify_settings_path ON notify_settings(unit_path);

CREATE TABLE notify_endpoints (
  unit_id TEXT NOT NULL REFERENCES notify_settings(unit_id) ON DELETE CASCADE,
  channel TEXT NOT NULL,
  address BLOB,
  secret BLOB,
  PRIMARY KEY (unit_id, channel)
);

CREATE TABLE notify_contacts (
  unit_id TEXT NOT NULL REFERENCES notify_settings(unit_id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  pos INTEGER NOT NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  address BLOB,
  locale TEXT NOT NULL DEFAULT '',
  always INTEGER NOT NULL DEFAULT 0,
  duty TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (unit_id, id)
);
