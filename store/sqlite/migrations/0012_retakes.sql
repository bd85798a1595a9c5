-- A retake code (issue 17) names the invalid result it was issued for.
ALTER TABLE access_codes ADD COLUMN retake_of TEXT NOT NULL DEFAULT '';
