-- A one-time password (first admin, reset) must be replaced at the next sign-in.
ALTER TABLE staff ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
