-- The answer log: every saved answer is appended here first, in the order
-- the writer saved it, and moved into answers (keyed by session and item)
-- later, a whole session at a time (see answerlog.go). Its key is the
-- rowid, so a batch of answers to many sessions fills a page or two at the
-- end of the table instead of dirtying one answers page per session. No
-- index and no foreign key: nothing reads it by session (the writer keeps
-- what it holds in memory), and the move into answers checks the session.
-- AUTOINCREMENT: a rowid is never reused, even after the log has been
-- emptied (by an erasure, or by another process opening the store), because
-- the writer drops the log's prefix below the oldest answer still waiting.
CREATE TABLE answer_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id TEXT NOT NULL,
	item       TEXT NOT NULL,
	value      REAL NOT NULL,
	seq        INTEGER NOT NULL,
	at         INTEGER NOT NULL
);
