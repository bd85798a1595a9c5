-- Rescoring with a corrected instrument version keeps the old result and
-- links the new one to it; lists and counts read only current results.
ALTER TABLE results ADD COLUMN supersedes TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN rescored_at INTEGER NOT NULL DEFAULT 0;
