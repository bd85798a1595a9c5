-- A booking's keyed blind index of its phone number (issue 16): a retried
-- booking finds the place it already holds, and one number is limited in
-- how many upcoming places it may take. Bookings made before this have
-- none; they are upcoming for a few weeks at most.
ALTER TABLE bookings ADD COLUMN phone_index TEXT NOT NULL DEFAULT '';
CREATE INDEX bookings_phone ON bookings(phone_index, starts_at, id);
