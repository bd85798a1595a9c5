-- Case conferences (研判) and parent meetings (家校沟通) about a person
-- (issue 17). Attendees, what was agreed and the notes are sealed above
-- the store (BLOB); the decision is a code.

CREATE TABLE meetings (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	person_id  TEXT NOT NULL REFERENCES persons(id),
	case_id    TEXT NOT NULL,
	warning_id TEXT NOT NULL,
	unit_id    TEXT NOT NULL REFERENCES units(id),
	unit_path  TEXT NOT NULL,
	date       INTEGER NOT NULL,
	attendees  BLOB,
	decision   TEXT NOT NULL,
	agreed     BLOB,
	notes      BLOB,
	author_id  TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX meetings_person ON meetings(person_id, date, id);
CREATE INDEX meetings_case ON meetings(case_id, date, id) WHERE case_id <> '';
CREATE INDEX meetings_path ON meetings(unit_path, date, id);
