-- Retakes and follow-up screenings (issue 17): a retake code names the
-- invalid result it was issued for, and a follow-up campaign the campaign
-- whose focus list it re-tests.
ALTER TABLE access_codes ADD COLUMN retake_of TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN follow_up_of TEXT NOT NULL DEFAULT '';
