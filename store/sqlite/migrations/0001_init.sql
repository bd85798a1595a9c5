-- Times are INTEGER unix milliseconds (0 = unset). JSON columns hold small
-- lists and maps that are read whole and never queried inside.

CREATE TABLE units (
	id         TEXT PRIMARY KEY,
	parent_id  TEXT REFERENCES units(id),
	kind       TEXT NOT NULL,
	name       TEXT NOT NULL,
	path       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE staff (
	id            TEXT PRIMARY KEY,
	login         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	unit_id       TEXT NOT NULL REFERENCES units(id),
	unit_path     TEXT NOT NULL,
	password_hash BLOB,
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until  INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	version       INTEGER NOT NULL
);
CREATE INDEX staff_path ON staff(unit_path, created_at, id);

CREATE TABLE persons (
	id               TEXT PRIMARY KEY,
	unit_id          TEXT REFERENCES units(id),
	unit_path        TEXT NOT NULL,
	school_id        TEXT NOT NULL,
	student_no_index TEXT NOT NULL,
	name             BLOB,
	phone            BLOB,
	student_no       BLOB,
	sex              TEXT NOT NULL,
	birth_month      TEXT NOT NULL,
	age              INTEGER NOT NULL,
	anonymised       INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	version          INTEGER NOT NULL
);
CREATE UNIQUE INDEX persons_roster ON persons(school_id, student_no_index) WHERE student_no_index <> '';
CREATE INDEX persons_path ON persons(unit_path, created_at, id);

CREATE TABLE identities (
	kind       TEXT NOT NULL,
	key        TEXT NOT NULL,
	person_id  TEXT NOT NULL REFERENCES persons(id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE sessions (
	id             TEXT PRIMARY KEY,
	token_hash     BLOB,
	person_id      TEXT NOT NULL,
	campaign_id    TEXT NOT NULL,
	access_code    TEXT NOT NULL,
	unit_id        TEXT NOT NULL,
	unit_path      TEXT NOT NULL,
	follow_up_of   TEXT NOT NULL,
	instruments    TEXT NOT NULL,
	sex            TEXT NOT NULL,
	age            INTEGER NOT NULL,
	consent        INTEGER NOT NULL,
	locale         TEXT NOT NULL,
	state          TEXT NOT NULL,
	warning_id     TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	last_active_at INTEGER NOT NULL,
	submitted_at   INTEGER NOT NULL
);
CREATE INDEX sessions_campaign ON sessions(campaign_id, created_at, id);
CREATE INDEX sessions_person ON sessions(person_id, created_at, id);
CREATE INDEX sessions_path ON sessions(unit_path, created_at, id);
CREATE INDEX sessions_idle ON sessions(last_active_at) WHERE person_id = '' AND state <> 'purged';

CREATE TABLE answers (
	session_id TEXT NOT NULL REFERENCES sessions(id),
	item       TEXT NOT NULL,
	value      REAL NOT NULL,
	seq        INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	PRIMARY KEY (session_id, item)
) WITHOUT ROWID;

CREATE TABLE results (
	id           TEXT PRIMARY KEY,
	session_id   TEXT NOT NULL REFERENCES sessions(id),
	person_id    TEXT NOT NULL,
	campaign_id  TEXT NOT NULL,
	unit_id      TEXT NOT NULL,
	unit_path    TEXT NOT NULL,
	instrument   TEXT NOT NULL,
	version      TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	scores       TEXT NOT NULL,
	bands        TEXT NOT NULL,
	flags        TEXT NOT NULL,
	payload      BLOB,
	created_at   INTEGER NOT NULL
);
CREATE INDEX results_session ON results(session_id);
CREATE INDEX results_person ON results(person_id, created_at, id);
CREATE INDEX results_campaign ON results(campaign_id, created_at, id);
CREATE INDEX results_path ON results(unit_path, created_at, id);
CREATE INDEX results_time ON results(created_at, id);

CREATE TABLE warnings (
	id          TEXT PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,
	person_id   TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	result_ids  TEXT NOT NULL,
	unit_id     TEXT NOT NULL,
	unit_path   TEXT NOT NULL,
	level       INTEGER NOT NULL,
	reasons     TEXT NOT NULL,
	state       TEXT NOT NULL,
	assignee_id TEXT NOT NULL,
	lease_until INTEGER NOT NULL,
	due_at      INTEGER NOT NULL,
	escalations INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	version     INTEGER NOT NULL
);
CREATE INDEX warnings_queue ON warnings(level, created_at, id);
CREATE INDEX warnings_path ON warnings(unit_path, level, created_at);
CREATE INDEX warnings_due ON warnings(state, due_at);
CREATE INDEX warnings_person ON warnings(person_id);
CREATE INDEX warnings_session ON warnings(session_id);

CREATE TABLE warning_events (
	warning_id TEXT NOT NULL REFERENCES warnings(id),
	seq        INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	actor_id   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	note       TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	unit_id    TEXT NOT NULL,
	PRIMARY KEY (warning_id, seq)
) WITHOUT ROWID;

CREATE TABLE cases (
	id              TEXT PRIMARY KEY,
	person_id       TEXT NOT NULL REFERENCES persons(id),
	warning_id      TEXT NOT NULL,
	unit_id         TEXT NOT NULL REFERENCES units(id),
	unit_path       TEXT NOT NULL,
	counsellor_id   TEXT NOT NULL,
	self_evaluation BLOB,
	life_events     BLOB,
	other_problems  BLOB,
	advice          BLOB,
	group_notified  INTEGER NOT NULL,
	at              INTEGER NOT NULL,
	closed          INTEGER NOT NULL,
	closed_at       INTEGER NOT NULL,
	outcome         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	version         INTEGER NOT NULL
);
CREATE INDEX cases_path ON cases(unit_path, created_at, id);
CREATE INDEX cases_person ON cases(person_id, created_at, id);
CREATE INDEX cases_warning ON cases(warning_id);

CREATE TABLE referrals (
	id             TEXT PRIMARY KEY,
	warning_id     TEXT NOT NULL REFERENCES warnings(id),
	person_id      TEXT NOT NULL,
	from_unit_id   TEXT NOT NULL,
	from_unit_path TEXT NOT NULL,
	to_unit_id     TEXT NOT NULL REFERENCES units(id),
	to_unit_path   TEXT NOT NULL,
	sender_id      TEXT NOT NULL,
	note           BLOB,
	state          TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);
CREATE INDEX referrals_to ON referrals(to_unit_path, created_at, id);
CREATE INDEX referrals_from ON referrals(from_unit_path, created_at, id);
CREATE INDEX referrals_warning ON referrals(warning_id);

CREATE TABLE campaigns (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	unit_id    TEXT NOT NULL REFERENCES units(id),
	unit_path  TEXT NOT NULL,
	unit_ids   TEXT NOT NULL,
	battery    TEXT NOT NULL,
	mode       TEXT NOT NULL,
	visibility TEXT NOT NULL,
	state      TEXT NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version    INTEGER NOT NULL
);
CREATE INDEX campaigns_path ON campaigns(unit_path, created_at, id);

CREATE TABLE access_codes (
	code        TEXT PRIMARY KEY,
	campaign_id TEXT NOT NULL REFERENCES campaigns(id),
	person_id   TEXT NOT NULL,
	unit_id     TEXT NOT NULL,
	unit_path   TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_codes_campaign ON access_codes(campaign_id, created_at, code);

CREATE TABLE instruments (
	id           TEXT NOT NULL,
	version      TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	source       BLOB,
	state        TEXT NOT NULL,
	unit_id      TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	published_at INTEGER NOT NULL,
	PRIMARY KEY (id, version)
);

CREATE TABLE audit (
	id          TEXT PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_kind TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	unit_path   TEXT NOT NULL,
	ip          TEXT NOT NULL,
	detail      TEXT NOT NULL
);
CREATE INDEX audit_time ON audit(at, id);
CREATE INDEX audit_actor ON audit(actor_id, at, id);
CREATE INDEX audit_target ON audit(target_id, at, id);
-- Append-only is enforced by the database too, not only by the interface.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

CREATE TABLE activities (
	id         TEXT PRIMARY KEY,
	unit_id    TEXT NOT NULL REFERENCES units(id),
	unit_path  TEXT NOT NULL,
	date       INTEGER NOT NULL,
	type       TEXT NOT NULL,
	reached    INTEGER NOT NULL,
	materials  INTEGER NOT NULL,
	note       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX activities_path ON activities(unit_path, date, id);
