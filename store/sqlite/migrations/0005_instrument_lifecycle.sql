-- Custom instruments: a permission to edit them, and published versions
-- that can be retired or put into the public self-test catalogue.
ALTER TABLE staff ADD COLUMN permissions TEXT NOT NULL DEFAULT '';
ALTER TABLE instruments ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instruments ADD COLUMN retired_at INTEGER NOT NULL DEFAULT 0;
