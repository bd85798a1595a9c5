-- Why a rostered pupil took no part in a campaign (issue 17), as the
-- school writes it on the group report. The reason is sealed above the
-- backend (BLOB ciphertext); an erasure deletes the person's rows.
CREATE TABLE absences (
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  person_id TEXT NOT NULL REFERENCES persons(id),
  unit_id TEXT NOT NULL,
  unit_path TEXT NOT NULL,
  reason BLOB,
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, person_id)
);
CREATE INDEX absences_campaign_path ON absences(campaign_id, unit_path, person_id);
CREATE INDEX absences_person ON absences(person_id);
