-- Console sign-ins: one row per signed-in browser, keyed by the hash of its token.
CREATE TABLE logins (
	id         TEXT PRIMARY KEY,
	staff_id   TEXT NOT NULL REFERENCES staff(id),
	csrf       TEXT NOT NULL,
	ip         TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX logins_staff ON logins(staff_id);
