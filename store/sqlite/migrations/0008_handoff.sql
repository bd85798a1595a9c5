-- The warm hand-off: call-back requests filed on queue entries, the
-- consultation slots units publish, and residents' bookings. Phone numbers
-- and notes are sealed above the store (BLOB).

CREATE TABLE callbacks (
	id              TEXT PRIMARY KEY,
	session_id      TEXT NOT NULL REFERENCES sessions(id),
	person_id       TEXT NOT NULL,
	warning_id      TEXT NOT NULL REFERENCES warnings(id),
	unit_id         TEXT NOT NULL,
	unit_path       TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	phone           BLOB,
	note            BLOB,
	preferred_from  INTEGER NOT NULL,
	preferred_to    INTEGER NOT NULL,
	consent         INTEGER NOT NULL,
	consent_version TEXT NOT NULL,
	state           TEXT NOT NULL,
	called_at       INTEGER NOT NULL,
	actor_id        TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	version         INTEGER NOT NULL,
	UNIQUE (session_id, seq)
);
CREATE INDEX callbacks_warning ON callbacks(warning_id, created_at, id);
CREATE INDEX callbacks_person ON callbacks(person_id, created_at, id);
CREATE INDEX callbacks_path ON callbacks(unit_path, created_at, id);
CREATE INDEX callbacks_called ON callbacks(called_at) WHERE called_at > 0;

CREATE TABLE slots (
	id         TEXT PRIMARY KEY,
	unit_id    TEXT NOT NULL REFERENCES units(id),
	unit_path  TEXT NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL,
	capacity   INTEGER NOT NULL,
	booked     INTEGER NOT NULL,
	location   TEXT NOT NULL,
	closed     INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CHECK (booked >= 0 AND booked <= capacity)
);
CREATE INDEX slots_path ON slots(unit_path, starts_at, id);
CREATE INDEX slots_time ON slots(starts_at, id);

CREATE TABLE bookings (
	id         TEXT PRIMARY KEY,
	slot_id    TEXT NOT NULL REFERENCES slots(id),
	unit_id    TEXT NOT NULL,
	unit_path  TEXT NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL,
	phone      BLOB,
	person_id  TEXT NOT NULL,
	session_id TEXT NOT NULL,
	case_id    TEXT NOT NULL,
	state      TEXT NOT NULL,
	actor_id   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version    INTEGER NOT NULL
);
CREATE INDEX bookings_path ON bookings(unit_path, starts_at, id);
CREATE INDEX bookings_slot ON bookings(slot_id);
CREATE INDEX bookings_person ON bookings(person_id, starts_at, id);
